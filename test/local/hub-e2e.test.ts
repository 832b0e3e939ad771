/**
 * The local hub end to end, in-process: webhook -> ingest handler -> real EventBridge client ->
 * PutEvents -> rule -> SQS queue -> event source mapping -> consumer, plus the HTTP surface of the hub.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalHub, startLocalHub } from '../../local/hub.ts';
import { clearAwsAndOmnihubEnvironment, hubClientConfig } from './support/environment.ts';
import { recordedDeliveries } from './support/recorder.ts';
import { testTopology } from './support/test-topology.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const EVENTBRIDGE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

let hub: LocalHub;
let recorderDir: string;
const logLines: string[] = [];

beforeAll(async () => {
  clearAwsAndOmnihubEnvironment();
  recorderDir = mkdtempSync(join(tmpdir(), 'omnihub-recorder-'));
  hub = await startLocalHub({
    topology: testTopology({ visibilityTimeoutSeconds: 1, maxReceiveCount: 2 }),
    port: 0,
    dataDir: ':memory:',
    env: { OMNIHUB_TEST_RECORDER_DIR: recorderDir, TESTSHOP_WEBHOOK_SECRET: 'local-secret' },
    log: (line) => logLines.push(line),
  });
});

afterAll(async () => {
  await hub?.stop();
  rmSync(recorderDir, { recursive: true, force: true });
});

interface PublishedOrder {
  readonly eventId: string;
  readonly detail: Record<string, unknown>;
}

async function postOrder(order: Record<string, unknown>): Promise<PublishedOrder> {
  const response = await fetch(`${hub.url}/webhooks/testshop`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(order),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as PublishedOrder;
}

/** A raw HTTP request (node:http), for repeated headers and exact bytes that fetch would normalise. */
function rawRequest(
  path: string,
  options: { method?: string; headers?: Record<string, string | string[]>; body?: Buffer },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${hub.url}${path}`, {
      method: options.method ?? 'POST',
      headers: options.headers,
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

/**
 * Sends `request` on one TCP connection, waits `idleMs`, sends it again on the same connection;
 * resolves with the status line of each answer (`closed` when the server had closed the connection).
 */
async function twoRequestsOnOneConnection(url: string, request: string, idleMs: number): Promise<string[]> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let closed = false;
  socket.on('close', () => {
    closed = true;
  });
  socket.on('error', () => undefined);
  const answer = () =>
    new Promise<string>((resolve) => {
      if (closed) return resolve('closed');
      socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1').split('\r\n')[0] ?? ''));
      socket.once('close', () => resolve('closed'));
      socket.write(request);
    });
  const first = await answer();
  await new Promise((resolve) => setTimeout(resolve, idleMs));
  const second = await answer();
  socket.destroy();
  return [first, second];
}

async function echo(
  body: Buffer | undefined,
  headers: Record<string, string | string[]>,
  query = '',
): Promise<APIGatewayProxyEventV2> {
  const response = await rawRequest(`/webhooks/echo${query}`, { headers, body });
  expect(response.status).toBe(200);
  return JSON.parse(response.body.toString('utf8')) as APIGatewayProxyEventV2;
}

describe('Local hub: webhook to consumer', () => {
  it('delivers the published event through rule and queue to the matching consumer, shaped as AWS delivers it', async () => {
    const published = await postOrder({ id: '1001', total: '12.50' });
    await hub.drain({ timeoutMs: 10_000 });

    const deliveries = recordedDeliveries(recorderDir, 'order-recorder').filter((delivery) =>
      delivery.record.body.includes(published.eventId),
    );
    expect(deliveries).toHaveLength(1);
    const [{ record, remainingMs }] = deliveries as [(typeof deliveries)[number]];
    expect(record).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:order-recorder',
      awsRegion: 'us-east-1',
      md5OfBody: createHash('md5').update(record.body).digest('hex'),
      messageAttributes: {},
      attributes: { ApproximateReceiveCount: '1', SenderId: expect.stringMatching(/^AIDA[A-Z0-9]+$/) },
    });
    expect(record.attributes.SentTimestamp).toMatch(/^\d{13}$/);
    expect(remainingMs).toBeGreaterThan(0);
    expect(remainingMs).toBeLessThanOrEqual(5000);

    const event = JSON.parse(record.body) as Record<string, unknown>;
    expect(Object.keys(event)).toEqual([
      'version',
      'id',
      'detail-type',
      'source',
      'account',
      'time',
      'region',
      'resources',
      'detail',
    ]);
    expect(event).toEqual({
      version: '0',
      id: published.eventId,
      'detail-type': 'order.placed',
      source: 'omnihub.testshop',
      account: '000000000000',
      time: expect.stringMatching(EVENTBRIDGE_TIME),
      region: 'us-east-1',
      resources: ['testshop:order/1001'],
      detail: published.detail,
    });
    expect(published.eventId).toMatch(UUID);
    expect(Math.abs(Date.parse(event.time as string) - Date.now())).toBeLessThan(60_000);
  });

  it('gives a consumer whose rule does not match nothing, and the matching one only its events', async () => {
    const placed = await postOrder({ id: '2001' });
    const refunded = await postOrder({ id: '2002', type: 'order.refunded' });
    await hub.drain({ timeoutMs: 10_000 });

    const bodiesOf = (consumer: string) =>
      recordedDeliveries(recorderDir, consumer).map(
        (delivery) => JSON.parse(delivery.record.body).id as string,
      );
    expect(bodiesOf('refund-recorder')).toEqual([refunded.eventId]);
    expect(bodiesOf('order-recorder')).toContain(placed.eventId);
    expect(bodiesOf('order-recorder')).not.toContain(refunded.eventId);
  });

  it('deletes the processed records of a batch, retries the failed one and moves it to the DLQ after maxReceiveCount', async () => {
    const sqs = new SQSClient(hubClientConfig(hub));
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: hub.queueUrl('order-recorder'),
        Entries: [
          { Id: 'ok', MessageBody: JSON.stringify({ fail: false, marker: 'batch-ok' }) },
          { Id: 'bad', MessageBody: JSON.stringify({ fail: true, marker: 'batch-bad' }) },
        ],
      }),
    );
    const idOf = (entryId: string) => sent.Successful?.find((entry) => entry.Id === entryId)?.MessageId;
    await hub.drain({ timeoutMs: 10_000 });

    const receiveCounts = (messageId: string | undefined) =>
      recordedDeliveries(recorderDir, 'order-recorder')
        .filter((delivery) => delivery.record.messageId === messageId)
        .map((delivery) => delivery.record.attributes.ApproximateReceiveCount);
    expect(receiveCounts(idOf('ok'))).toEqual(['1']);
    expect(receiveCounts(idOf('bad'))).toEqual(['1', '2']);

    const deadLetters = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: hub.queueUrl('order-recorder-dlq'),
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    expect(deadLetters.Messages).toHaveLength(1);
    expect(deadLetters.Messages?.[0]).toMatchObject({
      MessageId: idOf('bad'),
      Body: JSON.stringify({ fail: true, marker: 'batch-bad' }),
      Attributes: { DeadLetterQueueSourceArn: 'arn:aws:sqs:us-east-1:000000000000:order-recorder' },
    });
    sqs.destroy();
  });
  it('holds messages while the consumers are paused and delivers them on resume', async () => {
    hub.pauseConsumers();
    const published = await postOrder({ id: '4001' });
    expect(hub.health().consumers.find((consumer) => consumer.id === 'order-recorder')).toMatchObject({
      state: 'paused',
      queue: { visible: 1, inFlight: 0 },
    });
    await expect(hub.drain({ timeoutMs: 1000 })).rejects.toThrow(/consumers are not running/);
    hub.resumeConsumers();
    await hub.drain({ timeoutMs: 10_000 });
    const ids = recordedDeliveries(recorderDir, 'order-recorder').map(
      (delivery) => JSON.parse(delivery.record.body).id,
    );
    expect(ids.filter((id) => id === published.eventId)).toHaveLength(1);
  });
});

describe('Local hub: environment for handlers', () => {
  it('points SDK clients built without an endpoint at the hub and dynalite, with the topology tables', async () => {
    expect(process.env).toMatchObject({
      AWS_ENDPOINT_URL_EVENTBRIDGE: hub.url,
      AWS_ENDPOINT_URL_SQS: hub.url,
      AWS_ENDPOINT_URL_DYNAMODB: hub.dynamoDbUrl,
      AWS_REGION: 'us-east-1',
      OMNIHUB_BUS_NAME: 'omnihub-test',
      OMNIHUB_PUBLIC_URL: hub.url,
      OMNIHUB_IDEMPOTENCY_TABLE: 'idempotency',
      OMNIHUB_PROFILE_TABLE: 'profiles',
    });
    const dynamoDb = new DynamoDBClient({});
    const { Table } = await dynamoDb.send(
      new DescribeTableCommand({ TableName: process.env.OMNIHUB_PROFILE_TABLE }),
    );
    dynamoDb.destroy();
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
  });
});

describe('Local hub: HTTP surface', () => {
  it('answers /health with version, connectors, routes and consumer queues', async () => {
    const response = await fetch(`${hub.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'ok',
      version,
      url: hub.url,
      bus: { name: 'omnihub-test', arn: 'arn:aws:events:us-east-1:000000000000:event-bus/omnihub-test' },
      connectors: [
        { id: 'testshop', configured: true, missingSecrets: [] },
        { id: 'broken', configured: true },
        { id: 'echo', configured: true },
      ],
      routes: [
        { kind: 'webhook', method: 'POST', path: '/webhooks/testshop', target: 'testshop' },
        { kind: 'webhook', method: 'POST', path: '/webhooks/broken', target: 'broken' },
        { kind: 'webhook', method: 'POST', path: '/webhooks/echo', target: 'echo' },
        { kind: 'api', method: 'GET', path: '/things/{thingId}', target: 'things-api' },
        { kind: 'api', method: 'DELETE', path: '/things/{thingId}', target: 'things-api' },
        { kind: 'api', method: 'GET', path: '/things/{thingId}/parts', target: 'things-api' },
      ],
      consumers: [
        {
          id: 'order-recorder',
          state: 'running',
          queue: { name: 'order-recorder' },
          deadLetterQueue: { name: 'order-recorder-dlq' },
        },
        { id: 'refund-recorder', state: 'running', queue: { name: 'refund-recorder', visible: 0 } },
      ],
    });
  });

  it('answers unknown routes with 404 JSON and wrong methods with 405 JSON', async () => {
    const missing = await fetch(`${hub.url}/webhooks/unknown`, { method: 'POST', body: '{}' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: 'not_found',
      message: 'No route for POST /webhooks/unknown.',
    });

    const wrongMethod = await fetch(`${hub.url}/webhooks/testshop`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect(await wrongMethod.json()).toEqual({
      error: 'method_not_allowed',
      message: '/webhooks/testshop accepts only POST.',
    });

    const postHealth = await fetch(`${hub.url}/health`, { method: 'POST' });
    expect(postHealth.status).toBe(405);
  });

  it('routes API route keys with path parameters as API Gateway does, and 405s other methods', async () => {
    const thing = await fetch(`${hub.url}/things/a%20b?x=1`);
    expect(thing.status).toBe(200);
    expect(await thing.json()).toMatchObject({
      routeKey: 'GET /things/{thingId}',
      rawPath: '/things/a%20b',
      pathParameters: { thingId: 'a b' },
      queryStringParameters: { x: '1' },
      requestContext: { routeKey: 'GET /things/{thingId}', http: { method: 'GET' } },
    });
    const parts = await fetch(`${hub.url}/things/42/parts`);
    expect(await parts.json()).toMatchObject({
      routeKey: 'GET /things/{thingId}/parts',
      pathParameters: { thingId: '42' },
    });
    const deleted = await fetch(`${hub.url}/things/42`, { method: 'DELETE' });
    expect(await deleted.json()).toMatchObject({ routeKey: 'DELETE /things/{thingId}' });

    const wrongMethod = await fetch(`${hub.url}/things/42`, { method: 'POST', body: '{}' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, DELETE');
    expect((await fetch(`${hub.url}/things/42/parts/7`)).status).toBe(404);
  });

  it('answers a throwing handler with 500 JSON without a stack trace, and keeps personal data out of the log', async () => {
    const response = await fetch(`${hub.url}/webhooks/broken`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      error: 'internal_error',
      message: 'cannot parse order for ana.lopez@example.com, phone +1 (415) 555-0142',
    });
    expect(text).not.toMatch(/\bat .*\.ts:\d+/);

    const log = logLines.join('\n');
    expect(log).toContain(
      'POST /webhooks/broken: handler failed: TypeError: cannot parse order for [email], phone [phone]',
    );
    expect(log).not.toContain('ana.lopez@example.com');
    expect(log).not.toContain('555-0142');
  });

  it("answers bodies over API Gateway's 10 MB limit with 413", async () => {
    const response = await rawRequest('/webhooks/echo', {
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(10 * 1024 * 1024 + 1, 0x61),
    });
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body.toString('utf8'))).toMatchObject({ error: 'payload_too_large' });
  });

  it("keeps idle connections, its own and dynalite's, open past Node's default (announced 5 s, closed after 6 s), so a pooled client that reuses one is not reset", async () => {
    const dynamoDb = hub.health().endpoints.dynamoDb;
    const listTables = [
      'POST / HTTP/1.1',
      'host: localhost',
      'content-type: application/x-amz-json-1.0',
      'x-amz-target: DynamoDB_20120810.ListTables',
      'content-length: 2',
      '',
      '{}',
    ].join('\r\n');
    const [own, dynalite] = await Promise.all([
      twoRequestsOnOneConnection(hub.url, 'GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n', 6_500),
      twoRequestsOnOneConnection(dynamoDb, listTables, 6_500),
    ]);
    expect(own).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    // dynalite answers an unsigned call too (400 MissingAuthenticationToken): any answer shows the connection lived.
    expect(dynalite[1]).toMatch(/^HTTP\/1\.1 \d{3} /);
    expect(dynalite[1]).toBe(dynalite[0]);
  }, 15_000);
});

