/**
 * The local hub's dynalite with its parse and table caches (local/dynamodb/expression-cache.ts,
 * table-cache.ts) answers exactly as dynalite does: the same expression with other values, other
 * types, unused values or a syntax error, and tables deleted, recreated or updated, through the
 * real @aws-sdk/client-dynamodb.
 */
import {
  type AttributeValue,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDynamoDb } from './support/environment.ts';

let dynalite: Awaited<ReturnType<typeof startTestDynamoDb>>;
let client: DynamoDBClient;
const TABLE = 'ledger';

beforeAll(async () => {
  dynalite = await startTestDynamoDb('omnihub-dynalite-');
  client = dynalite.client;
  await createTable(TABLE);
});

afterAll(async () => {
  await dynalite?.close();
});

async function createTable(name: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'id', AttributeType: 'S' },
        { AttributeName: 'at', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'id', KeyType: 'HASH' },
        { AttributeName: 'at', KeyType: 'RANGE' },
      ],
    }),
  );
  // CreateTable answers CREATING; ACTIVE follows on a timer (createTableMs 0), which a busy machine
  // may run after the next request: wait for it, as a client of DynamoDB must.
  await waitForStatus(name, 'ACTIVE');
}

async function waitForStatus(name: string, status: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === status) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`table ${name} never became ${status}`);
}

/** DeleteTable answers DELETING; the table is gone when DescribeTable no longer finds it. */
async function waitForGone(name: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      await client.send(new DescribeTableCommand({ TableName: name }));
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return;
      throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`table ${name} was never deleted`);
}

/** The idempotency ledger's conditional put (core/ingest/idempotency-store.ts). */
function ledgerPut(
  id: string,
  expiry: number,
  now: number,
  extraValues: Record<string, AttributeValue> = {},
) {
  return new PutItemCommand({
    TableName: TABLE,
    Item: { id: { S: id }, at: { N: '0' }, expiration: { N: String(expiry) }, status: { S: 'INPROGRESS' } },
    ExpressionAttributeNames: { '#id': 'id', '#expiry': 'expiration', '#status': 'status' },
    ExpressionAttributeValues: {
      ':now': { N: String(now) },
      ':inprogress': { S: 'INPROGRESS' },
      ...extraValues,
    },
    ConditionExpression:
      'attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND #expiry < :now)',
  });
}

describe('Local DynamoDB: cached expression parses', () => {
  it('evaluates the same condition with each request’s own values', async () => {
    await client.send(ledgerPut('delivery-1', 100, 50));
    // Not expired at 60: the condition fails.
    await expect(client.send(ledgerPut('delivery-1', 200, 60))).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
    });
    // Expired at 150: the same expression, other values, succeeds and replaces the item.
    await client.send(ledgerPut('delivery-1', 300, 150));
    const item = await client.send(
      new GetItemCommand({ TableName: TABLE, Key: { id: { S: 'delivery-1' }, at: { N: '0' } } }),
    );
    expect(item.Item?.expiration).toEqual({ N: '300' });
  });

  it('still rejects a value the cached expression does not use', async () => {
    await client.send(ledgerPut('delivery-2', 100, 50));
    await expect(
      client.send(ledgerPut('delivery-3', 100, 50, { ':spare': { S: 'x' } })),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('unused in expressions: keys: {:spare}'),
    });
  });

  it('checks operand types per request, not per expression', async () => {
    const put = (value: AttributeValue) =>
      client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { id: { S: 'typed' }, at: { N: '0' }, name: { S: 'ana' } },
          ExpressionAttributeNames: { '#name': 'name' },
          ExpressionAttributeValues: { ':prefix': value },
          ConditionExpression: 'attribute_not_exists(#name) OR begins_with(#name, :prefix)',
        }),
      );
    await put({ S: 'an' });
    await expect(put({ N: '1' })).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining(
        'Incorrect operand type for operator or function; operator or function: begins_with, operand type: N',
      ),
    });
    await put({ S: 'a' });
    await expect(put({ S: 'zz' })).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
  });

  it('rejects an invalid expression every time with dynalite’s message', async () => {
    const invalid = () =>
      client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { id: { S: 'invalid' }, at: { N: '0' } },
          ExpressionAttributeNames: { '#id': 'id' },
          ConditionExpression: 'attribute_not_exists(#id) OR OR',
        }),
      );
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(invalid()).rejects.toMatchObject({
        name: 'ValidationException',
        message: expect.stringContaining('Invalid ConditionExpression: Syntax error'),
      });
    }
  });

  it('validates BETWEEN bounds on every request', async () => {
    const query = (low: string, high: string) =>
      client.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: '#id = :id AND #at BETWEEN :low AND :high',
          ExpressionAttributeNames: { '#id': 'id', '#at': 'at' },
          ExpressionAttributeValues: { ':id': { S: 'delivery-1' }, ':low': { N: low }, ':high': { N: high } },
        }),
      );
    expect((await query('0', '1')).Count).toBe(1);
    await expect(query('2', '1')).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('requires upper bound to be greater than or equal to lower bound'),
    });
  });

  it('applies each update’s own values', async () => {
    const update = (status: string, expiry: number) =>
      client.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: { id: { S: 'updated' }, at: { N: '0' } },
          UpdateExpression: 'SET #expiry = :expiry, #status = :status',
          ExpressionAttributeNames: { '#expiry': 'expiration', '#status': 'status' },
          ExpressionAttributeValues: { ':expiry': { N: String(expiry) }, ':status': { S: status } },
          ReturnValues: 'ALL_NEW',
        }),
      );
    expect((await update('INPROGRESS', 10)).Attributes).toMatchObject({
      status: { S: 'INPROGRESS' },
      expiration: { N: '10' },
    });
    expect((await update('COMPLETED', 20)).Attributes).toMatchObject({
      status: { S: 'COMPLETED' },
      expiration: { N: '20' },
    });
  });
});

describe('Local DynamoDB: cached table descriptions', () => {
  it('follows a table deleted, recreated and updated', async () => {
    const name = 'short-lived';
    await createTable(name);
    const key = { id: { S: 'a' }, at: { N: '1' } };
    await client.send(new PutItemCommand({ TableName: name, Item: key }));
    expect((await client.send(new GetItemCommand({ TableName: name, Key: key }))).Item).toEqual(key);

    await client.send(new DeleteTableCommand({ TableName: name }));
    await expect(client.send(new GetItemCommand({ TableName: name, Key: key }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await waitForGone(name);

    await createTable(name);
    expect((await client.send(new GetItemCommand({ TableName: name, Key: key }))).Item).toBeUndefined();

    await client.send(
      new UpdateTableCommand({
        TableName: name,
        BillingMode: 'PROVISIONED',
        ProvisionedThroughput: { ReadCapacityUnits: 7, WriteCapacityUnits: 3 },
      }),
    );
    // UPDATING, then ACTIVE once dynalite's updateTableMs (0 here) elapsed: both reach the cache.
    let described = await client.send(new DescribeTableCommand({ TableName: name }));
    for (let poll = 0; poll < 40 && described.Table?.TableStatus !== 'ACTIVE'; poll++) {
      await new Promise((done) => setTimeout(done, 50));
      described = await client.send(new DescribeTableCommand({ TableName: name }));
    }
    expect(described.Table?.TableStatus).toBe('ACTIVE');
    expect(described.Table?.ProvisionedThroughput).toMatchObject({
      ReadCapacityUnits: 7,
      WriteCapacityUnits: 3,
    });
  });
});
