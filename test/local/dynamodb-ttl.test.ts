/**
 * DynamoDB Time to Live in the local hub, through the real @aws-sdk/client-dynamodb: the settings
 * answered in front of dynalite (DescribeTimeToLive, UpdateTimeToLive), the sweep that deletes expired
 * items, and the hub enabling TTL on every table that declares a `ttlAttribute`, as the stack does.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { idempotencyTable, profileTable } from '../../core/tables.ts';
import { startLocalDynamoDb } from '../../local/dynamodb/local-dynamodb.ts';
import type { TimeToLiveSettings } from '../../local/dynamodb/time-to-live.ts';
import { TimeToLiveSweeper } from '../../local/dynamodb/ttl-sweeper.ts';
import { startLocalHub } from '../../local/hub.ts';
import { clearAwsAndOmnihubEnvironment, testDynamoDbClient } from './support/environment.ts';
import { testTopology } from './support/test-topology.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

async function startDynamoDb(path: string | undefined, ttlSweepIntervalMs = 100) {
  const warnings: string[] = [];
  const dynamoDb = await startLocalDynamoDb(path, {
    ttlSweepIntervalMs,
    onWarning: (message) => warnings.push(message),
  });
  const client = testDynamoDbClient(dynamoDb);
  const stop = async () => {
    client.destroy();
    await dynamoDb.close();
  };
  return { client, warnings, stop };
}

async function createItemsTable(client: DynamoDBClient): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: 'items',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }),
  );
}

async function ttlOf(client: DynamoDBClient, tableName: string) {
  return (await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }))).TimeToLiveDescription;
}

async function exists(client: DynamoDBClient, tableName: string, key: Record<string, { S: string }>) {
  const { Item } = await client.send(new GetItemCommand({ TableName: tableName, Key: key }));
  return Item !== undefined;
}

/** Polls until `condition` holds, failing after `timeoutMs`. */
async function eventually(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not true after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('DynamoDB TTL settings (DescribeTimeToLive, UpdateTimeToLive)', () => {
  it('enables and disables TTL as DynamoDB does, refusing what it refuses', async () => {
    const { client, stop } = await startDynamoDb(undefined);
    cleanups.push(stop);
    await createItemsTable(client);
    expect(await ttlOf(client, 'items')).toEqual({ TimeToLiveStatus: 'DISABLED' });

    const enabled = await client.send(
      new UpdateTimeToLiveCommand({
        TableName: 'items',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      }),
    );
    expect(enabled.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(await ttlOf(client, 'items')).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });

    await expect(
      client.send(
        new UpdateTimeToLiveCommand({
          TableName: 'items',
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException', message: 'TimeToLive is already enabled' });
    await expect(
      client.send(
        new UpdateTimeToLiveCommand({
          TableName: 'items',
          TimeToLiveSpecification: { AttributeName: 'other', Enabled: true },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(ttlOf(client, 'missing')).rejects.toMatchObject({ name: 'ResourceNotFoundException' });

    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: 'items',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: false },
      }),
    );
    expect(await ttlOf(client, 'items')).toEqual({ TimeToLiveStatus: 'DISABLED' });
  });

  it('keeps the setting with the table data across a restart, and not for a table created again', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'omnihub-ttl-'));
    cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
    const path = join(directory, 'dynamodb');
    const first = await startDynamoDb(path);
    await createItemsTable(first.client);
    await first.client.send(
      new UpdateTimeToLiveCommand({
        TableName: 'items',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      }),
    );
    await first.stop();

    const second = await startDynamoDb(path);
    cleanups.push(second.stop);
    expect(await ttlOf(second.client, 'items')).toEqual({
      TimeToLiveStatus: 'ENABLED',
      AttributeName: 'expiresAt',
    });
    await second.client.send(new DeleteTableCommand({ TableName: 'items' }));
    await createItemsTable(second.client);
    expect(await ttlOf(second.client, 'items')).toEqual({ TimeToLiveStatus: 'DISABLED' });
  });
});

describe('DynamoDB TTL sweep', () => {
  it('deletes items whose TTL is past, and only those', async () => {
    const { client, warnings, stop } = await startDynamoDb(undefined, 100);
    cleanups.push(stop);
    await createItemsTable(client);
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: 'items',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      }),
    );
    const items: Record<string, Record<string, { S: string } | { N: string }>> = {
      expired: { expiresAt: { N: String(nowSeconds() - 60) } },
      future: { expiresAt: { N: String(nowSeconds() + 3600) } },
      noAttribute: {},
      // DynamoDB ignores a TTL that is not a Number, and one more than five years in the past.
      stringAttribute: { expiresAt: { S: String(nowSeconds() - 60) } },
      tooOld: { expiresAt: { N: String(nowSeconds() - 6 * 365 * 86_400) } },
    };
    for (const [pk, attributes] of Object.entries(items)) {
      await client.send(new PutItemCommand({ TableName: 'items', Item: { pk: { S: pk }, ...attributes } }));
    }

    await eventually(async () => !(await exists(client, 'items', { pk: { S: 'expired' } })));
    for (const pk of ['future', 'noAttribute', 'stringAttribute', 'tooOld']) {
      expect(await exists(client, 'items', { pk: { S: pk } })).toBe(true);
    }
    expect(warnings).toEqual([]);
  });

  it('leaves tables without TTL alone', async () => {
    const { client, stop } = await startDynamoDb(undefined, 50);
    cleanups.push(stop);
    await createItemsTable(client);
    const expiredLongAgo = { pk: { S: 'old' }, expiresAt: { N: String(nowSeconds() - 60) } };
    await client.send(new PutItemCommand({ TableName: 'items', Item: expiredLongAgo }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await exists(client, 'items', { pk: { S: 'old' } })).toBe(true);
  });

  it('never keeps the process alive', () => {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'test/local/fixtures/idle-ttl-sweeper.ts'],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    // Exited by itself (a timeout would kill it with a signal), after at least one sweep.
    expect({ status: child.status, signal: child.signal }).toEqual({ status: 0, signal: null });
    expect(child.stdout).toContain('swept');
  });

  it('stops sweeping when told', async () => {
    const failures: string[] = [];
    const sweeper = new TimeToLiveSweeper({
      endpoint: 'http://127.0.0.1:9',
      settings: {} as TimeToLiveSettings,
      intervalMs: 10,
      onError: (message) => failures.push(message),
    });
    sweeper.start();
    await eventually(async () => failures.length >= 2);
    await sweeper.stop();
    const reported = failures.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(failures.length).toBe(reported);
    expect(failures[0]).toMatch(/^TTL sweep: listing the tables failed/);
  });
});

