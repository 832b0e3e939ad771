/**
 * DynamoDB for the local hub: dynalite (a DynamoDB API over LevelDB) in-process on an ephemeral port,
 * with the topology's tables created when absent: same names as the topology ids, same keys and GSIs
 * (projection ALL), on-demand billing.
 *
 * TTL, which dynalite 4 lacks, is added in front of it: DescribeTimeToLive and UpdateTimeToLive
 * (`time-to-live.ts`) and a periodic sweep that deletes expired items (`ttl-sweeper.ts`). Every table
 * that declares a `ttlAttribute` gets TTL enabled on it, as the stack does (`lib/integration-hub.ts`).
 *
 * The hub's dynalite answers only requests signed with the hub's credentials (`signatures.ts`).
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  type KeySchemaElement,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { AwsCredentials } from '../../core/aws/json-client.ts';
import type { TableDefinition } from '../../core/tables.ts';
import { keepIdleConnectionsOpen } from '../keep-alive.ts';
import type { HubLogger } from '../log.ts';
import { onEveryDynaliteStore } from './dynalite-stores.ts';
import { memoizeDynaliteExpressionParsers } from './expression-cache.ts';
import { requireSignatures } from './signatures.ts';
import { readDynaliteSynchronously } from './sync-reads.ts';
import { cacheDynaliteTables } from './table-cache.ts';
import { type DynaliteStore, serveTimeToLive, TimeToLiveSettings } from './time-to-live.ts';
import { TimeToLiveSweeper, ttlSweepIntervalFromEnvironment } from './ttl-sweeper.ts';

interface DynaliteOptions {
  readonly path?: string;
  readonly createTableMs?: number;
  readonly deleteTableMs?: number;
  readonly updateTableMs?: number;
}

type DynaliteFactory = (options: DynaliteOptions) => Server;

const require = createRequire(import.meta.url);

/** A running dynalite server. */
export interface LocalDynamoDb {
  /** The endpoint, e.g. `http://127.0.0.1:53117`. */
  readonly url: string;
  /** Stops the TTL sweep, stops accepting requests, closes open connections and the LevelDB store. */
  close(): Promise<void>;
}

export interface LocalDynamoDbOptions {
  /**
   * How often expired items are deleted (a sweep also runs at start).
   * @default env `OMNIHUB_LOCAL_TTL_SWEEP_SECONDS`, else 60 s
   */
  readonly ttlSweepIntervalMs?: number;
  /** Hears a TTL sweep that failed. @default a line on stderr */
  readonly onWarning?: (message: string) => void;
  /**
   * Answer only requests SigV4-signed with these credentials (the sweep signs with them, for this
   * region). @default no check, as dynalite itself
   */
  readonly signing?: DynamoDbSigning;
}

/** The credentials a hub's dynalite requires, and the region its own clients sign for. */
export interface DynamoDbSigning {
  readonly credentials: AwsCredentials;
  readonly region: string;
}

/** The store dynalite created last: `dynalite()` creates its store synchronously, so it is that server's. */
let lastCreatedStore: DynaliteStore | undefined;

/**
 * Starts dynalite on 127.0.0.1 with an ephemeral port. `path` persists data (LevelDB); without it the
 * data lives in memory.
 */
