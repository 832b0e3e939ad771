/**
 * The example queries of docs/analytics.md on the demo's data: the demo journey (`demo/journey.ts`)
 * goes through an in-memory local hub as signed vendor webhooks, `omnihub export` writes the tables,
 * DuckDB runs each query, and every answer must equal the one derived from the journey's known
 * truth (`demo/truth.ts`): nothing below is typed in, it is all computed from the journey's events.
 * The result tables printed in docs/analytics.md must be these answers (refresh them with
 * `npx tsx scripts/analytics-examples.ts --write`).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalyticsSession, type QueryResult } from '../../analytics/duckdb.ts';
import { exampleQueries, markdownTable } from '../../analytics/examples.ts';
import type { CliIo } from '../../cli/command.ts';
import { main } from '../../cli/main.ts';
import { identityKey } from '../../core/identity/identity.ts';
import type { JourneyTruth, PersonTruth } from '../../demo/truth.ts';
import type { LocalHub } from '../../local/hub.ts';
import { refusedDeliveries, runDemoOnLocalHub } from '../support/demo-hub.ts';

type Row = Record<string, string | number | boolean | null>;

let hub: LocalHub;
let workDir: string;
let session: AnalyticsSession;
let truth: JourneyTruth;

beforeAll(async () => {
  const run = await runDemoOnLocalHub();
  ({ hub, truth } = run);
  expect(refusedDeliveries(run.results)).toEqual([]);

  workDir = mkdtempSync(join(tmpdir(), 'omnihub-analytics-demo-'));
  const stderr: string[] = [];
  const io: CliIo = {
    out: () => {},
    err: (text) => stderr.push(text),
    interactive: false,
    env: {},
  };
  expect(await main(['export', '--out', workDir, '--api', hub.url], io), stderr.join('\n')).toBe(0);
  session = await AnalyticsSession.open(workDir, 'parquet');
}, 120_000);

afterAll(async () => {
  session?.close();
  await hub?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

function objects(result: QueryResult): Row[] {
  return result.rows.map((row) =>
    Object.fromEntries(result.columns.map((name, i) => [name, row[i] ?? null])),
  );
}

/** ORDER BY as SQL does it on these columns: ascending text in byte order, NULL last. */
function ascending(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

/** SQL `round(x, digits)` for the non-negative values these queries divide. */
const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(keyOf(item), (counts.get(keyOf(item)) ?? 0) + 1);
  return counts;
}

const emailStatus = (person: PersonTruth) => person.consent.email.status;

/**
 * Each example's answer, worked out from the journey's truth by the question the example asks,
 * in the order its ORDER BY gives.
 */
function expectedAnswers(known: JourneyTruth): Record<string, Row[]> {
  const buyers = known.people.filter((person) => person.orderChannels.length > 0);
  const buys = (person: PersonTruth) => {
    const online = person.orderChannels.includes('online');
    const pos = person.orderChannels.includes('pos');
    return online && pos ? 'online and in store' : online ? 'online only' : 'in store only';
  };
  const crossChannel = [...countBy(buyers, buys)]
    .map(([label, customers]) => ({ buys: label, customers }))
    .sort((a, b) => b.customers - a.customers || ascending(a.buys, b.buys));

  // LEFT JOIN orders: a person counts once in each currency they bought in, or once with no currency.
  const ltv = new Map<
    string,
    { channel: string; currency: string | null; people: number; buyers: number; value: number }
  >();
  for (const person of known.people) {
    const currencies = Object.entries(person.stats.lifetimeValue);
    const groups: [string | null, number][] = currencies.length > 0 ? currencies : [[null, 0]];
    for (const [currency, value] of groups) {
      const key = `${person.firstChannel}/${currency}`;
      const group = ltv.get(key) ?? {
        channel: person.firstChannel,
        currency,
        people: 0,
        buyers: 0,
        value: 0,
      };
      group.people++;
      if (currency !== null) group.buyers++;
      group.value += value;
      ltv.set(key, group);
    }
  }
  const lifetimeValue = [...ltv.values()]
    .sort((a, b) => b.value - a.value || ascending(a.channel, b.channel) || ascending(a.currency, b.currency))
    .map((group) => ({
      first_channel: group.channel,
      customers: group.people,
      buyers: group.buyers,
      currency: group.currency,
      lifetime_value_minor: group.value,
      per_customer: round(group.value / group.people / 100, 2),
    }));

  const sources = [...new Set(known.people.map((person) => person.firstChannel))];
  const consent = sources
    .map((source) => {
      const brought = known.people.filter((person) => person.firstChannel === source);
      const subscribed = brought.filter((person) => emailStatus(person) === 'subscribed').length;
      return {
        source,
        people: brought.length,
        subscribed,
        opted_out_or_undeliverable: brought.filter((person) =>
          ['unsubscribed', 'undeliverable'].includes(emailStatus(person)),
        ).length,
        consent_rate: round(subscribed / brought.length, 3),
      };
    })
    .sort((a, b) => b.consent_rate - a.consent_rate || ascending(a.source, b.source));

  const merges = known.people.flatMap((person) => person.merges);
  for (const merge of merges) {
    // The writer records one of the identities that led to the merged profile: the reason is known
    // only when they are all of one kind. A journey where it is not cannot be checked this way.
    expect(merge.reasons, `merge reason of "${merge.story}"`).toHaveLength(1);
  }
  const mergesByReason = [...countBy(merges, (merge) => JSON.stringify([merge.reasons[0], merge.connector]))]
    .map(([key, count]) => {
      const [reason, linkedBy] = JSON.parse(key) as [string, string];
      return { reason, linked_by: linkedBy, merges: count };
    })
    .sort(
      (a, b) => b.merges - a.merges || ascending(a.reason, b.reason) || ascending(a.linked_by, b.linked_by),
    );

  const checkouts = Object.entries(known.totals.checkouts.byCurrency)
    .map(([currency, counts]) => ({
      currency,
      checkouts: counts.started,
      converted: counts.completed,
      conversion_rate: round(counts.completed / counts.started, 3),
      abandoned_value_minor: counts.abandonedValue,
    }))
    .sort((a, b) => b.checkouts - a.checkouts || ascending(a.currency, b.currency));

  return {
    'cross-channel-customers': crossChannel,
    'ltv-by-first-channel': lifetimeValue,
    'consent-rate-by-source': consent,
    'merges-by-reason': mergesByReason,
    'checkout-conversion': checkouts,
  };
}

