/**
 * DynamoDB for the local hub: dynalite (a DynamoDB API over LevelDB) in-process on an ephemeral port,
 * with the topology's tables created when absent: same names as the topology ids, same keys and GSIs
 * (projection ALL), on-demand billing.
 *
 * TTL: dynalite 4 implements DescribeTimeToLive but not UpdateTimeToLive and never expires items.
 * The hub still asks for TTL on every table that declares a `ttlAttribute`, and reports once that
 * TTL is not enforced locally when dynalite refuses.
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type KeySchemaElement,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { TableDefinition } from '../../core/tables.ts';
import { keepIdleConnectionsOpen } from '../keep-alive.ts';
import { describeError, type HubLogger } from '../log.ts';
import { memoizeDynaliteExpressionParsers } from './expression-cache.ts';
import { readDynaliteSynchronously } from './sync-reads.ts';
import { cacheDynaliteTables } from './table-cache.ts';

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
  /** Stops accepting requests, closes open connections and the LevelDB store. */
  close(): Promise<void>;
}

/**
 * Starts dynalite on 127.0.0.1 with an ephemeral port. `path` persists data (LevelDB); without it the
 * data lives in memory.
 */
export async function startLocalDynamoDb(path: string | undefined): Promise<LocalDynamoDb> {
  const dynalite = require('dynalite') as DynaliteFactory;
  // Its expression parser, table reads and thread-pool point reads were the largest CPU costs of a
  // ledger write; see expression-cache.ts, table-cache.ts and sync-reads.ts.
  memoizeDynaliteExpressionParsers(require);
  readDynaliteSynchronously(require);
  cacheDynaliteTables(require);
  // Table status changes are instantaneous locally: nothing waits for CREATING -> ACTIVE.
  const server = dynalite({
    ...(path ? { path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  keepIdleConnectionsOpen(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // SDK clients keep connections alive; without this, close would wait for them to time out.
        server.closeAllConnections();
      }),
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

/** Creates every table of the topology that does not exist yet; leaves existing tables (and data) alone. */
export async function ensureTables(
  endpoint: string,
  region: string,
  tables: readonly TableDefinition[],
  log: HubLogger,
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  let ttlUnsupportedReported = false;
  try {
    for (const table of tables) {
      try {
        const existing = await client.send(new DescribeTableCommand({ TableName: table.id }));
        const expected = JSON.stringify(keySchema(table.partitionKey, table.sortKey));
        const indexNames = (existing.Table?.GlobalSecondaryIndexes ?? [])
          .map((index) => index.IndexName)
          .sort();
        const expectedIndexNames = (table.globalSecondaryIndexes ?? [])
          .map((index) => index.indexName)
          .sort();
        if (
          JSON.stringify(existing.Table?.KeySchema) !== expected ||
          JSON.stringify(indexNames) !== JSON.stringify(expectedIndexNames)
        ) {
          log.warn(
            `table ${table.id} exists with other keys or indexes than lib/topology.ts declares; delete the data dir to recreate it`,
          );
        }
        continue;
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
      if (table.ttlAttribute) {
        try {
          await client.send(
            new UpdateTimeToLiveCommand({
              TableName: table.id,
              TimeToLiveSpecification: { Enabled: true, AttributeName: table.ttlAttribute },
            }),
          );
        } catch (error) {
          if (!ttlUnsupportedReported) {
            ttlUnsupportedReported = true;
            log.info(
              `TTL is not enforced locally (dynalite: ${describeError(error)}); expired items stay readable`,
            );
          }
        }
      }
    }
  } finally {
    client.destroy();
  }
}
