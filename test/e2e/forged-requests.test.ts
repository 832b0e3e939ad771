/**
 * What a developer exposes when they tunnel the local hub to receive real webhooks: its webhook
 * listener, reached here as ngrok or cloudflared reach it, through a TCP proxy connecting from
 * 127.0.0.1. With the real topology and its consumers running, every forged request kind sent that way
 * (AWS API calls on any path, signed or not, with the loopback listener's Host; the profile API and
 * the `/local` routes; webhooks with a missing or wrong signature) is refused and publishes nothing,
 * while signed webhooks and `/health` work through the same tunnel.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../core/aws/sigv4.ts';
import { generateWebhookKeys, signWebhook, type WebhookKeys } from '../../demo/vendor-webhooks.ts';
import { type LocalHub, startLocalHub } from '../../local/hub.ts';
import { LOCAL_HUB_CREDENTIALS } from '../../local/hub-environment.ts';

const PUBLIC_URL = 'https://hooks.example.com';
const FORGED_EMAIL = 'forged.person@example.com';

interface Tunnel {
  readonly url: string;
  close(): Promise<void>;
}

/** A TCP proxy to 127.0.0.1:`port`, as a tunnel client runs one: every connection comes from loopback. */
async function startTunnel(port: number): Promise<Tunnel> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(port, '127.0.0.1');
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const tunnelPort = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${tunnelPort}`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

interface Answer {
  readonly status: number;
  readonly text: string;
}

/** A request sent exactly as given (node:http): a `host` header here replaces the real one. */
function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body = '',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${base}${path}`, { method, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** A Shopify delivery of the connector's fixtures, signed now with the hub's keys. */
function signedShopifyFixture(file: string): { path: string; headers: Record<string, string>; body: string } {
  const fixture = JSON.parse(
    readFileSync(new URL(`../../connectors/shopify/fixtures/${file}`, import.meta.url), 'utf8'),
  ) as { request: { headers: Record<string, string>; body: string } };
  const headers = Object.fromEntries(
    Object.entries(fixture.request.headers).filter(([name]) => !/hmac/i.test(name)),
  );
  return signWebhook({ connector: 'shopify', body: fixture.request.body, headers }, keys);
}

let keys: WebhookKeys;
let hub: LocalHub;
let tunnel: Tunnel;
/** A real person's profile, made before the forgeries: they must neither read nor erase it. */
let profileId: string;
const PROFILE_QUERY = '/profiles?email=bob.norman%40example.com';
/** Events archived before the forgeries. */
let archivedBefore: number;

beforeAll(async () => {
  keys = generateWebhookKeys(PUBLIC_URL);
  hub = await startLocalHub({
    port: 0,
    dataDir: ':memory:',
    env: { ...keys.secrets, OMNIHUB_PUBLIC_URL: PUBLIC_URL },
    log: () => {},
  });
  tunnel = await startTunnel(Number(new URL(hub.webhookUrl).port));
  const created = signedShopifyFixture('customers-create.json');
  expect((await send(hub.url, 'POST', created.path, created.headers, created.body)).status).toBe(200);
  await hub.drain({ timeoutMs: 10_000 });
  const profile = await send(hub.url, 'GET', PROFILE_QUERY);
  profileId = (JSON.parse(profile.text) as { profileId: string }).profileId;
  archivedBefore = hub.health().archivedEvents;
});

afterAll(async () => {
  await tunnel?.close();
  await hub?.stop();
});

/** A consent change for a person nobody registered, as an EventBridge entry of the hub's bus. */
function forgedPutEvents(): string {
  return JSON.stringify({
    Entries: [
      {
        EventBusName: hub.busName,
        Source: 'omnihub.shopify',
        DetailType: 'consent.changed',
        Detail: JSON.stringify({
          id: randomUUID(),
          type: 'consent.changed',
          identities: [{ type: 'email', value: FORGED_EMAIL }],
          data: { channel: 'email', status: 'subscribed' },
        }),
      },
    ],
  });
}

/** An AWS JSON call signed with the hub's own credentials, for the loopback listener's Host. */
function signedAwsCall(target: string, jsonVersion: '1.0' | '1.1', service: string, body: string) {
  const headers = signRequest({
    method: 'POST',
    url: new URL(hub.url),
    headers: { 'content-type': `application/x-amz-json-${jsonVersion}`, 'x-amz-target': target },
    body,
    region: hub.region,
    service,
    credentials: LOCAL_HUB_CREDENTIALS,
    now: new Date(),
  });
  return { headers, body };
}

const signedPutEvents = () => signedAwsCall('AWSEvents.PutEvents', '1.1', 'events', forgedPutEvents());

const forgedCustomer = JSON.stringify({ id: 7_010_101, email: FORGED_EMAIL, accepts_marketing: true });
const shopifyHeaders = {
  'content-type': 'application/json',
  'x-shopify-topic': 'customers/create',
  'x-shopify-shop-domain': 'omnihub-demo.myshopify.com',
  'x-shopify-webhook-id': 'b54557e4-8a5f-4bf7-9d70-bcd0430c0999',
};

interface ForgedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

const forgeries: [string, () => ForgedRequest, number][] = [
  [
    'PutEvents on a webhook route, unsigned',
    () => ({
      method: 'POST',
      path: '/webhooks/shopify',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
      body: forgedPutEvents(),
    }),
    401,
  ],
  [
    'PutEvents on a webhook route, SigV4-signed with the hub credentials',
    () => ({ method: 'POST', path: '/webhooks/shopify', ...signedPutEvents() }),
    401,
  ],
  [
    'PutEvents at /, unsigned',
    () => ({
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
      body: forgedPutEvents(),
    }),
    404,
  ],
  [
    "PutEvents at /, SigV4-signed with the hub's credentials and the loopback listener's Host",
    () => ({ method: 'POST', path: '/', ...signedPutEvents() }),
    404,
  ],
  [
    'PutEvents on any other path, signed',
    () => ({ method: 'POST', path: '/events', ...signedPutEvents() }),
    404,
  ],
  [
    "SQS SendMessage to the profile writer's queue, signed",
    () => ({
      method: 'POST',
      path: '/',
      ...signedAwsCall(
        'AmazonSQS.SendMessage',
        '1.0',
        'sqs',
        JSON.stringify({ QueueUrl: hub.queueUrl('profile-writer'), MessageBody: forgedPutEvents() }),
      ),
    }),
    404,
  ],
  [
    'DynamoDB PutItem into the profiles table, signed',
    () => ({
      method: 'POST',
      path: '/',
      ...signedAwsCall(
        'DynamoDB_20120810.PutItem',
        '1.0',
        'dynamodb',
        JSON.stringify({ TableName: 'profiles', Item: { pk: { S: `email#${FORGED_EMAIL}` } } }),
      ),
    }),
    404,
  ],
  [
    'SQS over the query protocol',
    () => ({
      method: 'POST',
      path: '/000000000000/profile-writer',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `Action=SendMessage&MessageBody=${encodeURIComponent(forgedPutEvents())}`,
    }),
    404,
  ],
  [
    'a Shopify webhook without a signature',
    () => ({ method: 'POST', path: '/webhooks/shopify', headers: shopifyHeaders, body: forgedCustomer }),
    401,
  ],
  [
    'a Shopify webhook signed with a guessed secret',
    () => ({
      method: 'POST',
      path: '/webhooks/shopify',
      headers: {
        ...shopifyHeaders,
        'x-shopify-hmac-sha256': createHmac('sha256', 'guessed').update(forgedCustomer).digest('base64'),
      },
      body: forgedCustomer,
    }),
    401,
  ],
  [
    'a Twilio STOP with a wrong signature',
    () => ({
      method: 'POST',
      path: '/webhooks/twilio',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': 'aCA2XXnL/YzsYJrzSYCK761HN5w=',
      },
      body: 'MessageSid=SM5d6e7f8091a2b3c4d5e6f70812233445&From=%2B14155550100&To=%2B14155550199&Body=START',
    }),
    401,
  ],
  ["a lookup of a person's profile", () => ({ method: 'GET', path: PROFILE_QUERY, headers: {} }), 404],
  ["a person's erasure", () => ({ method: 'DELETE', path: `/profiles/${profileId}`, headers: {} }), 404],
  ['the bus archive', () => ({ method: 'GET', path: '/local/events', headers: {} }), 404],
  ['an outbox', () => ({ method: 'GET', path: '/local/outbox/hubspot', headers: {} }), 404],
];