/** `2025-06-05T14:12:00.000Z` as a TIMESTAMP column reads back. */
const asTimestamp = (iso: string) => iso.slice(0, 19).replace('T', ' ');

describe('Analytics: the example queries on the demo data', () => {
  it('has a derived answer for each of the five examples', () => {
    expect(Object.keys(expectedAnswers(truth)).sort()).toEqual(
      exampleQueries.map((query) => query.id).sort(),
    );
    expect(exampleQueries).toHaveLength(5);
  });

  it.each(exampleQueries.map((query) => [query.id, query] as const))(
    '%s gives the answer derived from demo/truth.ts',
    async (id, query) => {
      const expected = expectedAnswers(truth)[id];
      expect(expected?.length, `${id}: the demo must give this example something to count`).toBeGreaterThan(
        0,
      );
      expect(objects(await session.query(query.sql))).toEqual(expected);
    },
  );

  it('has one profile row per person, with the first channel and first-seen time the truth derives', async () => {
    const [count] = (await session.query('SELECT count(*) FROM profiles')).rows;
    expect(count).toEqual([truth.totals.people]);
    for (const person of truth.people) {
      const rows = objects(
        await session.query(
          `SELECT p.first_channel, p.first_seen_at, p.email_consent, p.merged_count
           FROM identities i JOIN profiles p ON p.profile_id = i.profile_id
           WHERE i.identity_key = '${identityKey(person.lookup).replaceAll("'", "''")}'`,
        ),
      );
      expect(rows, person.name).toEqual([
        {
          first_channel: person.firstChannel,
          first_seen_at: person.firstSeenAt ? asTimestamp(person.firstSeenAt) : null,
          email_consent: person.consent.email.status,
          merged_count: person.merges.length,
        },
      ]);
    }
  });

  it('records each merge on an identity of the linking event that led to the merged profile', async () => {
    const rows = objects(
      await session.query(
        'SELECT m.identity_key, m.reason, e.connector FROM merges m LEFT JOIN events e ON e.event_id = m.event_id ORDER BY m.merged_at',
      ),
    );
    const merges = truth.people.flatMap((person) => person.merges);
    expect(rows).toHaveLength(truth.totals.merges);
    for (const row of rows) {
      const merge = merges.find((candidate) => candidate.mergedBy.includes(String(row.identity_key)));
      expect(merge, `merge on ${String(row.identity_key)}`).toBeDefined();
      expect(row.connector).toBe(merge?.connector);
      expect(merge?.reasons).toContain(row.reason);
    }
  });

  it('is what docs/analytics.md shows below each query', async () => {
    const doc = readFileSync(new URL('../../docs/analytics.md', import.meta.url), 'utf8');
    for (const query of exampleQueries) {
      const table = markdownTable(await session.query(query.sql));
      expect(doc, `${query.id}: run npx tsx scripts/analytics-examples.ts --write`).toContain(
        `\`\`\`sql\n${query.sql}\n\`\`\`\n\n${table}\n`,
      );
    }
  });
});