describe('Local hub: TTL on the topology tables', () => {
  it('enables TTL on every ttlAttribute and deletes expired items', async () => {
    clearAwsAndOmnihubEnvironment();
    const hub = await startLocalHub({
      topology: testTopology(),
      port: 0,
      dataDir: ':memory:',
      consumers: 'paused',
      log: () => {},
      env: { OMNIHUB_LOCAL_TTL_SWEEP_SECONDS: '0.2' },
    });
    cleanups.push(() => hub.stop());
    const client = testDynamoDbClient({ url: hub.dynamoDbUrl, close: async () => undefined });
    cleanups.push(() => client.destroy());

    for (const table of [idempotencyTable, profileTable]) {
      expect(await ttlOf(client, table.id)).toEqual({
        TimeToLiveStatus: 'ENABLED',
        AttributeName: table.ttlAttribute,
      });
    }
    const key = (sk: string) => ({ pk: { S: 'profile#ttl' }, sk: { S: sk } });
    await client.send(
      new PutItemCommand({
        TableName: profileTable.id,
        Item: { ...key('expired'), expiresAt: { N: String(nowSeconds() - 1) } },
      }),
    );
    await client.send(
      new PutItemCommand({
        TableName: profileTable.id,
        Item: { ...key('current'), expiresAt: { N: String(nowSeconds() + 3600) } },
      }),
    );
    await eventually(async () => !(await exists(client, profileTable.id, key('expired'))));
    expect(await exists(client, profileTable.id, key('current'))).toBe(true);
  });
});