describe('Local hub: what a tunnel to the webhook listener exposes', () => {
  it.each(forgeries)('refuses %s', async (_kind, forge, status) => {
    const archived = hub.health().archivedEvents;
    const { method, path, headers, body } = forge();
    const answer = await send(tunnel.url, method, path, headers, body);
    expect(answer.status).toBe(status);
    expect(JSON.parse(answer.text)).toMatchObject({ error: expect.stringMatching(/^[a-z_]+$/) });
    expect(hub.health().archivedEvents).toBe(archived);
  });

  it('published nothing: no event, no message, no profile for the forged person, nothing erased', async () => {
    await hub.drain({ timeoutMs: 10_000 });
    const health = hub.health();
    expect(health.archivedEvents).toBe(archivedBefore);
    for (const consumer of health.consumers) {
      expect({ id: consumer.id, dlq: consumer.deadLetterQueue.visible }).toEqual({ id: consumer.id, dlq: 0 });
    }
    const lookup = await send(hub.url, 'GET', `/profiles?email=${encodeURIComponent(FORGED_EMAIL)}`);
    expect(lookup.status).toBe(404);
    const kept = await send(hub.url, 'GET', PROFILE_QUERY);
    expect(kept.status).toBe(200);
    expect(JSON.parse(kept.text)).toMatchObject({ profileId });
  });

  it('serves /health (its status only) and signed webhooks through the same tunnel', async () => {
    const health = await send(tunnel.url, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toEqual({ status: 'ok' });

    const signed = signedShopifyFixture('customers-update.json');
    const delivered = await send(tunnel.url, 'POST', signed.path, signed.headers, signed.body);
    expect(delivered).toMatchObject({ status: 200 });
    await hub.drain({ timeoutMs: 10_000 });
    expect(hub.health().archivedEvents).toBeGreaterThan(archivedBefore);
    const updated = await send(hub.url, 'GET', '/profiles?email=bob%40example.com');
    expect(JSON.parse(updated.text)).toMatchObject({ profileId });
  });

  it('accepts on the loopback listener the very PutEvents call the tunnel refused', async () => {
    const archived = hub.health().archivedEvents;
    const { headers, body } = signedPutEvents();
    const answer = await send(hub.url, 'POST', '/', headers, body);
    expect(answer.status).toBe(200);
    expect(hub.health().archivedEvents).toBe(archived + 1);
  });

  it('answers a tunnel pointed at the loopback listener by mistake only with 421, when it forwards its own Host', async () => {
    const misdirected = await startTunnel(Number(new URL(hub.url).port));
    try {
      const answer = await send(misdirected.url, 'GET', PROFILE_QUERY, {
        host: 'f00d-203-0-113-7.ngrok-free.app',
      });
      expect(answer.status).toBe(421);
      expect(JSON.parse(answer.text)).toMatchObject({ error: 'misdirected_request' });
    } finally {
      await misdirected.close();
    }
  });
});