describe('Local hub: API Gateway payload 2.0', () => {
  it('builds the request event: routeKey, raw path and query, joined headers, cookies, request context', async () => {
    const event = await echo(
      Buffer.from('{"hello":"world"}'),
      {
        'content-type': 'application/json',
        'x-repeat': ['one', 'two'],
        cookie: 'c1=v1; c2=v2',
        'user-agent': 'vendor-webhooks/1.0',
      },
      '?b=2&a=1&a=3&e=%40x',
    );
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /webhooks/echo',
      rawPath: '/webhooks/echo',
      rawQueryString: 'b=2&a=1&a=3&e=%40x',
      queryStringParameters: { b: '2', a: '1,3', e: '@x' },
      cookies: ['c1=v1', 'c2=v2'],
      body: '{"hello":"world"}',
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        http: {
          method: 'POST',
          path: '/webhooks/echo',
          sourceIp: '127.0.0.1',
          userAgent: 'vendor-webhooks/1.0',
        },
        routeKey: 'POST /webhooks/echo',
        stage: '$default',
      },
    });
    expect(event.headers['x-repeat']).toBe('one,two');
    expect(event.headers.cookie).toBeUndefined();
    expect(event.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(Math.abs(event.requestContext.timeEpoch - Date.now())).toBeLessThan(60_000);
  });

  it.each([
    ['application/json', false],
    ['application/json; charset=utf-8', false],
    ['text/plain', false],
    ['application/xml', false],
    ['application/x-www-form-urlencoded', true],
    ['application/octet-stream', true],
    ['multipart/form-data; boundary=x', true],
  ])('passes a %s body with isBase64Encoded %s, byte for byte', async (contentType, base64) => {
    const bytes = Buffer.from('order=1&name=Zoë&total=12.50', 'utf8');
    const event = await echo(bytes, { 'content-type': contentType });
    expect(event.isBase64Encoded).toBe(base64);
    expect(Buffer.from(event.body ?? '', base64 ? 'base64' : 'utf8').equals(bytes)).toBe(true);
  });

  it('base64-encodes a body without Content-Type, and a "text" body that is not UTF-8', async () => {
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]);
    const headerSets: Record<string, string>[] = [{}, { 'content-type': 'text/plain' }];
    for (const headers of headerSets) {
      const event = await echo(latin1, headers);
      expect(event.isBase64Encoded).toBe(true);
      expect(Buffer.from(event.body ?? '', 'base64').equals(latin1)).toBe(true);
    }
  });

  it('turns results into responses per the payload 2.0 rules', async () => {
    const asString = await rawRequest('/webhooks/echo', { headers: { 'x-echo-mode': 'string' } });
    expect([asString.status, asString.headers['content-type'], asString.body.toString()]).toEqual([
      200,
      'application/json',
      'plain string result',
    ]);

    const asObject = await rawRequest('/webhooks/echo', { headers: { 'x-echo-mode': 'object' } });
    expect([asObject.status, asObject.body.toString()]).toEqual([200, '{"ok":true}']);

    const binary = await rawRequest('/webhooks/echo', { headers: { 'x-echo-mode': 'binary' } });
    expect(binary.status).toBe(201);
    expect([...binary.body]).toEqual([0, 1, 2, 255]);
    expect(binary.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2']);
    expect(binary.headers['x-custom']).toBe('yes');
    expect(binary.headers['apigw-requestid']).toMatch(/^[A-Za-z0-9+/]{15}=$/);

    const malformed = await rawRequest('/webhooks/echo', { headers: { 'x-echo-mode': 'malformed' } });
    expect(malformed.status).toBe(500);
    expect(JSON.parse(malformed.body.toString())).toMatchObject({ error: 'internal_error' });
  });
});

