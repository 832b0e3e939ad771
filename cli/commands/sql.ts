/**
 * `omnihub sql "SELECT ..." [--json|--csv] [--api url] [--from dir]`: DuckDB over a fresh export of
 * the local hub, with the views analysts query in Athena too (docs/analytics.md).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AnalyticsSession, type ExportFormat, type QueryResult } from '../../analytics/duckdb.ts';
import { exportLocalHub } from '../../analytics/export.ts';
import { formatCsv, formatJson } from '../../analytics/output.ts';
import { asUsageError, type CliCommand, UsageError } from '../command.ts';
import { ProgressBar, renderTable } from '../format.ts';
import { API_HELP, API_OPTIONS } from '../hub-client.ts';
import { localHubUrl, parseFormat } from './export.ts';

const USAGE = `Usage:
  omnihub sql "<query>" [--json | --csv] [--api <url>] [--from <dir>]

Exports the running local hub to a temporary folder and runs the query with DuckDB over the views
profiles, identities, events, orders, consent, merges (and profile_orders). The same queries run on
Athena in AWS; the columns and five example queries are in docs/analytics.md.

Options:
  --json        print an array of objects
  --csv         print CSV with a header row
  --api <url>   ${API_HELP}; it must be a local hub
  --from <dir>  query an existing export (omnihub export --out <dir>) instead of a fresh one

Examples:
  npx omnihub sql "SELECT first_channel, count(*) AS people FROM profiles GROUP BY 1"
  npx omnihub sql "SELECT * FROM merges" --json`;

/** A result as a table for people: `NULL` for nulls, numeric columns to the right, the row count below. */
export function formatResultTable(result: QueryResult): string {
  const numeric = result.columns.map((_name, index) =>
    result.rows.every((row) => row[index] === null || typeof row[index] === 'number'),
  );
  const count = `(${result.rows.length} ${result.rows.length === 1 ? 'row' : 'rows'})`;
  const table = renderTable(
    result.rows.map((row) => row.map((value) => (value === null ? 'NULL' : String(value)))),
    result.columns,
    numeric.map((right) => (right ? 'right' : 'left')),
  );
  return `${table}\n${count}`;
}

function formatOf(dir: string): ExportFormat {
  let manifest: { format?: string };
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { format?: string };
  } catch {
    throw new UsageError(`--from ${dir}: no manifest.json there; is it an \`omnihub export\` folder?`);
  }
  return parseFormat(manifest.format);
}

export const sqlCommand: CliCommand = {
  name: 'sql',
  summary: 'Run SQL (DuckDB) over a fresh export of the local hub',
  usage: USAGE,
  async run(args, io) {
    let parsed: {
      values: { json?: boolean; csv?: boolean; api?: string; hub?: string; from?: string };
      positionals: string[];
    };
    try {
      parsed = parseArgs({
        args: [...args],
        options: {
          json: { type: 'boolean' },
          csv: { type: 'boolean' },
          ...API_OPTIONS,
          from: { type: 'string' },
        },
        strict: true,
        allowPositionals: true,
      });
    } catch (error) {
      throw asUsageError(error);
    }
    const { values, positionals } = parsed;
    if (positionals.length !== 1 || positionals[0]?.trim() === '') {
      throw new UsageError('give exactly one query, quoted');
    }
    if (values.json && values.csv) throw new UsageError('--json and --csv exclude each other');
    const query = positionals[0] ?? '';

    let dir = values.from;
    let format: ExportFormat = 'parquet';
    let temporary: string | undefined;
    if (dir) format = formatOf(dir);
    else {
      const hubUrl = localHubUrl(values, io);
      temporary = mkdtempSync(join(tmpdir(), 'omnihub-sql-'));
      dir = temporary;
      // Scripts read stdout; the progress bar is only for a person at a terminal.
      const progress = io.interactive ? new ProgressBar(io) : undefined;
      const result = await exportLocalHub({
        hubUrl,
        dir,
        format,
        ...(progress
          ? {
              progress: (step: string, done: number, total?: number) =>
                progress.update(step, { done, total }),
            }
          : {}),
      });
      progress?.clear();
      for (const warning of result.warnings) io.err(`warning: ${warning}`);
    }
    try {
      const session = await AnalyticsSession.open(dir, format);
      try {
        const result = await session.query(query);
        io.out(values.json ? formatJson(result) : values.csv ? formatCsv(result) : formatResultTable(result));
      } finally {
        session.close();
      }
    } finally {
      if (temporary) rmSync(temporary, { recursive: true, force: true });
    }
    return 0;
  },
};
