/**
 * Scale: identity resolution latency with 10k, 100k and 1M profiles in the store.
 *
 * Resolution is what the profile writer does before every fold: `ProfileStore.getPointers` (one
 * BatchGetItem on `ID#<identity>` keys) then `ProfileWriter.resolve` (one GetItem on `P#<id>`),
 * through the profile store's own DynamoDB client and dynalite's HTTP API. The stores are dynalite LevelDB directories built
 * once under `.omnihub/bench/scale-<n>` and reused: loading a million profiles through the HTTP API
 * would take longer than the whole benchmark budget, so items are written with dynalite's own
 * storage functions (`dynalite/db`: the same key encoding and item format its PutItem uses).
 * Lookups rotate between the stores request by request, so machine noise falls on all sizes alike.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import dynalite from 'dynalite';
import { DynamoDocumentClient } from '../core/aws/dynamodb.ts';
import { ProfileStore } from '../core/profile/store.ts';
import { ProfileWriter } from '../core/profile/writer.ts';
import { profileTable } from '../core/tables.ts';
import { percentile } from './support/stats.ts';

const require = createRequire(import.meta.url);
const TABLE = 'profiles';
const DATA_ROOT = resolve(import.meta.dirname, '..', '.omnihub', 'bench');

interface DynaliteStore {
  getTable(name: string, cb: (error: Error | null, table: unknown) => void): void;
  getItemDb(name: string): { batch(ops: unknown[], cb: (error?: Error | null) => void): void };
  db: { close(cb?: (error?: Error) => void): Promise<void> | undefined };
}
const dynaliteDb = require('dynalite/db') as {
  create(options: { path: string }): DynaliteStore;
  createKey(item: unknown, table: unknown): string;
};

export interface ScaleRow {
  readonly profiles: number;
  readonly p50: number;
  readonly p99: number;
  readonly lookups: number;
  /** Seconds spent building the store this run (0 when reused). */
  readonly buildSeconds: number;
}

const identityOf = (i: number) => `email:person${i}@example.com`;

/** A profile item as the writer stores it (about 600 bytes), and the pointer to it. */
function itemsOf(i: number): [Record<string, unknown>, Record<string, unknown>] {
  const profileId = `p_${i.toString(36).padStart(8, '0')}`;
  const at = '2025-01-01T00:00:00.000Z';
  const stamp = { at, source: 'shopify', eventId: `evt-${i}` };
  const profile = {
    pk: `P#${profileId}`,
    sk: 'P',
    profileId,
    status: 'live',
    version: 2,
    createdAt: at,
    updatedAt: at,
    identities: [identityOf(i), `ext:shopify:${7_000_000 + i}`],
    traits: { firstName: { value: `Person${i}`, ...stamp }, lastName: { value: 'Example', ...stamp } },
    consent: { email: { value: { status: 'subscribed' }, ...stamp } },
    orders: {},
    channels: ['shopify'],
    mergedFrom: [],
    mergeHistory: [],
    stats: { orderCount: 0, lifetimeValue: {}, channels: ['shopify'] },
  };
  const pointer = { pk: `ID#${identityOf(i)}`, sk: 'ID', profileId };
  return [marshall(profile), marshall(pointer)];
}

async function withServer<T>(path: string, run: (client: DynamoDBClient) => Promise<T>): Promise<T> {
  const server = dynalite({ path, createTableMs: 0 });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const { port } = server.address() as AddressInfo;
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  try {
    return await run(client);
  } finally {
    client.destroy();
    await new Promise<void>((done) => server.close(() => done()));
  }
}

/** Builds (once) a dynalite directory holding `count` profiles and their pointers. */
async function ensureStore(count: number): Promise<{ path: string; buildSeconds: number }> {
  const path = join(DATA_ROOT, `scale-${count}`);
  const marker = join(path, 'READY');
  if (existsSync(marker)) return { path, buildSeconds: 0 };
  const started = performance.now();
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
  await withServer(path, async (client) => {
    await client.send(
      new CreateTableCommand({
        TableName: TABLE,
        KeySchema: [
          { AttributeName: profileTable.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: profileTable.sortKey?.name ?? 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await waitUntilTableExists(
      { client, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.2 },
      { TableName: TABLE },
    );
  });
  const store = dynaliteDb.create({ path });
  const table = await new Promise<unknown>((done, fail) =>
    store.getTable(TABLE, (error, found) => (error ? fail(error) : done(found))),
  );
  const items = store.getItemDb(TABLE);
  const chunk = 5_000;
  for (let start = 0; start < count; start += chunk) {
    const ops: unknown[] = [];
    for (let i = start; i < Math.min(count, start + chunk); i++) {
      for (const item of itemsOf(i))
        ops.push({ type: 'put', key: dynaliteDb.createKey(item, table), value: item });
    }
    await new Promise<void>((done, fail) => items.batch(ops, (error) => (error ? fail(error) : done())));
  }
  await new Promise<void>((done) => {
    const closing = store.db.close(() => done());
    if (closing)
      closing.then(
        () => done(),
        () => done(),
      );
  });
  writeFileSync(marker, `${count} profiles\n`);
  return { path, buildSeconds: (performance.now() - started) / 1000 };
}

export async function runScale(options: { quick: boolean }): Promise<ScaleRow[]> {
  const sizes = options.quick ? [1_000, 10_000] : [10_000, 100_000, 1_000_000];
  const lookups = options.quick ? 300 : 3_000;
  const built = [];
  for (const size of sizes) built.push({ size, ...(await ensureStore(size)) });

  // Open every store at once, then rotate lookups between them.
  const servers = built.map((entry) => ({ entry, server: dynalite({ path: entry.path }) }));
  try {
    const writers = [];
    for (const { server } of servers) {
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
      // The profile store's own client (no AWS SDK), as the Lambdas run it.
      const client = new DynamoDocumentClient({
        env: {
          AWS_REGION: 'us-east-1',
          AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        },
        credentials: async () => ({ accessKeyId: 'bench', secretAccessKey: 'bench' }),
      });
      const store = new ProfileStore({ tableName: TABLE, client });
      writers.push({ store, writer: new ProfileWriter(store) });
    }
    const samples = built.map(() => [] as number[]);
    const warmup = 50;
    for (let n = 0; n < warmup + lookups; n++) {
      for (let k = 0; k < writers.length; k++) {
        const index = (n + k) % writers.length;
        const size = built[index]?.size ?? 1;
        const { store, writer } = writers[index] as (typeof writers)[number];
        const identity = identityOf(Math.floor(Math.random() * size));
        const start = performance.now();
        const pointers = await store.getPointers([identity]);
        const profileId = pointers.get(identity);
        const profile = profileId ? await writer.resolve(profileId) : undefined;
        const elapsed = performance.now() - start;
        if (!profile) throw new Error(`identity ${identity} did not resolve in the ${size}-profile store`);
        if (n >= warmup) samples[index]?.push(elapsed);
      }
    }
    return built.map((entry, index) => ({
      profiles: entry.size,
      p50: percentile(samples[index] ?? [], 50),
      p99: percentile(samples[index] ?? [], 99),
      lookups,
      buildSeconds: entry.buildSeconds,
    }));
  } finally {
    for (const { server } of servers) await new Promise<void>((done) => server.close(() => done()));
  }
}
