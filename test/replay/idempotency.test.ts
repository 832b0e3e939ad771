/**
 * Replay is harmless: the demo's journey (28 signed webhooks from all five vendors, merges included)
 * goes through a real local hub whose four sync destinations have credentials and call the fake vendor
 * APIs (connectors/<id>/fake-api.ts); then `omnihub replay` (through cli/main.ts) sends the whole
 * archive again to every consumer. The replayed events really reach the queues (counted while the
 * consumers are paused), and once consumed they change nothing: profiles and sync state are as they
 * were item for item, every identity leads to the same profile, every timeline reads the same through
 * the profile API, no event is published (no new profile.updated or profile.merged, nothing archived),
 * and no call a vendor accepted is made again.
 *
 * Known and tolerated, and pinned so that nothing else slips through:
 * - the writer records a timeline entry under the profile that is live when it applies the event, so
 *   an event replayed after a merge is written a second time under the survivor; the reader shows it
 *   once (core/profile/reader.ts);
 * - an identity pointer still naming a merged profile is moved to the survivor (same owner);
 * - a delivery the vendor refused (the demo's vendor ids are unknown to the fakes: 404) is not
 *   remembered, so the replay tries it again, and it is refused again.
 */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../cli/command.ts';
import { main } from '../../cli/main.ts';
import { FakeHubSpot } from '../../connectors/hubspot/fake-api.ts';
import { FakeSendGrid } from '../../connectors/sendgrid/fake-api.ts';
import { FakeShopify } from '../../connectors/shopify/fake-api.ts';
import { FakeSquare } from '../../connectors/square/fake-api.ts';
import { buildJourney } from '../../demo/journey.ts';
import { type DeliveryResult, postJourney } from '../../demo/post.ts';
import { generateWebhookKeys } from '../../demo/vendor-webhooks.ts';
import type { EventBridgeEvent } from '../../local/eventbridge/event.ts';
import { compileEventPattern } from '../../local/eventbridge/pattern.ts';
import { type LocalHub, startLocalHub } from '../../local/hub.ts';
import { clearAwsAndOmnihubEnvironment } from '../local/support/environment.ts';
import type { FakeVendor, RecordedRequest } from '../support/fake-vendor.ts';

const PUBLIC_URL = 'https://hooks.northwind.example';
const NOW = new Date('2025-06-10T12:00:00Z');

const vendors = {
  hubspot: new FakeHubSpot('hs-token'),
  shopify: new FakeShopify('shpat-token'),
  square: new FakeSquare('sq-token'),
  sendgrid: new FakeSendGrid('SG.key'),
} satisfies Record<string, FakeVendor>;

interface Snapshot {
  readonly tables: Record<string, unknown[]>;
  /** Every live profile's whole timeline, as `GET /profiles/{id}/events` pages it. */
  readonly timelines: Record<string, unknown[]>;
  readonly archive: EventBridgeEvent[];
  readonly vendorRequests: Record<string, RecordedRequest[]>;
  /** What each fake vendor holds (contacts, customers, suppressions). */
  readonly vendorState: string;
  /** Per sync destination, the profiles whose deliveries its dead-letter queue holds. */
  readonly deadLettered: Record<string, string[]>;
}

type Item = Record<string, { S?: string }>;

function sortKeyOf(item: unknown): string {
  return (item as Item).sk?.S ?? '';
}

let hub: LocalHub;
let results: DeliveryResult[];
let before: Snapshot;
let queued: Record<string, number>;
let expectedDeliveries: Record<string, number>;
let after: Snapshot;
let exitCode: number;
const out: string[] = [];
const err: string[] = [];

