/**
 * The example queries of docs/analytics.md, run on the demo: starts an in-memory local hub, posts the
 * demo's journey (`demo/journey.ts`) signed as each vendor signs it, exports the hub exactly as
 * `omnihub export` does, and runs every query of `analytics/examples.ts` in DuckDB.
 *
 *   npx tsx scripts/analytics-examples.ts           # prints the markdown of each example
 *   npx tsx scripts/analytics-examples.ts --write   # replaces the result tables in docs/analytics.md
 *
 * `--write` changes only the table right below each query's SQL block; the prose around it is written
 * by hand. test/analytics/demo.test.ts fails when a table in the docs differs from what this prints.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AnalyticsSession } from '../analytics/duckdb.ts';
import { type ExampleQuery, exampleQueries, markdownTable } from '../analytics/examples.ts';
import { exportLocalHub } from '../analytics/export.ts';
import { buildJourney } from '../demo/journey.ts';
import { postJourney } from '../demo/post.ts';
import { generateWebhookKeys } from '../demo/vendor-webhooks.ts';
import { startLocalHub } from '../local/hub.ts';

const DOC = new URL('../docs/analytics.md', import.meta.url);
const PUBLIC_URL = 'https://hooks.northwind.example';

const USAGE = `Usage: npx tsx scripts/analytics-examples.ts [--write]

Runs the example queries of docs/analytics.md on the demo's journey (an in-memory local hub) and
prints each one with its result as markdown.

  --write   replace the result table below each query in docs/analytics.md instead`;

interface ExampleResult {
  readonly query: ExampleQuery;
  /** The result as docs/analytics.md shows it. */
  readonly table: string;
}

/** Every example query's result on the demo, from a fresh in-memory hub. */
async function runOnDemo(): Promise<ExampleResult[]> {
  const keys = generateWebhookKeys(PUBLIC_URL);
  const hub = await startLocalHub({
    port: 0,
    dataDir: ':memory:',
    env: {
      ...keys.secrets,
      OMNIHUB_PUBLIC_URL: PUBLIC_URL,
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR',
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
    log: () => {},
  });
  const dir = mkdtempSync(join(tmpdir(), 'omnihub-examples-'));
  try {
    const results = await postJourney({
      hubUrl: hub.url,
      keys,
      journey: buildJourney(),
      settle: () => hub.drain({ timeoutMs: 60_000 }),
    });
    const refused = results.filter((result) => result.status < 200 || result.status > 299);
    if (refused.length > 0) {
      throw new Error(
        `the hub refused ${refused.length} demo webhooks: ${refused.map((r) => `${r.step.story}: ${r.status} ${r.body}`).join('; ')}`,
      );
    }
    const exported = await exportLocalHub({ hubUrl: hub.url, dir, format: 'parquet' });
    if (exported.warnings.length > 0) throw new Error(`export warnings: ${exported.warnings.join('; ')}`);
    const session = await AnalyticsSession.open(dir, 'parquet');
    try {
      const answers: ExampleResult[] = [];
      for (const query of exampleQueries)
        answers.push({ query, table: markdownTable(await session.query(query.sql)) });
      return answers;
    } finally {
      session.close();
    }
  } finally {
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const sqlBlock = (query: ExampleQuery) => `\`\`\`sql\n${query.sql}\n\`\`\``;

/**
 * The docs with each example's SQL block and the result table right below it replaced (the table is
 * inserted when there is none). An example's section is found by its heading, `### <n>. <title>`.
 */
function withResults(doc: string, results: readonly ExampleResult[]): string {
  let text = doc;
  for (const { query, table } of results) {
    const heading = text
      .split('\n')
      .find((line) => /^### \d+\. /.test(line) && line.slice(line.indexOf('. ') + 2) === query.title);
    if (!heading) throw new Error(`docs/analytics.md has no section "### <n>. ${query.title}"`);
    const sectionStart = text.indexOf(`${heading}\n`) + heading.length + 1;
    // The SQL block, then optionally a blank line and a run of `|` lines: the result table.
    const found = /```sql\n[\s\S]*?\n```(?:\n\n(?:\|[^\n]*(?:\n|$))+)?/.exec(text.slice(sectionStart));
    if (!found) throw new Error(`docs/analytics.md: "${query.title}" has no \`\`\`sql block`);
    // Keep the line break after the table only when there was one (a table at the end of the file).
    const replacement = `${sqlBlock(query)}\n\n${table}${found[0].endsWith('\n') ? '\n' : ''}`;
    const from = sectionStart + found.index;
    const to = from + found[0].length;
    text = `${text.slice(0, from)}${replacement}${text.slice(to)}`;
  }
  return text;
}

function markdownOf(results: readonly ExampleResult[]): string {
  return results
    .map(
      ({ query, table }, index) =>
        `### ${index + 1}. ${query.title}\n\n${query.question}\n\n${sqlBlock(query)}\n\n${table}\n`,
    )
    .join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      write: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const results = await runOnDemo();
  if (!values.write) {
    process.stdout.write(markdownOf(results));
    return 0;
  }
  const before = readFileSync(DOC, 'utf8');
  const after = withResults(before, results);
  if (after === before) {
    process.stdout.write('docs/analytics.md already shows the demo results.\n');
  } else {
    writeFileSync(DOC, after);
    process.stdout.write('docs/analytics.md: result tables updated; review the prose around them.\n');
  }
  return 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(
    `analytics-examples failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
}
