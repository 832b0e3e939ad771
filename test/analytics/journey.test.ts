/**
 * Analyst access end to end on edge cases: the small journey in ./journey.ts (a person who never
 * bought, a bounced address, a profile made by an SMS STOP and merged by phone, SendGrid as a first
 * channel, three checkouts) goes through the local hub as signed vendor webhooks; `omnihub export`
 * (Parquet and CSV) and `omnihub sql` read the hub, and each example query of docs/analytics.md must
 * give the journey's hand-worked answer. The same queries on the demo's data, with answers derived
 * from demo/truth.ts, are in ./demo.test.ts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalyticsSession, type QueryResult } from '../../analytics/duckdb.ts';
import { exampleQueries } from '../../analytics/examples.ts';
import { tables } from '../../analytics/schema.ts';
import type { CliIo } from '../../cli/command.ts';
import { main } from '../../cli/main.ts';
import { generateWebhookKeys, signWebhook } from '../../demo/vendor-webhooks.ts';
import { type LocalHub, startLocalHub } from '../../local/hub.ts';
import { journey } from './journey.ts';

interface Captured extends CliIo {
  readonly stdout: string[];
  readonly stderr: string[];
}

function captureIo(): Captured {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (text) => stdout.push(text),
    err: (text) => stderr.push(text),
    interactive: false,
    env: {},
  };
}

let hub: LocalHub;
let workDir: string;
let session: AnalyticsSession;

beforeAll(async () => {
  const keys = generateWebhookKeys('https://hooks.example.com');
  hub = await startLocalHub({
    port: 0,
    dataDir: ':memory:',
    env: { ...keys.secrets, OMNIHUB_PUBLIC_URL: keys.publicUrl },
    log: () => {},
  });
  for (const webhook of journey) {
    const request = signWebhook(webhook, keys);
    const response = await fetch(`${hub.url}${request.path}`, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
    });
    expect(response.status, `${webhook.connector}: ${await response.clone().text()}`).toBe(200);
    // Deliveries arrive one after another, as a person's journey does.
    await hub.drain();
  }
  workDir = mkdtempSync(join(tmpdir(), 'omnihub-analytics-'));
  const io = captureIo();
  expect(
    await main(['export', '--out', join(workDir, 'parquet'), '--api', hub.url], io),
    io.stderr.join('\n'),
  ).toBe(0);
  session = await AnalyticsSession.open(join(workDir, 'parquet'), 'parquet');
}, 120_000);

afterAll(async () => {
  session?.close();
  await hub?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

function objects(result: QueryResult): Record<string, unknown>[] {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((name, i) => [name, row[i]])));
}

/** The journey's truth, worked out by hand from the table at the top of ./journey.ts. */
const truth: Record<string, Record<string, unknown>[]> = {
  'cross-channel-customers': [
    { buys: 'online only', customers: 2 }, // Bob, Cleo
    { buys: 'in store only', customers: 1 }, // Dan
    { buys: 'online and in store', customers: 1 }, // Ada
  ],
  'ltv-by-first-channel': [
    // Ada 23.00 + 199.00, Dan 40.00
    {
      first_channel: 'square',
      customers: 2,
      buyers: 2,
      currency: 'USD',
      lifetime_value_minor: 26200,
      per_customer: 131,
    },
    // Bob 50.00 (his merged STOP profile adds no order), Cleo 75.00
    {
      first_channel: 'shopify',
      customers: 2,
      buyers: 2,
      currency: 'USD',
      lifetime_value_minor: 12500,
      per_customer: 62.5,
    },
    // Eve never bought
    {
      first_channel: 'sendgrid',
      customers: 1,
      buyers: 0,
      currency: null,
      lifetime_value_minor: 0,
      per_customer: 0,
    },
  ],
  'consent-rate-by-source': [
    // Bob subscribed, Cleo unsubscribed through SendGrid
    { source: 'shopify', people: 2, subscribed: 1, opted_out_or_undeliverable: 1, consent_rate: 0.5 },
    // Ada subscribed on Shopify, Dan never said
    { source: 'square', people: 2, subscribed: 1, opted_out_or_undeliverable: 0, consent_rate: 0.5 },
    // Eve's address bounced
    { source: 'sendgrid', people: 1, subscribed: 0, opted_out_or_undeliverable: 1, consent_rate: 0 },
  ],
  // Bob's order named his email (his Shopify profile) and his phone, which led to the profile his
  // STOP made: that profile was merged, by phone.
  'merges-by-reason': [{ reason: 'phone', linked_by: 'shopify', merges: 1 }],
  // Checkouts A (Ada) and C (Cleo) became orders; Bob's 120.00 checkout was abandoned.
  'checkout-conversion': [
    { currency: 'USD', checkouts: 3, converted: 2, conversion_rate: 0.667, abandoned_value_minor: 12000 },
  ],
};