export async function startLocalDynamoDb(
  path: string | undefined,
  options: LocalDynamoDbOptions = {},
): Promise<LocalDynamoDb> {
  const dynalite = require('dynalite') as DynaliteFactory;
  // Its expression parser, table reads and thread-pool point reads were the largest CPU costs of a
  // ledger write; see expression-cache.ts, table-cache.ts and sync-reads.ts.
  memoizeDynaliteExpressionParsers(require);
  readDynaliteSynchronously(require);
  cacheDynaliteTables(require);
  onEveryDynaliteStore<DynaliteStore>(require, 'time-to-live', (store) => {
    lastCreatedStore = store;
  });
  lastCreatedStore = undefined;
  // Table status changes are instantaneous locally: nothing waits for CREATING -> ACTIVE.
  const server = dynalite({
    ...(path ? { path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const store = lastCreatedStore as DynaliteStore | undefined;
  if (!store) throw new Error('dynalite created no store the TTL settings could use');
  const settings = new TimeToLiveSettings(store);
  serveTimeToLive(server, settings);
  if (options.signing) requireSignatures(server, options.signing.credentials);
  keepIdleConnectionsOpen(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const sweeper = new TimeToLiveSweeper({
    endpoint: url,
    settings,
    ...(options.signing ? { signing: options.signing } : {}),
    intervalMs: options.ttlSweepIntervalMs ?? ttlSweepIntervalFromEnvironment(),
    onError: options.onWarning ?? ((message) => process.stderr.write(`[dynamodb] warning: ${message}\n`)),
  });
  sweeper.start();
  return {
    url,
    close: async () => {
      await sweeper.stop();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // SDK clients keep connections alive; without this, close would wait for them to time out.
        server.closeAllConnections();
      });
    },
  };
}

function keySchema(
  partitionKey: TableDefinition['partitionKey'],
  sortKey: TableDefinition['sortKey'],
): KeySchemaElement[] {
  return [
    { AttributeName: partitionKey.name, KeyType: 'HASH' },
    ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' as const }] : []),
  ];
}

function attributeDefinitions(table: TableDefinition): AttributeDefinition[] {
  const keys = [
    table.partitionKey,
    table.sortKey,
    ...(table.globalSecondaryIndexes ?? []).flatMap((index) => [index.partitionKey, index.sortKey]),
  ];
  const byName = new Map<string, AttributeDefinition>();
  for (const key of keys) {
    if (key) byName.set(key.name, { AttributeName: key.name, AttributeType: key.type });
  }
  return [...byName.values()];
}

/**
 * Creates every table of the topology that does not exist yet, leaving existing tables (and data)
 * alone, and enables TTL on each table's `ttlAttribute` where it is not enabled yet.
 */
export async function ensureTables(
  endpoint: string,
  region: string,
  tables: readonly TableDefinition[],
  log: HubLogger,
  credentials: AwsCredentials = { accessKeyId: 'local', secretAccessKey: 'local' },
): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region, credentials });
  try {
    for (const table of tables) {
      await ensureTable(client, table, log);
      if (table.ttlAttribute) await ensureTimeToLive(client, table.id, table.ttlAttribute, log);
    }
  } finally {
    client.destroy();
  }
}

/** Enables TTL on the table's attribute unless it is enabled already (enabling twice is an error). */
async function ensureTimeToLive(
  client: DynamoDBClient,
  tableName: string,
  attributeName: string,
  log: HubLogger,
): Promise<void> {
  const { TimeToLiveDescription: current } = await client.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  );
  if (current?.TimeToLiveStatus === 'ENABLED') {
    if (current.AttributeName !== attributeName) {
      log.warn(
        `table ${tableName} has TTL on ${current.AttributeName}, not on ${attributeName} as lib/topology.ts declares; delete the data dir to recreate it`,
      );
    }
    return;
  }
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { Enabled: true, AttributeName: attributeName },
    }),
  );
}

/** Creates the table when absent; warns when it exists with other keys or indexes. */
async function ensureTable(client: DynamoDBClient, table: TableDefinition, log: HubLogger): Promise<void> {
  try {
    const existing = await client.send(new DescribeTableCommand({ TableName: table.id }));
    const expected = JSON.stringify(keySchema(table.partitionKey, table.sortKey));
    const indexNames = (existing.Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName).sort();
    const expectedIndexNames = (table.globalSecondaryIndexes ?? []).map((index) => index.indexName).sort();
    if (
      JSON.stringify(existing.Table?.KeySchema) !== expected ||
      JSON.stringify(indexNames) !== JSON.stringify(expectedIndexNames)
    ) {
      log.warn(
        `table ${table.id} exists with other keys or indexes than lib/topology.ts declares; delete the data dir to recreate it`,
      );
    }
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  const indexes = table.globalSecondaryIndexes ?? [];
  await client.send(
    new CreateTableCommand({
      TableName: table.id,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: attributeDefinitions(table),
      KeySchema: keySchema(table.partitionKey, table.sortKey),
      ...(indexes.length > 0
        ? {
            GlobalSecondaryIndexes: indexes.map((index) => ({
              IndexName: index.indexName,
              KeySchema: keySchema(index.partitionKey, index.sortKey),
              Projection: { ProjectionType: 'ALL' },
            })),
          }
        : {}),
    }),
  );
}
