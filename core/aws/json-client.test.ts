/**
 * The SDK-less AWS JSON-protocol client of the ingest path: SigV4 checked against
 * `@smithy/signature-v4` (the SDK's signer) as the oracle, the wire protocol against dynalite and a
 * fake endpoint, the retry rules, and the idempotency persistence layer checked item for item
 * against Powertools' own `DynamoDBPersistenceLayer`.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IdempotencyConfig, IdempotencyItemAlreadyExistsError } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDynalite, type TestDynamo } from '../../test/support/dynamo.ts';
import { JsonProtocolPersistenceLayer } from '../ingest/idempotency-store.ts';
import { PowertoolsDeliveryLedger } from '../ingest/ledger.ts';
import { idempotencyTable } from '../tables.ts';
import {
  AwsJsonClient,
  AwsServiceError,
  DYNAMODB,
  EVENTBRIDGE,
  endpointOf,
  SECRETS_MANAGER,
} from './json-client.ts';
import { PutEventsPublisher, putEventsOverJson } from './put-events.ts';
import { signRequest } from './sigv4.ts';

const bytes = (data: string | ArrayBuffer | ArrayBufferView) =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

/** node:crypto behind the `Checksum` interface the SDK signer expects. */
class NodeSha256 {
  readonly #hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView) {
    this.#hash.update(bytes(data));
  }
  async digest() {
    return new Uint8Array(this.#hash.digest());
  }
  reset() {}
}

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

describe('signRequest (SigV4)', () => {
  it.each([
    ['long-term credentials', credentials],
    ['temporary credentials', { ...credentials, sessionToken: 'FwoGZXIvYXdzE//token==' }],
  ])('agrees with the SDK signer with %s', async (_name, creds) => {
    const body = JSON.stringify({ Entries: [{ Source: 'omnihub.shopify', Detail: '{"a":"é"}' }] });
    const url = new URL('https://events.eu-west-1.amazonaws.com/');
    const now = new Date('2025-03-04T05:06:07.890Z');
    const headers = signRequest({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
      body,
      region: 'eu-west-1',
      service: 'events',
      credentials: creds,
      now,
    });
    const { authorization, ...unsigned } = headers;
    const oracle = new SignatureV4({
      credentials: creds,
      region: 'eu-west-1',
      service: 'events',
      sha256: NodeSha256,
      // x-amz-content-sha256 is an S3 header; other services neither need nor get it from us.
      applyChecksum: false,
    });
    const signed = await oracle.sign(
      {
        method: 'POST',
        protocol: 'https:',
        hostname: url.hostname,
        path: '/',
        query: {},
        headers: Object.fromEntries(
          Object.entries(unsigned).filter(([name]) => name !== 'x-amz-security-token'),
        ),
        body,
      },
      { signingDate: now },
    );
    expect(authorization).toBe(signed.headers.authorization);
    expect(headers['x-amz-date']).toBe('20250304T050607Z');
    expect(authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20250304\/eu-west-1\/events\/aws4_request, /,
    );
  });
});