describe('Analytics: the example queries on the edge-case journey', () => {
  it.each(exampleQueries.map((query) => [query.id, query] as const))(
    '%s gives the known answer',
    async (id, query) => {
      expect(objects(await session.query(query.sql))).toEqual(truth[id]);
    },
  );

  it('has a known answer for every example, and five examples', () => {
    expect(Object.keys(truth).sort()).toEqual(exampleQueries.map((query) => query.id).sort());
    expect(exampleQueries).toHaveLength(5);
  });

  it('counts people, not merged redirects or identity pointers', async () => {
    const [people] = (await session.query('SELECT count(*) AS n FROM profiles')).rows;
    expect(people).toEqual([5]);
    const merges = objects(await session.query('SELECT merged_profile_id FROM merges'));
    expect(merges).toHaveLength(1);
    const stillThere = await session.query(
      `SELECT count(*) FROM profiles WHERE profile_id = '${String(merges[0]?.merged_profile_id)}'`,
    );
    expect(stillThere.rows).toEqual([[0]]);
    // The merged STOP profile's identity now belongs to Bob's live profile.
    const bob = objects(
      await session.query(
        "SELECT i.profile_id, p.sms_consent, p.merged_count FROM identities i JOIN profiles p ON p.profile_id = i.profile_id WHERE i.identity_key = 'phone:+14155550102'",
      ),
    );
    expect(bob).toEqual([
      { profile_id: expect.stringMatching(/^p_/), sms_consent: 'unsubscribed', merged_count: 1 },
    ]);
  });

  it('exports every canonical event the bus carried, flattened', async () => {
    const archive = (await (await fetch(`${hub.url}/local/events?limit=1000`)).json()) as { count: number };
    const [count] = (await session.query('SELECT count(*) FROM events')).rows;
    expect(count).toEqual([archive.count]);
    const order = objects(
      await session.query(
        "SELECT connector, channel, amount, currency, occurred_at FROM events WHERE type = 'order.placed' AND order_id = 'ORDDAN0000000004'",
      ),
    );
    expect(order).toEqual([
      {
        connector: 'square',
        channel: 'pos',
        amount: 4000,
        currency: 'USD',
        occurred_at: '2025-03-04 16:10:00',
      },
    ]);
  });
});

