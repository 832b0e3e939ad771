/**
 * The local hub's dynalite serves point reads with LevelDB's `getSync` (local/dynamodb/sync-reads.ts)
 * and still answers as DynamoDB does: a read sees the write acknowledged just before it, conditions
 * see the current item, a deleted item is gone, and concurrent writes to one item all apply, through
 * the real @aws-sdk/client-dynamodb against a LevelDB on disk.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestDynamoDb } from './support/environment.ts';

const require = createRequire(join(process.cwd(), 'node_modules', 'dynalite', 'index.js'));
const { ClassicLevel } = require('classic-level') as {
  ClassicLevel: { prototype: { _getSync: (...args: unknown[]) => unknown } };
};

let dynalite: Awaited<ReturnType<typeof startTestDynamoDb>>;
let client: DynamoDBClient;
const TABLE = 'ledger';

beforeAll(async () => {
  dynalite = await startTestDynamoDb('omnihub-dynalite-sync-');
  client = dynalite.client;
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  );
  // ACTIVE follows CreateTable on a timer, which a busy machine may run after the first test's request.
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName: TABLE });
});

afterAll(async () => {
  await dynalite?.close();
});

const reserve = (id: string) =>
  new PutItemCommand({
    TableName: TABLE,
    Item: { id: { S: id }, status: { S: 'INPROGRESS' } },
    ConditionExpression: 'attribute_not_exists(#id)',
    ExpressionAttributeNames: { '#id': 'id' },
  });

const read = async (id: string) =>
  (await client.send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: id } } }))).Item;

describe('Local DynamoDB: synchronous point reads', () => {
  it('reads through LevelDB getSync', async () => {
    const spy = vi.spyOn(ClassicLevel.prototype, '_getSync');
    try {
      await client.send(reserve('spied'));
      expect(await read('spied')).toEqual({ id: { S: 'spied' }, status: { S: 'INPROGRESS' } });
      expect(spy).toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('sees the write acknowledged just before, and refuses a second reservation', async () => {
    await client.send(reserve('delivery-1'));
    await client.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: { id: { S: 'delivery-1' } },
        UpdateExpression: 'SET #s = :done',
        ConditionExpression: '#s = :progress',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':done': { S: 'COMPLETED' }, ':progress': { S: 'INPROGRESS' } },
      }),
    );
    expect(await read('delivery-1')).toEqual({ id: { S: 'delivery-1' }, status: { S: 'COMPLETED' } });
    await expect(client.send(reserve('delivery-1'))).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });

  it('forgets a deleted item', async () => {
    await client.send(reserve('deleted'));
    await client.send(new DeleteItemCommand({ TableName: TABLE, Key: { id: { S: 'deleted' } } }));
    expect(await read('deleted')).toBeUndefined();
    await client.send(reserve('deleted'));
    expect(await read('deleted')).toEqual({ id: { S: 'deleted' }, status: { S: 'INPROGRESS' } });
  });

  it('applies every one of many concurrent increments of one item', async () => {
    await client.send(
      new PutItemCommand({ TableName: TABLE, Item: { id: { S: 'counter' }, n: { N: '0' } } }),
    );
    await Promise.all(
      Array.from({ length: 40 }, () =>
        client.send(
          new UpdateItemCommand({
            TableName: TABLE,
            Key: { id: { S: 'counter' } },
            UpdateExpression: 'ADD n :one',
            ExpressionAttributeValues: { ':one': { N: '1' } },
          }),
        ),
      ),
    );
    expect(await read('counter')).toEqual({ id: { S: 'counter' }, n: { N: '40' } });
  });

  it('lets exactly one of concurrent reservations of one key win', async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => client.send(reserve('contended'))),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    expect(
      outcomes.filter(
        (outcome) =>
          outcome.status === 'rejected' && outcome.reason instanceof ConditionalCheckFailedException,
      ),
    ).toHaveLength(9);
  });
});
