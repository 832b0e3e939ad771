/**
 * Delivery: retries with backoff, Retry-After / X-RateLimit-Reset honoured, deferral to the queue when
 * the wait is too long, the rate limiter (a vendor's own throttling signal, such as Shopify's GraphQL
 * THROTTLED, is tested in its connector's `outbound.test.ts`); and the engine's rules (own
 * changes, irrelevant changes, unchanged records, external-id write-back).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeHubSpot } from '../../connectors/hubspot/fake-api.ts';
import { hubspotOutbound } from '../../connectors/hubspot/outbound.ts';
import { FakeSendGrid } from '../../connectors/sendgrid/fake-api.ts';
import { sendgridOutbound } from '../../connectors/sendgrid/outbound.ts';
import { FakeSquare } from '../../connectors/square/fake-api.ts';
import { squareOutbound } from '../../connectors/square/outbound.ts';
import type { EventPublisher } from '../../core/aws/publisher.ts';
import type { Envelope } from '../../core/events/envelope.ts';
import type { ProfileItem } from '../../core/profile/store.ts';
import { resolveDestination } from '../../core/sync/config.ts';
import { SyncEngine } from '../../core/sync/engine.ts';
import { TokenBucket } from '../../core/sync/rate-limit.ts';
import { MemorySyncStateStore } from '../../core/sync/state.ts';
import { DeferredDeliveryError, HttpVendorClient, retryAfterMs } from '../../core/sync/vendor-client.ts';
import { clientFor, DEFAULT_CONFIG, FAST_DELIVERY, profileItem, stamped } from '../support/sync.ts';

describe('Vendor client', () => {
  const hubspot = new FakeHubSpot('hs-token');
  const square = new FakeSquare('sq-token');
  const sendgrid = new FakeSendGrid('SG.key');
  beforeAll(() => Promise.all([hubspot.start(), square.start(), sendgrid.start()]));
  afterAll(() => Promise.all([hubspot.stop(), square.stop(), sendgrid.stop()]));
  const upsert = { method: 'POST' as const, path: '/crm/v3/objects/contacts/batch/upsert' };
  const body = { inputs: [{ idProperty: 'email', id: 'ada@example.com', properties: { firstname: 'Ada' } }] };

  it('429 with Retry-After, then 500s: waits as told, retries, and applies the request once', async () => {
    hubspot.misbehave(
      {
        status: 429,
        headers: { 'retry-after': '1' },
        body: { status: 'error', policyName: 'TEN_SECONDLY_ROLLING' },
      },
      { status: 500, body: { status: 'error', message: 'internal' } },
      { status: 502 },
    );
    const started = Date.now();
    const retries: boolean[] = [];
    const response = await clientFor(
      hubspotOutbound,
      hubspot.url,
      { HUBSPOT_ACCESS_TOKEN: 'hs-token' },
      {},
      ({ throttled }) => retries.push(throttled),
    ).request({
      ...upsert,
      body,
    });
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(hubspot.requests.map((request) => request.status)).toEqual([429, 500, 502, 200]);
    expect(hubspot.applied).toHaveLength(1);
    // What the sync counts as VendorThrottled and VendorRetries.
    expect(retries).toEqual([true, false, false]);
  });

  it('a Retry-After beyond the in-process budget defers to the queue with that delay', async () => {
    square.misbehave({
      status: 429,
      headers: { 'retry-after': '120' },
      body: { errors: [{ category: 'RATE_LIMIT_ERROR', code: 'RATE_LIMITED', detail: 'slow down' }] },
    });
    const client = clientFor(squareOutbound, square.url, { SQUARE_ACCESS_TOKEN: 'sq-token' });
    const error = await client
      .request({ method: 'POST', path: '/v2/customers', body: {} })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeferredDeliveryError);
    expect((error as DeferredDeliveryError).retryAfterSeconds).toBe(120);
    expect(square.requests).toHaveLength(1);
  });

  it('retries exhausted on 5xx defer to the queue; the rest of the batch is not sent until reset', async () => {
    const before = square.requests.length;
    square.misbehave(...Array.from({ length: 5 }, () => ({ status: 503 })));
    const client = clientFor(
      squareOutbound,
      square.url,
      { SQUARE_ACCESS_TOKEN: 'sq-token' },
      { maxAttempts: 3 },
    );
    await expect(client.request({ method: 'POST', path: '/v2/customers', body: {} })).rejects.toThrow(
      'HTTP 503 after 3 attempts',
    );
    expect(square.requests.length - before).toBe(3);
    // The next record of the batch: deferred without a call to the failing vendor.
    const next = await client
      .request({ method: 'POST', path: '/v2/customers', body: { given_name: 'Bo' } })
      .catch((e: unknown) => e);
    expect(next).toBeInstanceOf(DeferredDeliveryError);
    expect((next as Error).message).toBe(
      'test: not sent, an earlier request of this batch failed (HTTP 503 after 3 attempts)',
    );
    expect(square.requests.length - before).toBe(3);
    // The next batch tries again; two scripted 503s remain, then the vendor answers.
    client.reset();
    const response = await client.request({
      method: 'POST',
      path: '/v2/customers',
      body: { given_name: 'Ada' },
    });
    expect(response.status).toBe(200);
    expect(square.requests.slice(before).map((request) => request.status)).toEqual([
      503, 503, 503, 503, 503, 200,
    ]);
  });

  it('gives a request no longer than the invocation has left, and none when too little is left', async () => {
    let remaining = 2_500;
    const slow: typeof fetch = (_url, init) =>
      new Promise((_resolve, reject) => {
        const started = Date.now();
        init?.signal?.addEventListener('abort', () => {
          reject(
            Object.assign(new Error(`aborted after ${Date.now() - started} ms`), { name: 'TimeoutError' }),
          );
        });
      });
    const client = new HttpVendorClient({
      destination: 'acme',
      baseUrl: 'https://api.acme.test',
      headers: {},
      limiter: new TokenBucket({ requests: 100, perSeconds: 1 }),
      delivery: { ...FAST_DELIVERY, maxAttempts: 1, timeoutMs: 10_000 },
      remainingMs: () => remaining,
      fetch: slow,
    });
    const started = Date.now();
    const error = await client.request({ method: 'GET', path: '/' }).catch((e: unknown) => e);
    // 2.5 s left, 1 s kept to hand the message back: the request had 1.5 s, not its 10 s timeout.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(error).toBeInstanceOf(DeferredDeliveryError);
    expect((error as Error).message).toMatch(/^acme: TimeoutError: aborted after \d+ ms after 1 attempts$/);

    client.reset();
    remaining = 1_500;
    const tooLate = await client.request({ method: 'GET', path: '/' }).catch((e: unknown) => e);
    expect(tooLate).toBeInstanceOf(DeferredDeliveryError);
    expect((tooLate as Error).message).toBe('acme: no time left in this invocation');
  });

  it("SendGrid's X-RateLimit-Reset (no Retry-After) is the wait", () => {
    const now = Date.parse('2025-05-01T12:00:00Z');
    const headers = new Headers({ 'x-ratelimit-reset': String(now / 1000 + 30) });
    expect(retryAfterMs(headers, now)).toBe(30_000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 May 2025 12:00:05 GMT' }), now)).toBe(5_000);
  });

  it('SendGrid 429 with X-RateLimit-Reset is waited out', async () => {
    sendgrid.misbehave({
      status: 429,
      headers: { 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 1) },
      body: { errors: [{ message: 'too many requests' }] },
    });
    const client = clientFor(sendgridOutbound, sendgrid.url, { SENDGRID_API_KEY: 'SG.key' });
    const response = await client.request({
      method: 'PUT',
      path: '/v3/marketing/contacts',
      body: { contacts: [{ email: 'ada@example.com' }] },
    });
    expect(response.status).toBe(202);
    expect(sendgrid.requests.map((request) => request.status)).toEqual([429, 202]);
  });
});

describe('Token bucket', () => {
  it('lets the documented burst through, then spaces requests evenly', () => {
    let now = 0;
    const bucket = new TokenBucket({ requests: 100, perSeconds: 10 }, () => now);
    for (let i = 0; i < 100; i++) {
      expect(bucket.delayFor(1)).toBe(0);
      bucket.take(1);
    }
    expect(bucket.delayFor(1)).toBe(100); // 10 per second
    now += 100;
    expect(bucket.delayFor(1)).toBe(0);
    bucket.pauseFor(5_000);
    expect(bucket.delayFor(1)).toBe(5_000);
  });
});

describe('Sync engine', () => {
  const fake = new FakeHubSpot('hs-token');
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());

  function setup(profile: ProfileItem) {
    const published: Envelope[] = [];
    const publisher: EventPublisher = {
      async publish(envelopes) {
        published.push(...envelopes);
        return { published: new Set(envelopes.map((_, i) => i)), failed: new Set() };
      },
    };
    const state = new MemorySyncStateStore();
    const engine = new SyncEngine({
      destination: resolveDestination(DEFAULT_CONFIG, 'hubspot', hubspotOutbound),
      outbound: hubspotOutbound,
      config: DEFAULT_CONFIG,
      profiles: { get: async (id) => (id === profile.profileId ? profile : undefined) },
      state,
      publisher,
      client: clientFor(hubspotOutbound, fake.url, { HUBSPOT_ACCESS_TOKEN: 'hs-token' }),
      now: () => new Date('2025-05-01T12:00:00.000Z'),
    });
    return { engine, published, state };
  }

  const updated = (changes: Record<string, unknown>, connector = 'shopify', id = 'evt-1'): Envelope => ({
    id,
    type: 'profile.updated',
    source: 'omnihub.profiles',
    subject: 'p_ada',
    time: '2025-05-01T12:00:00.000Z',
    occurredAt: '2025-05-01T12:00:00.000Z',
    receivedAt: '2025-05-01T12:00:00.000Z',
    schemaVersion: 1,
    dataschema: 'https://omnihub.dev/schemas/profile.updated.v1.json',
    origin: { connector: 'omnihub', deliveryId: id },
    identities: [],
    correlationId: 'corr-1',
    data: { profileId: 'p_ada', changes, causedBy: { eventId: `cause-${id}`, connector } },
  });

  it('delivers once, links the created id, and skips the identical record afterwards', async () => {
    const { engine, published, state } = setup(profileItem());
    const before = fake.requests.length;
    expect(await engine.handle(updated({ 'traits.phone': '+14155550100' }))).toEqual({
      status: 'delivered',
      calls: 1,
      outbox: false,
      linked: expect.stringMatching(/^\d+$/),
    });
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      type: 'customer.linked',
      source: 'omnihub.hubspot',
      origin: { connector: 'hubspot' },
      correlationId: 'corr-1',
      data: { system: 'hubspot', profileId: 'p_ada' },
    });
    expect(published[0]?.identities).toContainEqual({ type: 'email', value: 'ada@example.com' });
    expect(published[0]?.identities).toContainEqual({
      type: 'external',
      system: 'hubspot',
      value: String((published[0]?.data as { externalId: string } | undefined)?.externalId),
    });
    expect([...state.states.values()][0]?.externalId).toBe(
      (published[0]?.data as { externalId: string } | undefined)?.externalId,
    );
    // Redelivered, or a later event that changes nothing HubSpot holds: no call.
    expect(await engine.handle(updated({ 'traits.phone': '+14155550100' }, 'shopify', 'evt-2'))).toEqual({
      status: 'skipped',
      reason: 'unchanged',
    });
    expect(fake.requests.length - before).toBe(1);
  });

  it.each([
    ['a change HubSpot caused itself', updated({ 'traits.firstName': 'Ada' }, 'hubspot'), 'own_change'],
    ['an identity-only change', updated({ identities: ['ext:square:SQ1'] }, 'square'), 'irrelevant_change'],
    ['a trait HubSpot does not receive', updated({ 'traits.locale': 'en-GB' }), 'irrelevant_change'],
  ])('skips %s without reading the profile', async (_name, event, reason) => {
    const { engine } = setup(profileItem());
    expect(await engine.handle(event)).toEqual({ status: 'skipped', reason });
  });

  it('a consent change is always relevant: opt-outs propagate everywhere', async () => {
    const { engine } = setup(
      profileItem({ consent: { email: stamped({ status: 'unsubscribed' as const }, 'sendgrid') } }),
    );
    const outcome = await engine.handle(updated({ 'consent.email': { status: 'unsubscribed' } }, 'sendgrid'));
    expect(outcome.status).toBe('delivered');
    const body = fake.requests.at(-1)?.body as
      | { inputs: { properties: Record<string, string> }[] }
      | undefined;
    const properties = body?.inputs[0]?.properties;
    expect(properties?.omnihub_email_consent).toBe('unsubscribed');
  });

  it('an older change that waited out an outage never overwrites a newer one delivered meanwhile', async () => {
    let profile = profileItem({
      identities: ['email:order@example.com'],
      traits: {
        email: stamped('order@example.com', 'shopify'),
        phone: stamped('+14155550101', 'shopify'),
      },
    });
    const client = clientFor(hubspotOutbound, fake.url, { HUBSPOT_ACCESS_TOKEN: 'hs-token' });
    const engine = new SyncEngine({
      destination: resolveDestination(DEFAULT_CONFIG, 'hubspot', hubspotOutbound),
      outbound: hubspotOutbound,
      config: DEFAULT_CONFIG,
      profiles: { get: async () => profile },
      state: new MemorySyncStateStore(),
      publisher: {
        publish: async (envelopes) => ({ published: new Set(envelopes.map((_, i) => i)), failed: new Set() }),
      },
      client,
      now: () => new Date('2025-05-01T12:00:00.000Z'),
    });
    const older = updated({ 'traits.phone': '+14155550101' }, 'shopify', 'evt-old');
    const newer = updated({ 'traits.phone': '+14155550199' }, 'shopify', 'evt-new');
    const before = fake.requests.length;

    // HubSpot is down when the older change arrives: it goes back to its queue to wait.
    fake.misbehave(...Array.from({ length: FAST_DELIVERY.maxAttempts }, () => ({ status: 500 })));
    await expect(engine.handle(older)).rejects.toBeInstanceOf(DeferredDeliveryError);

    // Meanwhile the phone changes again, and that change is delivered in a later batch.
    profile = { ...profile, traits: { ...profile.traits, phone: stamped('+14155550199', 'shopify') } };
    client.reset();
    expect(await engine.handle(newer)).toMatchObject({ status: 'delivered' });

    // The older message comes back: the profile it reads is the newer one, already delivered.
    expect(await engine.handle(older)).toEqual({ status: 'skipped', reason: 'unchanged' });
    const sent = fake.requests.slice(before);
    expect(sent.map((request) => request.status)).toEqual([500, 500, 500, 500, 500, 200]);
    expect(JSON.stringify(sent.at(-1)?.body)).toContain('+14155550199');
    expect(
      [...fake.contacts.values()].find((contact) => contact.properties.email === 'order@example.com')
        ?.properties.phone,
    ).toBe('+14155550199');
  });
});