describe('CLI: omnihub export', () => {
  it('writes one Parquet file per table and a manifest', () => {
    const dir = join(workDir, 'parquet');
    for (const table of tables) expect(existsSync(join(dir, `${table.name}.parquet`))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
      format: string;
      tables: Record<string, { rows: number }>;
      warnings: string[];
    };
    expect(manifest.format).toBe('parquet');
    expect(manifest.tables.profiles?.rows).toBe(5);
    expect(manifest.tables.merges?.rows).toBe(1);
    expect(manifest.warnings).toEqual([]);
  });

  it('writes CSV that reads back to the same answers', async () => {
    const io = captureIo();
    const dir = join(workDir, 'csv');
    expect(await main(['export', '--format', 'csv', '--out', dir, '--api', hub.url], io)).toBe(0);
    expect(io.stdout.join('\n')).toMatch(/profiles\s+5 rows/);
    // Not on a terminal: one plain progress line per step, with how far it got, and no bar.
    expect(io.stderr.join('\n')).toMatch(/^profile items \d+$/m);
    expect(io.stderr.join('\n')).not.toContain('[');
    expect(readFileSync(join(dir, 'consent.csv'), 'utf8').split('\n')[0]).toBe(
      'profile_id,channel,scope,status,reason,source,updated_at',
    );
    const csv = await AnalyticsSession.open(dir, 'csv');
    try {
      for (const query of exampleQueries) {
        expect(objects(await csv.query(query.sql))).toEqual(truth[query.id]);
      }
    } finally {
      csv.close();
    }
  });

  it.each([
    [['--format', 'xml'], '--format must be parquet or csv'],
    [['--api', 'https://abc.execute-api.eu-west-1.amazonaws.com'], 'is not a local hub'],
    [['--bogus'], "Unknown option '--bogus'"],
  ])('answers %j with usage (exit 2)', async (args, message) => {
    const io = captureIo();
    expect(await main(['export', ...args], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain(message);
  });

  it('says when the hub is not running (exit 1)', async () => {
    const io = captureIo();
    expect(await main(['export', '--out', join(workDir, 'none'), '--api', 'http://127.0.0.1:9'], io)).toBe(1);
    expect(io.stderr.join('\n')).toContain('cannot reach the local hub at http://127.0.0.1:9');
  });
});

describe('CLI: omnihub sql', () => {
  it('prints a table over a fresh export', async () => {
    const io = captureIo();
    const code = await main(
      [
        'sql',
        'SELECT first_channel, count(*) AS people FROM profiles GROUP BY first_channel ORDER BY people DESC, first_channel',
        '--api',
        hub.url,
      ],
      io,
    );
    expect(code, io.stderr.join('\n')).toBe(0);
    expect(io.stdout.join('\n')).toBe(
      [
        'first_channel  people',
        '-------------  ------',
        'shopify             2',
        'square              2',
        'sendgrid            1',
        '(3 rows)',
      ].join('\n'),
    );
    // A script reading stdout gets no progress lines on stderr.
    expect(io.stderr).toEqual([]);
  });

  it('prints JSON and CSV for scripts', async () => {
    const json = captureIo();
    expect(
      await main(
        [
          'sql',
          'SELECT count(*) AS people, max(order_count) AS most FROM profiles',
          '--json',
          '--api',
          hub.url,
        ],
        json,
      ),
    ).toBe(0);
    expect(JSON.parse(json.stdout.join(''))).toEqual([{ people: 5, most: 2 }]);

    const csv = captureIo();
    expect(
      await main(
        [
          'sql',
          'SELECT reason, \'a,"b"\' AS quoted FROM merges',
          '--csv',
          '--from',
          join(workDir, 'parquet'),
        ],
        csv,
      ),
    ).toBe(0);
    expect(csv.stdout.join('')).toBe('reason,quoted\r\nphone,"a,""b"""');
  });

  it('reports a SQL mistake as DuckDB words it (exit 1)', async () => {
    const io = captureIo();
    expect(await main(['sql', 'SELECT nope FROM profiles', '--from', join(workDir, 'parquet')], io)).toBe(1);
    expect(io.stderr.join('\n')).toMatch(/omnihub sql: .*nope/);
  });

  it.each([
    [[], 'give exactly one query'],
    [['SELECT 1', '--json', '--csv'], '--json and --csv exclude each other'],
    [['SELECT 1', '--from', '/nonexistent-export'], 'no manifest.json there'],
  ])('answers %j with usage (exit 2)', async (args, message) => {
    const io = captureIo();
    expect(await main(['sql', ...args], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain(message);
  });
});