describe('endpointOf', () => {
  it.each([
    [EVENTBRIDGE, {}, 'https://events.us-east-1.amazonaws.com/'],
    [DYNAMODB, { AWS_ENDPOINT_URL: 'http://all:1' }, 'http://all:1'],
    [
      DYNAMODB,
      { AWS_ENDPOINT_URL: 'http://all:1', AWS_ENDPOINT_URL_DYNAMODB: 'http://ddb:2' },
      'http://ddb:2',
    ],
    [SECRETS_MANAGER, { AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://sm:3' }, 'http://sm:3'],
  ])('%j with %j -> %s', (service, env, expected) => {
    expect(endpointOf(service, 'us-east-1', env)).toBe(expected);
  });
});

interface Exchange {
  readonly target: string | undefined;
  readonly authorization: string | undefined;
  readonly body: Record<string, unknown>;
}

/** A fake AWS endpoint answering from a script of (status, body) pairs and recording requests. */
async function fakeEndpoint(script: Array<[number, Record<string, unknown>]>) {
  const exchanges: Exchange[] = [];
  const server: Server = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    exchanges.push({
      target: request.headers['x-amz-target'] as string | undefined,
      authorization: request.headers.authorization,
      body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
    });
    const [status, body] = script.shift() ?? [200, {}];
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    exchanges,
    env: {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKID',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('AwsJsonClient', () => {
  it('retries 5xx and throttling, then answers', async () => {
    const fake = await fakeEndpoint([
      [500, { __type: 'InternalFailure', message: 'boom' }],
      [400, { __type: 'com.amazonaws.events#ThrottlingException', message: 'slow down' }],
      [200, { FailedEntryCount: 0 }],
    ]);
    try {
      const client = new AwsJsonClient(EVENTBRIDGE, { env: fake.env });
      await expect(client.call('PutEvents', { Entries: [] })).resolves.toEqual({ FailedEntryCount: 0 });
      expect(fake.exchanges.map((exchange) => exchange.target)).toEqual([
        'AWSEvents.PutEvents',
        'AWSEvents.PutEvents',
        'AWSEvents.PutEvents',
      ]);
      expect(fake.exchanges[0]?.authorization).toMatch(
        /Credential=AKID\/\d{8}\/us-east-1\/events\/aws4_request/,
      );
    } finally {
      await fake.close();
    }
  });

  it('does not retry a client error and surfaces its code, status and fields like the SDK', async () => {
    const fake = await fakeEndpoint([
      [400, { __type: 'com.amazonaws.dynamodb.v20120810#ValidationException', message: 'bad key', Extra: 1 }],
    ]);
    try {
      const error = await new AwsJsonClient(DYNAMODB, { env: fake.env }).call('GetItem', {}).catch((e) => e);
      expect(error).toBeInstanceOf(AwsServiceError);
      expect(error).toMatchObject({ name: 'ValidationException', message: 'bad key', details: { Extra: 1 } });
      expect(error.$metadata.httpStatusCode).toBe(400);
      expect(fake.exchanges).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });

  it('gives up after 3 attempts', async () => {
    const fake = await fakeEndpoint([
      [503, { __type: 'ServiceUnavailable' }],
      [503, { __type: 'ServiceUnavailable' }],
      [503, { __type: 'ServiceUnavailable' }],
      [200, {}],
    ]);
    try {
      const error = await new AwsJsonClient(EVENTBRIDGE, { env: fake.env })
        .call('PutEvents', {})
        .catch((e) => e);
      expect(error).toMatchObject({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
      expect(fake.exchanges).toHaveLength(3);
    } finally {
      await fake.close();
    }
  });
});

describe('putEventsOverJson', () => {
  it('sends Time as epoch seconds and retries only the failed entries', async () => {
    const fake = await fakeEndpoint([
      [200, { FailedEntryCount: 1, Entries: [{ EventId: 'a' }, { ErrorCode: 'InternalFailure' }] }],
      [200, { FailedEntryCount: 0, Entries: [{ EventId: 'b' }] }],
    ]);
    try {
      const publisher = new PutEventsPublisher({
        busName: 'omnihub',
        putEvents: putEventsOverJson(new AwsJsonClient(EVENTBRIDGE, { env: fake.env })),
        baseDelayMs: 1,
      });
      const envelope = (id: string) => ({
        id,
        type: 'message.opened',
        source: 'omnihub.sendgrid',
        time: '2025-01-01T00:00:00.000Z',
        occurredAt: '2025-01-01T00:00:00.500Z',
        receivedAt: '2025-01-01T00:00:01.000Z',
        schemaVersion: 1,
        dataschema: 'x',
        origin: { connector: 'sendgrid', deliveryId: id },
        identities: [],
        correlationId: 'c',
        data: {},
      });
      const result = await publisher.publish([envelope('1'), envelope('2')]);
      expect([...result.published].sort()).toEqual([0, 1]);
      const entries = fake.exchanges.map(
        (exchange) => exchange.body.Entries as Array<Record<string, unknown>>,
      );
      expect(entries[0]?.[0]).toMatchObject({
        EventBusName: 'omnihub',
        DetailType: 'message.opened',
        Time: 1735689600.5,
      });
      expect(entries[1]?.map((entry) => JSON.parse(String(entry.Detail)).id)).toEqual(['2']);
    } finally {
      await fake.close();
    }
  });
});

describe('JsonProtocolPersistenceLayer against dynalite', () => {
  let dynamo: TestDynamo;
  let table: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(async () => {
    await dynamo.close();
  });
  beforeEach(async () => {
    table = await dynamo.createTable(idempotencyTable);
    env = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    };
  });

  function configured<T extends BasePersistenceLayer>(layer: T): T {
    layer.configure({
      keyPrefix: 'ingest.demo',
      config: new IdempotencyConfig({ eventKeyJmesPath: 'key', expiresAfterSeconds: 3600 }),
    });
    return layer;
  }
  const ours = () =>
    configured(
      new JsonProtocolPersistenceLayer({ tableName: table, client: new AwsJsonClient(DYNAMODB, { env }) }),
    );
  const theirs = () =>
    configured(new DynamoDBPersistenceLayer({ tableName: table, awsSdkV3Client: dynamo.client }));

  const hashed = (key: string) =>
    `ingest.demo#${createHash('md5').update(JSON.stringify(key)).digest('base64')}`;
  async function rawItem(id: string) {
    const result = await dynamo.client.send(
      new GetItemCommand({ TableName: table, Key: { id: { S: id } }, ConsistentRead: true }),
    );
    return result.Item;
  }

  it('writes the same items as Powertools, and each reads what the other wrote', async () => {
    await ours().saveInProgress({ key: 'a' }, 5_000);
    await theirs().saveInProgress({ key: 'b' }, 5_000);
    const [a, b] = await Promise.all([rawItem(hashed('a')), rawItem(hashed('b'))]);
    expect(a && Object.keys(a).sort()).toEqual(b && Object.keys(b).sort());
    expect(a?.status).toEqual({ S: 'INPROGRESS' });

    await theirs().saveSuccess({ key: 'a' }, { published: true });
    await ours().saveSuccess({ key: 'b' }, { published: true });
    expect((await rawItem(hashed('b')))?.data).toEqual({ M: { published: { BOOL: true } } });
    for (const layer of [ours(), theirs()]) {
      for (const key of ['a', 'b']) {
        const record = await layer.getRecord({ key });
        expect(record.getStatus()).toBe('COMPLETED');
        expect(record.getResponse()).toEqual({ published: true });
      }
    }
  });

  it('marshals nested response data as Powertools does', async () => {
    const response = {
      published: 2,
      events: ['e1', { id: 'e2', ratio: 0.25 }],
      origin: { connector: 'shopify', retried: false, note: null },
    };
    for (const [key, layer] of [
      ['ours', ours()],
      ['theirs', theirs()],
    ] as const) {
      await layer.saveInProgress({ key }, 5_000);
      await layer.saveSuccess({ key }, response);
    }
    const [mine, powertools] = await Promise.all([rawItem(hashed('ours')), rawItem(hashed('theirs'))]);
    expect(mine?.data).toEqual(powertools?.data);
    expect(mine?.data?.M?.origin?.M).toEqual({
      connector: { S: 'shopify' },
      retried: { BOOL: false },
      note: { NULL: true },
    });
    for (const layer of [ours(), theirs()]) {
      for (const key of ['ours', 'theirs']) {
        expect((await layer.getRecord({ key })).getResponse()).toEqual(response);
      }
    }
  });

  it('leaves undefined fields of response data out (Powertools refuses them)', async () => {
    const layer = ours();
    await layer.saveInProgress({ key: 'sparse' }, 5_000);
    await layer.saveSuccess({ key: 'sparse' }, { published: 1, skipped: undefined, list: [1, undefined] });
    expect((await rawItem(hashed('sparse')))?.data).toEqual({
      M: { published: { N: '1' }, list: { L: [{ N: '1' }] } },
    });
    expect((await theirs().getRecord({ key: 'sparse' })).getResponse()).toEqual({ published: 1, list: [1] });
  });

  it('refuses a second reservation of the same key with IdempotencyItemAlreadyExistsError', async () => {
    await ours().saveInProgress({ key: 'x' }, 5_000);
    const error = await ours()
      .saveInProgress({ key: 'x' }, 5_000)
      .catch((e) => e);
    expect(error).toBeInstanceOf(IdempotencyItemAlreadyExistsError);
  });

  it('lets a reservation whose invocation ran out of time be taken again', async () => {
    await ours().saveInProgress({ key: 'late' }, 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(ours().saveInProgress({ key: 'late' }, 5_000)).resolves.toBeUndefined();
  });

  it('backs the delivery ledger: reserve, complete, redelivery, release', async () => {
    // The ledger configures its store itself.
    const ledger = () =>
      new PowertoolsDeliveryLedger({
        tableName: table,
        keyPrefix: 'ingest.demo',
        store: new JsonProtocolPersistenceLayer({
          tableName: table,
          client: new AwsJsonClient(DYNAMODB, { env }),
        }),
      });
    const first = ledger();
    expect(await first.reserve(['k1', 'k2'], 5_000)).toEqual(
      new Map([
        ['k1', 'reserved'],
        ['k2', 'reserved'],
      ]),
    );
    await first.complete(['k1']);
    await first.release(['k2']);
    expect(await ledger().reserve(['k1', 'k2', 'k3'], 5_000)).toEqual(
      new Map([
        ['k1', 'completed'],
        ['k2', 'reserved'],
        ['k3', 'reserved'],
      ]),
    );
    expect(await ledger().reserve(['k3'], 5_000)).toEqual(new Map([['k3', 'in_progress']]));
  });
});