describe('Local hub: GET /local/events', () => {
  it('filters by type and receive time, returns the most recent within limit, oldest first', async () => {
    const since = new Date().toISOString();
    const first = await postOrder({ id: '3001', type: 'catalog.synced' });
    const second = await postOrder({ id: '3002', type: 'catalog.synced' });
    await postOrder({ id: '3003', type: 'order.placed' });

    const all = await fetch(`${hub.url}/local/events?type=catalog.synced&since=${encodeURIComponent(since)}`);
    expect(all.status).toBe(200);
    const body = (await all.json()) as {
      events: { receivedAt: string; event: { id: string } }[];
      truncated: boolean;
    };
    expect(body.events.map((archived) => archived.event.id)).toEqual([first.eventId, second.eventId]);
    expect(body.truncated).toBe(false);
    expect(Date.parse(body.events[0]?.receivedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(since));

    const limited = await (await fetch(`${hub.url}/local/events?type=catalog.synced&limit=1`)).json();
    expect(limited).toMatchObject({ count: 1, truncated: true, events: [{ event: { id: second.eventId } }] });

    const future = await (await fetch(`${hub.url}/local/events?since=2999-01-01T00:00:00Z`)).json();
    expect(future).toMatchObject({ count: 0, events: [] });
  });

  it.each([
    ['since=yesterday', 'since must be an ISO 8601 date-time'],
    ['limit=0', 'limit must be an integer from 1 to 1000'],
    ['limit=1001', 'limit must be an integer from 1 to 1000'],
    ['limit=ten', 'limit must be an integer from 1 to 1000'],
    ['kind=order.placed', 'Unknown parameter kind'],
  ])('answers ?%s with 400 JSON', async (query, message) => {
    const response = await fetch(`${hub.url}/local/events?${query}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'bad_request',
      message: expect.stringContaining(message),
    });
  });
});
