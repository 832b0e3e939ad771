/**
 * The shared ingest pipeline, driven with a minimal connector so that its own rules are tested apart
 * from any vendor: order of checks, error answers, per-delivery dedupe, publish failures.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it, vi } from 'vitest';
import * as z from 'zod/mini';
import type { EventPublisher, PublishResult } from '../../core/aws/publisher.ts';
import { defineConnector, draft, topic, type WebhookRequest } from '../../core/connector.ts';
import { SignatureError, ValidationError } from '../../core/errors.ts';
import { errorResponse } from '../../core/http.ts';
import { parseJson } from '../../core/ingest/body.ts';
import { InMemoryDeliveryLedger } from '../../core/ingest/ledger.ts';
import { createIngestPipeline } from '../../core/ingest/pipeline.ts';
import { InMemoryQuarantine, type QuarantineStore } from '../../core/ingest/quarantine.ts';
import { InMemoryRawArchive, type RawArchive, readRawDeliveries } from '../../core/ingest/raw-archive.ts';
import { hmac, requireHeader, safeEqual } from '../../core/ingest/verify.ts';
import { EnvironmentSecretSource, type SecretSource } from '../../core/secrets.ts';
import { RecordingPublisher } from '../support/ingest.ts';

const Item = z.object({ id: z.string(), kind: z.string(), email: z.string() });

const demo = defineConnector({
  id: 'demo',
  name: 'Demo',
  category: 'crm',
  secrets: { DEMO_SECRET: 'HMAC key' },
  inbound: {
    contentTypes: ['application/json'],
    maxBodyBytes: 2048,
    verify(request, secrets) {
      const signature = requireHeader(request.headers, 'x-demo-signature');
      if (!safeEqual(hmac('sha256', secrets.DEMO_SECRET, [request.body], 'hex'), signature)) {
        throw new SignatureError('invalid_signature', 'signature does not match');
      }
    },
    parse(request) {
      const body = parseJson(request.body);
      if (!Array.isArray(body)) throw new ValidationError('expected an array');
      return body.map((item: { id?: unknown; kind?: unknown }) => ({
        deliveryId: String(item.id),
        topic: String(item.kind),
        payload: item,
      }));
    },
    topics: {
      created: topic(Item, (item) => [
        draft('customer.upserted', {
          occurredAt: '2025-01-01T00:00:00Z',
          identities: [
            { type: 'email', value: item.email },
            { type: 'external', system: 'demo', value: item.id },
          ],
          data: { system: 'demo', externalId: item.id, traits: { email: item.email } },
        }),
      ]),
      broken: topic(Item, () => [
        // A translator bug: data that does not match the catalog must not reach the bus.
        draft('customer.deleted', {
          occurredAt: 'yesterday',
          identities: [],
          data: { system: 'demo', externalId: '1' },
        }),
      ]),
    },
  },
});

const SECRET = 'demo-secret';

function request(
  body: unknown,
  options: { secret?: string; contentType?: string; raw?: string } = {},
): WebhookRequest {
  const raw = Buffer.from(options.raw ?? JSON.stringify(body));
  return {
    method: 'POST',
    path: '/webhooks/demo',
    rawQueryString: '',
    headers: {
      'content-type': options.contentType ?? 'application/json',
      'x-demo-signature': hmac('sha256', options.secret ?? SECRET, [raw], 'hex'),
    },
    body: raw,
    publicUrl: 'https://hooks.example.com/webhooks/demo',
    receivedAt: new Date('2025-01-01T00:00:05Z'),
  };
}

function harness(
  options: {
    publisher?: EventPublisher;
    secrets?: SecretSource;
    quarantine?: QuarantineStore;
    archive?: RawArchive;
  } = {},
) {
  const publisher = options.publisher ?? new RecordingPublisher();
  const ledger = new InMemoryDeliveryLedger();
  const quarantine = new InMemoryQuarantine();
  const archive = new InMemoryRawArchive();
  let sent = 0;
  const pipeline = createIngestPipeline(demo, {
    secrets: options.secrets ?? new EnvironmentSecretSource({ DEMO_SECRET: SECRET }),
    ledger,
    publisher,
    quarantine: options.quarantine ?? quarantine,
    archive: options.archive ?? archive,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'Test' }),
  });
  return {
    publisher,
    ledger,
    quarantine,
    archive,
    send: async (req: WebhookRequest) => {
      try {
        // A request id per invocation, as Lambda gives: corr-1, corr-2, ...
        sent += 1;
        return await pipeline(req, { remainingTimeMs: 5000, correlationId: `corr-${sent}` });
      } catch (error) {
        return errorResponse(error);
      }
    },
  };
}

const item = (id: string, kind = 'created') => ({ id, kind, email: `${id}@example.com` });

describe('Ingest pipeline', () => {
  it('publishes one canonical event per translated delivery with a complete envelope', async () => {
    const h = harness();
    const response = await h.send(request([item('a'), item('b')]));
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body ?? '')).toEqual({
      received: 2,
      published: 2,
      duplicates: 0,
      quarantined: 0,
    });
    const [first] = (h.publisher as RecordingPublisher).events;
    expect(first).toMatchObject({
      type: 'customer.upserted',
      source: 'omnihub.demo',
      subject: 'demo:a',
      occurredAt: '2025-01-01T00:00:00.000Z',
      receivedAt: '2025-01-01T00:00:05.000Z',
      schemaVersion: 1,
      origin: { connector: 'demo', deliveryId: 'a', topic: 'created' },
      correlationId: 'corr-1',
    });
  });

  it('deduplicates per element: a redelivered batch publishes only the new element', async () => {
    const h = harness();
    await h.send(request([item('a')]));
    const response = await h.send(request([item('a'), item('c')]));
    expect(JSON.parse(response.body ?? '')).toEqual({
      received: 2,
      published: 1,
      duplicates: 1,
      quarantined: 0,
    });
    expect((h.publisher as RecordingPublisher).events.map((e) => e.origin.deliveryId)).toEqual(['a', 'c']);
  });

  it.each([
    ['a wrong secret', request([item('a')], { secret: 'nope' }), 401, 'invalid_signature'],
    [
      'a wrong content type',
      request([item('a')], { contentType: 'text/plain' }),
      400,
      'unsupported_content_type',
    ],
    ['a malformed body', request(null, { raw: '[{"id":' }), 400, 'malformed_body'],
    ['a body over the limit', request(null, { raw: `[${'"x",'.repeat(600)}"x"]` }), 413, 'payload_too_large'],
  ])('answers %s with %i %s and publishes nothing', async (_name, req, status, code) => {
    const h = harness();
    const response = await h.send(req);
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body ?? '')).toMatchObject({
      error: code,
      message: expect.stringMatching(/\w+/),
    });
    expect((h.publisher as RecordingPublisher).events).toEqual([]);
  });

  it.each([
    [
      'a payload that fails the topic schema',
      [{ id: 'a', kind: 'created' }],
      'does not match the created payload: email: Invalid input: expected string, received undefined',
    ],
    [
      'a translator producing data the catalog refuses',
      [item('a', 'broken')],
      'could not be translated: invalid occurredAt for customer.deleted',
    ],
  ])('quarantines %s, answers 2xx and publishes nothing', async (_name, body, reason) => {
    const h = harness();
    const response = await h.send(request(body));
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body ?? '')).toMatchObject({ received: 1, published: 0, quarantined: 1 });
    expect((h.publisher as RecordingPublisher).events).toEqual([]);
    expect(await h.quarantine.list()).toEqual([
      expect.objectContaining({
        connector: 'demo',
        deliveryId: 'a',
        topic: body[0]?.kind,
        reason: expect.stringContaining(reason),
        receivedAt: '2025-01-01T00:00:05.000Z',
        requestId: 'corr-1',
        index: 0,
      }),
    ]);
  });

  it('says which field of the payload is wrong and how, never its value, in the item and the log', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn');
    const h = harness();
    await h.send(
      request([
        { id: 'a', kind: 'created', email: 7 },
        { id: 'b', kind: 'created', email: ['ada@example.com'] },
      ]),
    );
    const reasons = (await h.quarantine.list()).map((record) => record.reason);
    expect(reasons).toEqual([
      'does not match the created payload: email: Invalid input: expected string, received number',
      'does not match the created payload: email: Invalid input: expected string, received array',
    ]);
    const logged = warn.mock.calls.filter(([message]) => message === 'delivery quarantined');
    warn.mockRestore();
    expect(logged.map(([, fields]) => fields)).toEqual([
      { deliveryId: 'a', topic: 'created', reason: reasons[0], correlationId: 'corr-1' },
      { deliveryId: 'b', topic: 'created', reason: reasons[1], correlationId: 'corr-1' },
    ]);
    expect(JSON.stringify(logged)).not.toContain('example.com');
  });

  it('publishes the valid elements of a batch and quarantines the others, once per delivery', async () => {
    const h = harness();
    const batch = request([item('a'), { id: 'b', kind: 'created' }, item('c')]);
    const first = await h.send(batch);
    expect(JSON.parse(first.body ?? '')).toEqual({
      received: 3,
      published: 2,
      duplicates: 0,
      quarantined: 1,
    });
    const again = await h.send(batch);
    expect(again.statusCode).toBe(200);
    expect(JSON.parse(again.body ?? '')).toEqual({
      received: 3,
      published: 0,
      duplicates: 2,
      quarantined: 1,
    });
    expect((h.publisher as RecordingPublisher).events.map((e) => e.origin.deliveryId)).toEqual(['a', 'c']);
    expect((await h.quarantine.list()).map((record) => record.deliveryId)).toEqual(['b']);
  });

  it('answers 503 when the quarantine cannot take an item, and publishes the rest once the retry succeeds', async () => {
    const failing: QuarantineStore = {
      keep: async () => {
        throw new Error('DynamoDB is down');
      },
    };
    const quarantine = new InMemoryQuarantine();
    let store: QuarantineStore = failing;
    const h = harness({ quarantine: { keep: (records) => store.keep(records) } });
    const batch = request([item('a'), { id: 'b', kind: 'created' }]);
    const refused = await h.send(batch);
    expect(refused.statusCode).toBe(503);
    expect(JSON.parse(refused.body ?? '')).toMatchObject({ error: 'quarantine_unavailable' });
    store = quarantine;
    const retried = await h.send(batch);
    expect(retried.statusCode).toBe(200);
    expect((h.publisher as RecordingPublisher).events.map((e) => e.origin.deliveryId)).toEqual(['a']);
    expect((await quarantine.list()).map((record) => record.deliveryId)).toEqual(['b']);
  });

  it('checks the signature before the content type, so unauthenticated callers learn nothing', async () => {
    const response = await harness().send(
      request([item('a')], { secret: 'nope', contentType: 'text/plain' }),
    );
    expect(response.statusCode).toBe(401);
  });

  it('acknowledges topics it does not translate without publishing', async () => {
    const h = harness();
    const response = await h.send(request([item('a', 'deleted-something')]));
    expect(response.statusCode).toBe(200);
    expect((h.publisher as RecordingPublisher).events).toEqual([]);
  });

  it('answers 503 connector_not_configured when the secret is missing, before looking at the body', async () => {
    const response = await harness({ secrets: new EnvironmentSecretSource({}) }).send(request([item('a')]));
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body ?? '')).toMatchObject({ error: 'connector_not_configured' });
  });

  it('re-reads a rotated secret once when a signature fails', async () => {
    let current = 'old-secret';
    let refreshes = 0;
    const rotating: SecretSource = {
      load: async () => ({ DEMO_SECRET: current }),
      refresh: () => {
        refreshes++;
        current = SECRET;
        return true;
      },
    };
    const response = await harness({ secrets: rotating }).send(request([item('a')]));
    expect(response.statusCode).toBe(200);
    expect(refreshes).toBe(1);
  });

  it('does not acknowledge a delivery the bus refused, and lets the retry publish it', async () => {
    let fail = true;
    const flaky: EventPublisher = {
      async publish(envelopes): Promise<PublishResult> {
        const all = new Set(envelopes.map((_, index) => index));
        return fail ? { published: new Set(), failed: all } : { published: all, failed: new Set() };
      },
    };
    const h = harness({ publisher: flaky });
    const refused = await h.send(request([item('a')]));
    expect(refused.statusCode).toBe(503);
    expect(JSON.parse(refused.body ?? '')).toMatchObject({ error: 'bus_unavailable' });
    fail = false;
    const retried = await h.send(request([item('a')]));
    expect(JSON.parse(retried.body ?? '')).toEqual({
      received: 1,
      published: 1,
      duplicates: 0,
      quarantined: 0,
    });
  });

  it('answers 409 while the same delivery is in progress elsewhere', async () => {
    const h = harness();
    await h.ledger.reserve(['demo:a'], 1000);
    const response = await h.send(request([item('a')]));
    expect(response.statusCode).toBe(409);
    expect(JSON.parse(response.body ?? '')).toMatchObject({ error: 'delivery_in_progress' });
  });

  it('keeps every verified request in the raw archive before answering, even one it refuses with 400', async () => {
    const h = harness();
    await h.send(request([item('a')]));
    await h.send(request(null, { raw: '[{"id":' }));
    await h.send(request([item('b')], { secret: 'nope' }));
    await h.send(request(null, { raw: `[${'"x",'.repeat(600)}"x"]` }));
    const kept = readRawDeliveries(h.archive.lines);
    expect(kept.map((delivery) => delivery.request.body.toString())).toEqual([
      JSON.stringify([item('a')]),
      '[{"id":',
    ]);
    expect(kept[0]).toMatchObject({
      connector: 'demo',
      requestId: 'corr-1',
      request: {
        publicUrl: 'https://hooks.example.com/webhooks/demo',
        receivedAt: new Date('2025-01-01T00:00:05Z'),
        // The content type is kept; the signature never is.
        headers: { 'content-type': 'application/json' },
      },
    });
  });

  it('answers 503 when the raw archive cannot take a request, and the retry publishes nothing twice', async () => {
    let down = true;
    const archive = new InMemoryRawArchive();
    const flaky: RawArchive = {
      keep: async (...args) => {
        if (down) throw new Error('Firehose is unavailable');
        return archive.keep(...args);
      },
    };
    const h = harness({ archive: flaky });
    const refused = await h.send(request([item('a')]));
    expect(refused.statusCode).toBe(503);
    expect(JSON.parse(refused.body ?? '')).toMatchObject({ error: 'raw_archive_unavailable' });
    // Published (and recorded by the ledger) while the archive was down: the retry adds no event.
    down = false;
    const retried = await h.send(request([item('a')]));
    expect(JSON.parse(retried.body ?? '')).toMatchObject({ published: 0, duplicates: 1 });
    expect((h.publisher as RecordingPublisher).events).toHaveLength(1);
    expect(readRawDeliveries(archive.lines)).toHaveLength(1);
  });

  it('answers 503, not 400, to an unreadable body the raw archive could not take', async () => {
    const h = harness({
      archive: {
        keep: async () => {
          throw new Error('Firehose is unavailable');
        },
      },
    });
    const response = await h.send(request(null, { raw: '[{"id":' }));
    expect(response.statusCode).toBe(503);
  });
});
