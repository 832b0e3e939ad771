/**
 * The SDK-less DynamoDB document client against dynalite (the DynamoDB wire protocol), with the AWS
 * SDK as the oracle: items it writes are the items `DynamoDBDocumentClient` writes, each reads what
 * the other wrote, a failed condition is recognisable as the SDK's is, requests are signed as
 * `@smithy/signature-v4` signs them, throttling is retried, BatchGetItem's unprocessed keys are asked
 * again, and queries page.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { ConditionalCheckFailedException, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDynalite, type TestDynamo } from '../../test/support/dynamo.ts';
import { profileTable } from '../tables.ts';
import { DynamoDocumentClient, isConditionFailed } from './dynamodb.ts';
import { type AwsHttpTransport, AwsServiceError, httpTransport, type RawResponse } from './json-client.ts';

let dynamo: TestDynamo;
let table: string;
const env = () => ({
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDTEST',
  AWS_SECRET_ACCESS_KEY: 'secret',
  AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
});

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo.close());
beforeEach(async () => {
  table = await dynamo.createTable(profileTable);
});

interface Exchange {
  readonly operation: string;
  readonly headers: Record<string, string>;
  readonly input: Record<string, unknown>;
}

/** Sends to dynalite, recording each request; `rewrite` may answer instead or alter the answer. */
function recordingTransport(
  exchanges: Exchange[],
  rewrite?: (exchange: Exchange, forward: () => Promise<RawResponse>) => Promise<RawResponse>,
): AwsHttpTransport {
  return async (url, headers, body) => {
    const exchange = {
      operation: String(headers['x-amz-target']).split('.').pop() ?? '',
      headers,
      input: JSON.parse(body) as Record<string, unknown>,
    };
    exchanges.push(exchange);
    const forward = () => httpTransport(url, headers, body);
    return rewrite ? rewrite(exchange, forward) : forward();
  };
}

const client = (transport?: AwsHttpTransport) =>
  new DynamoDocumentClient({ env: env(), ...(transport ? { transport } : {}), batchGetBaseDelayMs: 1 });

const rawItem = async (key: Record<string, string>) =>
  (
    await dynamo.client.send(
      new GetItemCommand({
        TableName: table,
        Key: Object.fromEntries(Object.entries(key).map(([name, value]) => [name, { S: value }])),
        ConsistentRead: true,
      }),
    )
  ).Item;

const profile = {
  profileId: 'p1',
  version: 3,
  status: 'live',
  mergedInto: undefined,
  traits: { firstName: 'Ada', tags: ['vip', 'b2b'], score: 12.5, optedIn: true, nickname: null },
  stats: { orderCount: 2, lifetimeValue: { USD: 4990, EUR: 0 }, channels: [] },
  identities: [{ type: 'email', value: 'ada@example.com' }],
};