/** Every item of a table, in a stable order. */
async function scan(dynamo: DynamoDBClient, table: string): Promise<unknown[]> {
  const items: unknown[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.send(
      new ScanCommand({ TableName: table, ...(start ? { ExclusiveStartKey: start as never } : {}) }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items
    .map((item) => JSON.stringify(canonical(item)))
    .sort()
    .map((text) => JSON.parse(text) as unknown);
}

/** The value with object keys sorted at every level, so equal items serialise equally. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
  );
}

async function timelineOf(profileId: string): Promise<unknown[]> {
  const entries: unknown[] = [];
  let cursor: string | undefined;
  do {
    const url = new URL(`/profiles/${encodeURIComponent(profileId)}/events`, hub.url);
    url.searchParams.set('limit', '7');
    if (cursor) url.searchParams.set('cursor', cursor);
    const page = (await (await fetch(url)).json()) as { events: unknown[]; nextCursor?: string };
    entries.push(...page.events);
    cursor = page.nextCursor;
  } while (cursor);
  return entries;
}

async function snapshot(): Promise<Snapshot> {
  const dynamo = new DynamoDBClient({
    endpoint: hub.dynamoDbUrl,
    region: hub.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const tables: Record<string, unknown[]> = {};
    for (const table of hub.topology.tables) tables[table.id] = await scan(dynamo, table.id);
    const timelines: Record<string, unknown[]> = {};
    for (const item of tables.profiles ?? []) {
      const { sk, status, profileId } = item as Item;
      if (sk?.S === 'P' && status?.S === 'live' && profileId?.S)
        timelines[profileId.S] = await timelineOf(profileId.S);
    }
    const archive = (await (await fetch(`${hub.url}/local/events?limit=1000`)).json()) as {
      events: { event: EventBridgeEvent }[];
      truncated: boolean;
    };
    expect(archive.truncated).toBe(false);
    const vendorRequests = Object.fromEntries(
      Object.entries(vendors).map(([id, vendor]) => [id, vendor.requests.map((request) => ({ ...request }))]),
    );
    const vendorState = JSON.stringify(
      canonical({
        hubspot: [...vendors.hubspot.contacts.entries()],
        shopify: [...vendors.shopify.customers.entries()],
        square: [...vendors.square.customers.entries()],
        sendgrid: [
          [...vendors.sendgrid.contacts.entries()],
          [...vendors.sendgrid.globalSuppressions],
          [...vendors.sendgrid.groupSuppressions.entries()].map(([group, emails]) => [group, [...emails]]),
        ],
      }),
    );
    const deadLettered: Record<string, string[]> = {};
    for (const destination of Object.keys(vendors)) {
      const lines: string[] = [];
      const io: CliIo = { out: (text) => lines.push(text), err: () => {}, interactive: false, env: {} };
      expect(await main(['dlq', 'list', destination, '--json', '--api', hub.url], io)).toBe(0);
      deadLettered[destination] = [
        ...new Set(
          lines.map((line) => {
            const { data } = (
              JSON.parse(JSON.parse(line).body) as { detail: { data: Record<string, string> } }
            ).detail;
            return data.profileId ?? data.survivor ?? '?';
          }),
        ),
      ].sort();
    }
    return {
      tables,
      timelines,
      archive: archive.events.map((item) => item.event),
      vendorRequests,
      vendorState,
      deadLettered,
    };
  } finally {
    dynamo.destroy();
  }
}

beforeAll(async () => {
  clearAwsAndOmnihubEnvironment();
  await Promise.all(Object.values(vendors).map((vendor) => vendor.start()));
  const keys = generateWebhookKeys(PUBLIC_URL);
  hub = await startLocalHub({
    port: 0,
    dataDir: ':memory:',
    env: {
      ...keys.secrets,
      OMNIHUB_PUBLIC_URL: PUBLIC_URL,
      HUBSPOT_ACCESS_TOKEN: 'hs-token',
      HUBSPOT_API_URL: vendors.hubspot.url,
      SHOPIFY_ADMIN_TOKEN: 'shpat-token',
      SHOPIFY_SHOP_DOMAIN: 'omnihub-demo.myshopify.com',
      SHOPIFY_API_URL: vendors.shopify.apiUrl,
      SQUARE_ACCESS_TOKEN: 'sq-token',
      SQUARE_API_URL: vendors.square.url,
      SENDGRID_API_KEY: 'SG.key',
      SENDGRID_API_URL: vendors.sendgrid.url,
    },
    log: () => {},
  });
  results = await postJourney({
    hubUrl: hub.url,
    keys,
    journey: buildJourney(NOW),
    settle: () => hub.drain({ timeoutMs: 30_000 }),
  });
  await hub.drain({ timeoutMs: 30_000 });
  before = await snapshot();

  // What each consumer's rule takes from the archive: what the replay must put in its queue.
  expectedDeliveries = Object.fromEntries(
    hub.topology.consumers.map((consumer) => {
      const matches = compileEventPattern(consumer.pattern);
      return [consumer.id, before.archive.filter((event) => matches(event)).length];
    }),
  );

  hub.pauseConsumers();
  const io: CliIo = {
    out: (text) => out.push(text),
    err: (text) => err.push(text),
    interactive: false,
    env: {},
  };
  exitCode = await main(['replay', '--from', '2025-05-01', '--api', hub.url], io);
  queued = Object.fromEntries(
    hub.health().consumers.map((consumer) => [consumer.id, consumer.queue.visible]),
  );
  hub.resumeConsumers();
  await hub.drain({ timeoutMs: 60_000 });
  after = await snapshot();
}, 120_000);

afterAll(async () => {
  await hub?.stop();
  await Promise.all(Object.values(vendors).map((vendor) => vendor.stop()));
});

describe('Replay: the profile writer and the sync are idempotent under replay', () => {
  it('starts from a real journey: every webhook accepted, profiles, merges and vendor calls made', () => {
    expect(results.filter((result) => result.status < 200 || result.status > 299)).toEqual([]);
    expect(Object.keys(before.timelines).length).toBe(3);
    const types = new Set(before.archive.map((event) => event['detail-type']));
    expect(types).toContain('profile.updated');
    expect(types).toContain('profile.merged');
    for (const [vendor, requests] of Object.entries(before.vendorRequests))
      expect(requests.filter((request) => request.status < 300).length, vendor).toBeGreaterThan(0);
  });

  it('runs omnihub replay over the whole window to completion', () => {
    expect(err.join('\n')).not.toContain('FAILED');
    expect(out.join('\n')).toMatch(
      /Replay omnihub-\S+ COMPLETED after [\d.]+ s; last event replayed: \d{4}-/,
    );
    expect(exitCode).toBe(0);
  });

  it('delivers every archived event again to each consumer whose rule takes it', () => {
    for (const consumer of hub.topology.consumers) {
      expect(expectedDeliveries[consumer.id], consumer.id).toBeGreaterThan(0);
    }
    expect(queued).toEqual(expectedDeliveries);
  });

  it('leaves every profile and the sync state exactly as they were', () => {
    const profiles = (items: unknown[] = []) => items.filter((item) => sortKeyOf(item) === 'P');
    expect(profiles(after.tables.profiles).length).toBeGreaterThan(3);
    expect(profiles(after.tables.profiles)).toEqual(profiles(before.tables.profiles));
    expect(after.tables['sync-state']).toEqual(before.tables['sync-state']);
    expect(after.tables.idempotency).toEqual(before.tables.idempotency);
  });

  it('leads every identity to the same live profile', () => {
    const owners = (snapshot: Snapshot) => {
      const items = snapshot.tables.profiles ?? [];
      const mergedInto = new Map<string, string>();
      for (const item of items) {
        const { sk, status, profileId, mergedInto: survivor } = item as Item;
        if (sk?.S === 'P' && status?.S === 'merged' && profileId?.S && survivor?.S)
          mergedInto.set(profileId.S, survivor.S);
      }
      const live = (id: string): string => (mergedInto.has(id) ? live(mergedInto.get(id) ?? id) : id);
      return Object.fromEntries(
        items
          .filter((item) => sortKeyOf(item) === 'ID')
          .map((item) => [(item as Item).pk?.S, live((item as Item).profileId?.S ?? '')]),
      );
    };
    expect(Object.keys(owners(before)).length).toBeGreaterThan(10);
    expect(owners(after)).toEqual(owners(before));
  });

  it('shows every timeline exactly as before through the profile API', () => {
    expect(Object.values(before.timelines).flat().length).toBeGreaterThan(20);
    expect(after.timelines).toEqual(before.timelines);
  });

  it('adds timeline items only as copies, under a survivor, of events already on a profile merged into it', () => {
    const timeline = (items: unknown[] = []) => items.filter((item) => sortKeyOf(item).startsWith('T#'));
    const was = timeline(before.tables.profiles);
    const is = timeline(after.tables.profiles);
    expect(is).toEqual(expect.arrayContaining(was));
    const survivorOf = new Map<string, string>();
    for (const item of before.tables.profiles ?? []) {
      const { sk, status, profileId, mergedInto } = item as Item;
      if (sk?.S === 'P' && status?.S === 'merged' && profileId?.S && mergedInto?.S)
        survivorOf.set(`P#${profileId.S}`, `P#${mergedInto.S}`);
    }
    const added = is.filter((item) => !was.some((old) => JSON.stringify(old) === JSON.stringify(item)));
    for (const item of added) {
      const copyOf = was.find(
        (old) =>
          sortKeyOf(old) === sortKeyOf(item) &&
          survivorOf.get((old as Item).pk?.S ?? '') === (item as Item).pk?.S,
      );
      expect(copyOf, `timeline item ${(item as Item).pk?.S} ${sortKeyOf(item)}`).toBeDefined();
    }
  });

  it('publishes nothing: no new profile.updated or profile.merged, nothing archived', () => {
    const profileEvents = (events: EventBridgeEvent[]) =>
      events.filter((event) => event['detail-type'].startsWith('profile.')).length;
    expect(profileEvents(after.archive)).toBe(profileEvents(before.archive));
    expect(after.archive.length).toBe(before.archive.length);
    expect(after.archive.some((event) => event['replay-name'] !== undefined)).toBe(false);
  });

  it('repeats no call a vendor accepted; it only tries again the deliveries a vendor refused', () => {
    // Nothing changed at any vendor, and no delivery succeeded (each one would have updated sync state).
    expect(after.vendorState).toBe(before.vendorState);
    expect(after.tables['sync-state']).toEqual(before.tables['sync-state']);
    // The calls made during the replay are for the profiles whose deliveries a vendor already refused
    // (their record was never accepted, so every replayed change tries it again, and is refused again).
    expect(Object.values(before.deadLettered).flat().length).toBeGreaterThan(0);
    expect(after.deadLettered).toEqual(before.deadLettered);
    for (const [vendor, requests] of Object.entries(after.vendorRequests)) {
      const earlier = before.vendorRequests[vendor] ?? [];
      expect(requests.slice(0, earlier.length), vendor).toEqual(earlier);
      if ((before.deadLettered[vendor] ?? []).length === 0)
        expect(requests.length, vendor).toBe(earlier.length);
    }
  });
});