describe('DynamoDocumentClient: items', () => {
  it('writes the same attribute values as the SDK document client, and each reads what the other wrote', async () => {
    await client().put({ TableName: table, Item: { pk: 'P#ours', sk: 'P', ...profile } });
    const sdk = DynamoDBDocumentClient.from(dynamo.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    await sdk.send(new PutCommand({ TableName: table, Item: { pk: 'P#sdk', sk: 'P', ...profile } }));
    const ours = await rawItem({ pk: 'P#ours', sk: 'P' });
    const theirs = await rawItem({ pk: 'P#sdk', sk: 'P' });
    expect({ ...ours, pk: undefined }).toEqual({ ...theirs, pk: undefined });
    expect(ours?.stats).toEqual({
      M: {
        orderCount: { N: '2' },
        lifetimeValue: { M: { USD: { N: '4990' }, EUR: { N: '0' } } },
        channels: { L: [] },
      },
    });
    expect(ours && 'mergedInto' in ours).toBe(false);

    const { mergedInto: _dropped, ...stored } = profile;
    for (const pk of ['P#ours', 'P#sdk']) {
      const { Item } = await client().get({ TableName: table, Key: { pk, sk: 'P' }, ConsistentRead: true });
      expect(Item).toEqual({ pk, sk: 'P', ...stored });
    }
  });

  it('answers no Item for a missing key, and returns ConsumedCapacity when asked', async () => {
    const result = await client().get({
      TableName: table,
      Key: { pk: 'P#none', sk: 'P' },
      ConsistentRead: true,
      ReturnConsumedCapacity: 'TOTAL',
    });
    expect(result.Item).toBeUndefined();
    expect(result.ConsumedCapacity).toEqual({ TableName: table, CapacityUnits: 1 });
  });

  it('updates and deletes with conditions and expression values, returning attributes when asked', async () => {
    const db = client();
    await db.put({ TableName: table, Item: { pk: 'ID#email:a', sk: 'ID', profileId: 'p1' } });
    const updated = await db.update({
      TableName: table,
      Key: { pk: 'ID#email:a', sk: 'ID' },
      UpdateExpression: 'SET profileId = :to',
      ConditionExpression: 'profileId = :from',
      ExpressionAttributeValues: { ':from': 'p1', ':to': 'p2' },
      ReturnValues: 'ALL_NEW',
    });
    expect(updated.Attributes).toEqual({ pk: 'ID#email:a', sk: 'ID', profileId: 'p2' });
    const refused = await db
      .delete({
        TableName: table,
        Key: { pk: 'ID#email:a', sk: 'ID' },
        ConditionExpression: 'profileId = :owner',
        ExpressionAttributeValues: { ':owner': 'p1' },
      })
      .catch((error: unknown) => error);
    expect(isConditionFailed(refused)).toBe(true);
    await db.delete({
      TableName: table,
      Key: { pk: 'ID#email:a', sk: 'ID' },
      ConditionExpression: 'profileId = :owner',
      ExpressionAttributeValues: { ':owner': 'p2' },
    });
    expect(await rawItem({ pk: 'ID#email:a', sk: 'ID' })).toBeUndefined();
  });
});

describe('DynamoDocumentClient: errors', () => {
  it('names a failed condition ConditionalCheckFailedException, like the SDK, and does not retry it', async () => {
    const exchanges: Exchange[] = [];
    const db = client(recordingTransport(exchanges));
    const claim = () =>
      db.put({
        TableName: table,
        Item: { pk: 'ID#phone:+14155550100', sk: 'ID', profileId: 'p1' },
        ConditionExpression: 'attribute_not_exists(pk)',
      });
    await claim();
    const error = await claim().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsServiceError);
    expect(error).toMatchObject({
      name: 'ConditionalCheckFailedException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(isConditionFailed(error)).toBe(true);
    expect(exchanges).toHaveLength(2);

    // The same refusal from the SDK is recognised too (the bench and tools may still use SDK clients).
    const sdkError = new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: {},
    });
    expect(isConditionFailed(sdkError)).toBe(true);
    expect(isConditionFailed(new Error('ConditionalCheckFailedException'))).toBe(false);
  });

  it('surfaces a validation error with its message, once', async () => {
    const exchanges: Exchange[] = [];
    const error = await client(recordingTransport(exchanges))
      .put({ TableName: table, Item: { pk: 'P#x' } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    expect(String((error as Error).message)).toMatch(/key/i);
    expect(exchanges).toHaveLength(1);
  });

  it('refuses values DynamoDB cannot hold before sending anything, as the SDK does', async () => {
    const exchanges: Exchange[] = [];
    await expect(
      client(recordingTransport(exchanges)).put({
        TableName: table,
        Item: { pk: 'P#x', sk: 'P', n: Number.NaN },
      }),
    ).rejects.toThrow(/NaN/);
    expect(exchanges).toHaveLength(0);
  });

  it('retries throttling (standard mode), then answers', async () => {
    const exchanges: Exchange[] = [];
    let throttled = 0;
    const db = client(
      recordingTransport(exchanges, async (_exchange, forward) => {
        if (throttled++ < 2) {
          return {
            status: 400,
            headers: {},
            body: JSON.stringify({
              __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
              message: 'The level of configured provisioned throughput for the table was exceeded.',
            }),
          };
        }
        return forward();
      }),
    );
    await db.put({ TableName: table, Item: { pk: 'P#t', sk: 'P', version: 1 } });
    expect(exchanges.map((exchange) => exchange.operation)).toEqual(['PutItem', 'PutItem', 'PutItem']);
    expect((await rawItem({ pk: 'P#t', sk: 'P' }))?.version).toEqual({ N: '1' });
  });

  it('reports a missing region as a configuration error', async () => {
    const db = new DynamoDocumentClient({ env: { AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint } });
    await expect(db.get({ TableName: table, Key: { pk: 'P#1', sk: 'P' } })).rejects.toMatchObject({
      name: 'ConfigError',
    });
  });
});

/** node:crypto behind the `Checksum` interface the SDK signer expects. */
class NodeSha256 {
  readonly #hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    const key =
      typeof secret === 'string' || secret === undefined ? secret : Buffer.from(secret as Uint8Array);
    this.#hash = key === undefined ? createHash('sha256') : createHmac('sha256', key);
  }
  update(data: string | ArrayBuffer | ArrayBufferView) {
    this.#hash.update(typeof data === 'string' ? data : Buffer.from(data as Uint8Array));
  }
  async digest() {
    return new Uint8Array(this.#hash.digest());
  }
  reset() {}
}

describe('DynamoDocumentClient: the wire', () => {
  it('sends DynamoDB JSON 1.0 to the configured endpoint, signed as the SDK signs it', async () => {
    const sent: Array<{ url: URL; headers: Record<string, string>; body: string }> = [];
    const db = new DynamoDocumentClient({
      env: { ...env(), AWS_SESSION_TOKEN: 'session-token' },
      transport: async (url, headers, body) => {
        sent.push({ url, headers, body });
        return httpTransport(url, headers, body);
      },
    });
    await db.get({ TableName: table, Key: { pk: 'P#1', sk: 'P' }, ConsistentRead: true });
    const [request] = sent;
    expect(request?.url.href).toBe(`${dynamo.endpoint}/`);
    expect(request?.headers).toMatchObject({
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'DynamoDB_20120810.GetItem',
      'x-amz-security-token': 'session-token',
    });
    expect(JSON.parse(request?.body ?? '')).toEqual({
      TableName: table,
      Key: { pk: { S: 'P#1' }, sk: { S: 'P' } },
      ConsistentRead: true,
    });
    const { authorization, ...unsigned } = request?.headers ?? {};
    const amzDate = unsigned['x-amz-date'] ?? '';
    const signingDate = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    const oracle = new SignatureV4({
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret', sessionToken: 'session-token' },
      region: 'us-east-1',
      service: 'dynamodb',
      sha256: NodeSha256,
      applyChecksum: false,
    });
    const signed = await oracle.sign(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: request?.url.hostname ?? '',
        port: Number(request?.url.port),
        path: '/',
        query: {},
        headers: Object.fromEntries(
          Object.entries(unsigned).filter(([name]) => name !== 'x-amz-security-token'),
        ),
        body: request?.body,
      },
      { signingDate },
    );
    expect(authorization).toBe(signed.headers.authorization);
    expect(authorization).toMatch(/Credential=AKIDTEST\/\d{8}\/us-east-1\/dynamodb\/aws4_request/);
  });

  it('follows AWS_ENDPOINT_URL when no DynamoDB-specific endpoint is set', async () => {
    const db = new DynamoDocumentClient({
      env: {
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'a',
        AWS_SECRET_ACCESS_KEY: 'b',
        AWS_ENDPOINT_URL: dynamo.endpoint,
      },
    });
    await expect(db.get({ TableName: table, Key: { pk: 'P#1', sk: 'P' } })).resolves.toEqual({});
  });
});

/** What a BatchGetItem request asked of the test table. */
const requestOf = (exchange: Exchange | undefined) =>
  (
    exchange?.input.RequestItems as
      | Record<string, { Keys: Array<{ pk: { S: string } }>; ConsistentRead?: boolean }>
      | undefined
  )?.[table];

describe('DynamoDocumentClient: batchGet', () => {
  const pointer = (i: number) => ({ pk: `ID#email:p${i}@example.com`, sk: 'ID' });

  async function seed(count: number) {
    const db = client();
    for (let i = 0; i < count; i++)
      await db.put({ TableName: table, Item: { ...pointer(i), profileId: `p${i}` } });
  }

  it('reads any number of keys 100 per call, with ConsistentRead passed through', async () => {
    await seed(150);
    const exchanges: Exchange[] = [];
    const keys = Array.from({ length: 250 }, (_, i) => pointer(i));
    const { Items } = await client(recordingTransport(exchanges)).batchGet({
      TableName: table,
      Keys: keys,
      ConsistentRead: true,
    });
    expect(Items.map((item) => item.profileId).sort()).toEqual(
      Array.from({ length: 150 }, (_, i) => `p${i}`).sort(),
    );
    const requested = exchanges.map(requestOf);
    expect(requested.map((request) => request?.Keys.length)).toEqual([100, 100, 50]);
    expect(requested.every((request) => request?.ConsistentRead === true)).toBe(true);
  });

  it('asks again for the keys DynamoDB left unprocessed', async () => {
    await seed(10);
    const exchanges: Exchange[] = [];
    let calls = 0;
    // The first answer holds back half of the keys, as DynamoDB does under throttling.
    const db = client(
      recordingTransport(exchanges, async (exchange, forward) => {
        const response = await forward();
        if (calls++ > 0) return response;
        const answer = JSON.parse(response.body) as {
          Responses: Record<string, Array<{ pk: { S: string } }>>;
        };
        const keys = requestOf(exchange)?.Keys ?? [];
        const heldBack = keys.slice(5);
        const held = new Set(heldBack.map((key) => key.pk.S));
        answer.Responses[table] = (answer.Responses[table] ?? []).filter((item) => !held.has(item.pk.S));
        return {
          ...response,
          body: JSON.stringify({
            ...answer,
            UnprocessedKeys: { [table]: { Keys: heldBack, ConsistentRead: true } },
          }),
        };
      }),
    );
    const { Items } = await db.batchGet({
      TableName: table,
      Keys: Array.from({ length: 10 }, (_, i) => pointer(i)),
      ConsistentRead: true,
    });
    expect(Items).toHaveLength(10);
    expect(exchanges).toHaveLength(2);
    expect(requestOf(exchanges[1])?.Keys).toHaveLength(5);
  });

  it('gives up with an error when keys stay unprocessed', async () => {
    const exchanges: Exchange[] = [];
    const db = new DynamoDocumentClient({
      env: env(),
      batchGetAttempts: 3,
      batchGetBaseDelayMs: 1,
      transport: recordingTransport(exchanges, async (exchange) => ({
        status: 200,
        headers: {},
        body: JSON.stringify({
          Responses: { [table]: [] },
          UnprocessedKeys: exchange.input.RequestItems,
        }),
      })),
    });
    await expect(db.batchGet({ TableName: table, Keys: [pointer(1)] })).rejects.toMatchObject({
      name: 'UnprocessedKeysError',
    });
    expect(exchanges).toHaveLength(3);
  });
});

describe('DynamoDocumentClient: query', () => {
  async function seedTimeline(count: number) {
    const db = client();
    for (let i = 0; i < count; i++) {
      await db.put({
        TableName: table,
        Item: { pk: 'P#q', sk: `T#2025-01-01T00:00:${String(i).padStart(2, '0')}Z#e${i}`, eventId: `e${i}` },
      });
    }
    await db.put({ TableName: table, Item: { pk: 'P#q', sk: 'P', version: 1 } });
  }

  const timeline = {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :t)',
    ExpressionAttributeValues: { ':pk': 'P#q', ':t': 'T#' },
    ScanIndexForward: false,
  };

  it('pages with Limit and ExclusiveStartKey, newest first', async () => {
    await seedTimeline(25);
    const first = await client().query({ TableName: table, ...timeline, Limit: 10 });
    expect(first.Items.map((item) => item.eventId)).toEqual(
      Array.from({ length: 10 }, (_, i) => `e${24 - i}`),
    );
    expect(first.LastEvaluatedKey).toEqual({ pk: 'P#q', sk: first.Items.at(-1)?.sk });
    const second = await client().query({
      TableName: table,
      ...timeline,
      Limit: 10,
      ...(first.LastEvaluatedKey ? { ExclusiveStartKey: first.LastEvaluatedKey } : {}),
    });
    expect(second.Items[0]?.eventId).toBe('e14');
  });

  it('walks every page with queryPages', async () => {
    await seedTimeline(25);
    const exchanges: Exchange[] = [];
    const pages = [];
    for await (const page of client(recordingTransport(exchanges)).queryPages({
      TableName: table,
      ...timeline,
      ProjectionExpression: 'pk, sk',
      Limit: 10,
    })) {
      pages.push(page.Items.length);
    }
    // The third page is not full, so DynamoDB says there is no more.
    expect(pages).toEqual([10, 10, 5]);
    expect(exchanges.map((exchange) => exchange.operation)).toEqual(['Query', 'Query', 'Query']);
  });
});
