/**
 * Square connector: the signature check against Square's own SDK, robustness of the whole ingest
 * path under random and mutated (correctly signed) input, and the translation rules that are real
 * logic (money, consent, identities, completion dedupe, merges). Fixtures cover the happy paths.
 */
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { WebhooksHelper } from 'square';
import { describe, expect, it } from 'vitest';
import type { WebhookRequest } from '../../core/connector.ts';
import { ClientError, ConnectorNotConfiguredError, ValidationError } from '../../core/errors.ts';
import { Envelope } from '../../core/events/envelope.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../../core/ingest/pipeline.ts';
import { fixtureRequest, pipelineHarness, type WebhookFixture } from '../../test/support/ingest.ts';
import {
  deliveryIdOf,
  emailConsentOf,
  parseSquareEvent,
  paymentTotal,
  squareMoney,
  squareTopics,
  toCustomerUpserted,
  toOrderPlaced,
  toOrderRefunded,
  traitsOf,
} from './inbound.ts';
import connector from './index.ts';
import { CustomerEvent, PaymentEvent, RefundEvent, SquareCustomer, SquarePayment } from './schema.ts';
import { SIGNATURE_HEADER, SIGNATURE_KEY, squareSignature, verifySquareRequest } from './verify.ts';

const KEY = 'test-Kq8Hf6yZbVJ1kM2aXc9Lw';
const BASE_URL = 'https://hooks.example.com';
const NOTIFICATION_URL = `${BASE_URL}/webhooks/square`;
const NOW = new Date('2025-01-26T02:26:30Z');
const secrets = { [SIGNATURE_KEY]: KEY };

function requestOf(
  body: string | Buffer,
  headers: Record<string, string>,
  publicUrl = NOTIFICATION_URL,
): WebhookRequest {
  return {
    method: 'POST',
    path: '/webhooks/square',
    rawQueryString: publicUrl.includes('?') ? (publicUrl.split('?')[1] ?? '') : '',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
    publicUrl,
    receivedAt: NOW,
  };
}

/** A request as Square sends it: signed with `key` over `NOTIFICATION_URL + body`. */
function signedRequest(
  body: string | Buffer,
  key = KEY,
  headers: Record<string, string> = {},
): WebhookRequest {
  return requestOf(body, { [SIGNATURE_HEADER]: squareSignature(key, NOTIFICATION_URL, body), ...headers });
}

/** What our verifier says: `accepted` or the SignatureError code. */
function ours(request: WebhookRequest): string {
  try {
    verifySquareRequest(request, secrets);
    return 'accepted';
  } catch (error) {
    if (error instanceof ClientError) return error.code;
    throw error;
  }
}

/** What Square's SDK says about the same bytes, header and NOTIFICATION_URL. */
function sdk(request: WebhookRequest, signatureKey = KEY): Promise<boolean> {
  return WebhooksHelper.verifySignature({
    requestBody: request.body.toString('utf8'),
    signatureHeader: request.headers[SIGNATURE_HEADER] ?? '',
    signatureKey,
    notificationUrl: request.publicUrl,
  });
}

const harness = () => pipelineHarness(connector, { secrets, now: () => NOW });

// -------------------------------------------------------------------------------------------------
// Realistic events (values as in Square's reference pages)

const customer = {
  id: 'A0AP4ZKV7E5H1',
  given_name: 'Amelia',
  family_name: 'Earhart',
  email_address: 'amelia@example.com',
  phone_number: '+12125554240',
  created_at: '2025-01-26T02:25:33Z',
  updated_at: '2025-01-26T02:25:33Z',
  version: 1,
};

const customerEvent = (over: Record<string, unknown> = {}, context?: unknown) => ({
  merchant_id: 'ML82H4QPKMGXY',
  type: 'customer.created',
  event_id: '6a8f5f28-54a1-4eb0-a98a-3111513fd4fc',
  created_at: '2025-01-26T02:25:34Z',
  data: {
    type: 'customer',
    id: customer.id,
    object: { customer: { ...customer, ...over }, ...(context ? { event_context: context } : {}) },
  },
});

const payment = {
  id: 'KkAkhdMsgzn59SM8A89WgKwekxLZY',
  status: 'COMPLETED',
  amount_money: { amount: 2000, currency: 'USD' },
  tip_money: { amount: 300, currency: 'USD' },
  total_money: { amount: 2300, currency: 'USD' },
  order_id: 'CAISENgvhpdP05f1DWG9H8yMn4kZY',
  customer_id: 'A0AP4ZKV7E5H1',
  location_id: 'L88917AVBK2S5',
  updated_at: '2025-01-26T02:26:10.123Z',
};

const paymentEvent = (eventId: string, over: Record<string, unknown> = {}, type = 'payment.updated') => ({
  merchant_id: 'ML82H4QPKMGXY',
  type,
  event_id: eventId,
  created_at: '2025-01-26T02:26:11Z',
  data: { type: 'payment', id: payment.id, object: { payment: { ...payment, ...over } } },
});

const refund = {
  id: 'KkAkhdMsgzn59SM8A89WgKwekxLZY_ptNBVqHYxt5gAdfcobBe4u1AZsXhoz06KTtuq9Ls24P',
  status: 'COMPLETED',
  amount_money: { amount: 1000, currency: 'USD' },
  order_id: 'haOyDuHiqtAXMk0d8pDKXpL7Jg4F',
  payment_id: 'KkAkhdMsgzn59SM8A89WgKwekxLZY',
  updated_at: '2025-02-06T22:14:16.381Z',
};

const refundEvent = (eventId: string, over: Record<string, unknown> = {}, type = 'refund.updated') => ({
  merchant_id: 'ML82H4QPKMGXY',
  type,
  event_id: eventId,
  created_at: '2025-02-06T22:14:16.421Z',
  data: { type: 'refund', id: refund.id, object: { refund: { ...refund, ...over } } },
});

/** The bodies of the fixtures that publish events: the seeds of the mutation properties. */
const seedBodies: string[] = readdirSync(new URL('./fixtures/', import.meta.url))
  .filter((file) => file.endsWith('.json'))
  .map(
    (file) =>
      JSON.parse(readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'utf8')) as WebhookFixture,
  )
  .filter((fixture) => (fixture.expect.events?.length ?? 0) > 0)
  .map((fixture) => fixture.request.body ?? '');

describe('Connector: square', () => {
  // -----------------------------------------------------------------------------------------------
  describe('signature (oracle: square SDK WebhooksHelper.verifySignature)', () => {
    const body = JSON.stringify(customerEvent());

    it.each([
      {
        name: 'valid signature over NOTIFICATION_URL + body',
        request: signedRequest(body),
        expected: 'accepted',
      },
      {
        name: 'body tampered after signing',
        request: requestOf(body.replace('Amelia', 'Amelie'), {
          [SIGNATURE_HEADER]: squareSignature(KEY, NOTIFICATION_URL, body),
        }),
        expected: 'invalid_signature',
      },
      {
        name: 'same JSON re-serialised (whitespace) after signing',
        request: requestOf(JSON.stringify(JSON.parse(body), null, 2), {
          [SIGNATURE_HEADER]: squareSignature(KEY, NOTIFICATION_URL, body),
        }),
        expected: 'invalid_signature',
      },
      {
        name: 'signed with another key',
        request: signedRequest(body, 'another-signature-key'),
        expected: 'invalid_signature',
      },
      {
        name: 'signed for http:// instead of https://',
        request: requestOf(body, {
          [SIGNATURE_HEADER]: squareSignature(KEY, NOTIFICATION_URL.replace('https:', 'http:'), body),
        }),
        expected: 'invalid_signature',
      },
      {
        name: 'signed for the NOTIFICATION_URL with a trailing slash',
        request: requestOf(body, { [SIGNATURE_HEADER]: squareSignature(KEY, `${NOTIFICATION_URL}/`, body) }),
        expected: 'invalid_signature',
      },
      {
        name: 'posted with a query string the subscription NOTIFICATION_URL does not have',
        request: requestOf(
          body,
          { [SIGNATURE_HEADER]: squareSignature(KEY, NOTIFICATION_URL, body) },
          `${NOTIFICATION_URL}?utm=1`,
        ),
        expected: 'invalid_signature',
      },
      {
        name: 'hex digest instead of base64',
        request: requestOf(body, {
          [SIGNATURE_HEADER]: createHmac('sha256', KEY)
            .update(NOTIFICATION_URL + body)
            .digest('hex'),
        }),
        expected: 'invalid_signature',
      },
      {
        name: 'signature header missing',
        request: requestOf(body, {}),
        expected: 'missing_signature',
      },
      {
        name: 'only the deprecated HMAC-SHA1 x-square-signature, correctly computed',
        request: requestOf(body, {
          'x-square-signature': createHmac('sha1', KEY)
            .update(NOTIFICATION_URL + body)
            .digest('base64'),
        }),
        expected: 'missing_signature',
      },
    ])('$name -> $expected (and the SDK agrees)', async ({ request, expected }) => {
      expect(ours(request)).toBe(expected);
      await expect(sdk(request)).resolves.toBe(expected === 'accepted');
    });

    it('has no replay window: Square signs no timestamp, so the clock does not matter', () => {
      // Replays are absorbed by the delivery ledger (event_id), not by the verifier.
      const request = signedRequest(body);
      expect(() => verifySquareRequest(request, secrets)).not.toThrow();
      expect(() =>
        connector.inbound.verify(request, secrets, new Date('2035-01-01T00:00:00Z')),
      ).not.toThrow();
    });

    it('refuses to run with an empty signature key, as the SDK does', async () => {
      const request = signedRequest(body, '');
      expect(() => verifySquareRequest(request, { [SIGNATURE_KEY]: '' })).toThrow(
        ConnectorNotConfiguredError,
      );
      await expect(sdk(request, '')).rejects.toThrow(/signatureKey is null or empty/);
    });

    it('signs non-ASCII bodies over their UTF-8 bytes, like the SDK', async () => {
      const accented = JSON.stringify(customerEvent({ given_name: 'Zoë', family_name: '佐藤 🍣' }));
      const request = signedRequest(accented);
      expect(ours(request)).toBe('accepted');
      await expect(sdk(request)).resolves.toBe(true);
    });

    it('agrees with the SDK on random bodies, keys, URLs and headers (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.string({ unit: 'grapheme', maxLength: 300 }),
          fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 40 }),
          fc.webUrl({ withQueryParameters: true }),
          fc.constantFrom('correct', 'other-key', 'other-url', 'random', 'truncated'),
          fc.base64String({ minLength: 4, maxLength: 44 }),
          async (text, key, url, kind, random) => {
            const correct = squareSignature(key, url, Buffer.from(text, 'utf8'));
            const header = {
              correct,
              'other-key': squareSignature(`${key}x`, url, Buffer.from(text, 'utf8')),
              'other-url': squareSignature(key, `${url}x`, Buffer.from(text, 'utf8')),
              random,
              truncated: correct.slice(0, -2),
            }[kind];
            const request = requestOf(text, { [SIGNATURE_HEADER]: header }, url);
            let accepted: boolean;
            try {
              verifySquareRequest(request, { [SIGNATURE_KEY]: key });
              accepted = true;
            } catch {
              accepted = false;
            }
            expect(accepted).toBe(await sdk(request, key));
            expect(accepted).toBe(kind === 'correct' || header === correct);
          },
        ),
        { numRuns: 200 },
      );
    });
  });

  // -----------------------------------------------------------------------------------------------
  describe('robustness through the whole pipeline (never a 5xx, never an uncaught exception)', () => {
    const allowed = (status: number) => (status >= 200 && status < 300) || [400, 401, 413].includes(status);

    /** Outcomes seen by the last property, to prove it reached translation and not only the checks. */
    let outcomes = { published: 0, rejected: 0 };

    /** Sends the request and checks the answer and whatever was published. */
    async function sendChecked(
      request: WebhookRequest,
      expectOneOf: readonly number[] | 'allowed' = 'allowed',
    ) {
      const h = harness();
      const response = await h.send(request);
      if (expectOneOf === 'allowed') expect(allowed(response.statusCode), response.body).toBe(true);
      else expect(expectOneOf, response.body).toContain(response.statusCode);
      for (const event of h.publisher.events) expect(Envelope.safeParse(event).success).toBe(true);
      if (h.publisher.events.length > 0) outcomes.published += 1;
      if (response.statusCode === 400 || h.quarantine.records.size > 0) outcomes.rejected += 1;
      return response;
    }

    it('random unsigned bodies and headers are 401 (or 413 when oversized)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 2048 }),
          fc.dictionary(
            fc.constantFrom(SIGNATURE_HEADER, 'content-type', 'x-square-signature', 'x-other'),
            fc.string(),
          ),
          async (bytes, headers) => {
            const response = await sendChecked(requestOf(Buffer.from(bytes), headers), [401]);
            expect(JSON.parse(response.body ?? '{}')).toHaveProperty('error');
          },
        ),
        { numRuns: 150 },
      );
    });

    it('correctly signed random bytes are 2xx or 400', async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => {
          await sendChecked(signedRequest(Buffer.from(bytes)), [200, 400]);
        }),
        { numRuns: 150 },
      );
    });

    it('correctly signed random JSON values are 2xx or 400', async () => {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
          await sendChecked(signedRequest(JSON.stringify(value)), [200, 400]);
        }),
        { numRuns: 150 },
      );
    });

    it('correctly signed events of every translated type with random resource fields are 2xx or 400', async () => {
      outcomes = { published: 0, rejected: 0 };
      const validResource: Record<string, Record<string, unknown>> = {
        customer,
        payment,
        refund,
        loyalty: { id: 'L1', balance: 10, customer_id: customer.id },
      };
      const resourceKey: Record<string, string> = {
        customer: 'customer',
        payment: 'payment',
        refund: 'refund',
        loyalty: 'loyalty_account',
      };
      const fieldValue = fc.oneof(
        fc.jsonValue({ maxDepth: 2 }),
        fc.constantFrom(
          'COMPLETED',
          'APPROVED',
          '2025-01-26T02:25:33Z',
          'not a date',
          '',
          'ZZ',
          '+12125554240',
        ),
        fc.record({
          amount: fc.oneof(fc.integer(), fc.double(), fc.constant(2 ** 60)),
          currency: fc.constantFrom('USD', 'JPY', 'usd', 'UNKNOWN_CURRENCY', ''),
        }),
      );
      const fieldName = fc.constantFrom(
        'id',
        'status',
        'updated_at',
        'amount_money',
        'total_money',
        'order_id',
        'payment_id',
        'customer_id',
        'email_address',
        'phone_number',
        'address',
        'preferences',
        'balance',
        'lifetime_points',
        'mapping',
        'application_details',
      );
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...Object.keys(squareTopics)),
          fc.oneof(fc.string({ minLength: 1 }), fc.constant('6a8f5f28-54a1-4eb0-a98a-3111513fd4fc')),
          fc.oneof(fc.constant('2025-01-26T02:25:34Z'), fc.string()),
          fc.dictionary(fieldName, fieldValue),
          fc.option(fc.jsonValue({ maxDepth: 2 })),
          async (type, eventId, createdAt, fields, context) => {
            const prefix = type.split('.')[0] ?? '';
            // Random fields over a valid resource, so that some events still translate.
            const object: Record<string, unknown> = {
              [resourceKey[prefix] ?? prefix]: { ...validResource[prefix], ...fields },
            };
            if (context !== null) object.event_context = context;
            const event = { type, event_id: eventId, created_at: createdAt, data: { id: 'X1', object } };
            await sendChecked(signedRequest(JSON.stringify(event)), [200, 400]);
          },
        ),
        { numRuns: 300 },
      );
      expect(outcomes.published).toBeGreaterThan(0);
      expect(outcomes.rejected).toBeGreaterThan(0);
    });

    it('correctly signed mutations of real events (delete, replace, retype) are 2xx or 400', async () => {
      outcomes = { published: 0, rejected: 0 };
      type Path = Array<string | number>;
      const pathsOf = (value: unknown, prefix: Path = []): Path[] => {
        if (typeof value !== 'object' || value === null) return [prefix];
        const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
        return [prefix, ...entries.flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
      };
      const mutate = (root: unknown, path: Path, action: string, value: unknown): unknown => {
        if (path.length === 0) return action === 'delete' ? {} : value;
        let parent = root as Record<string | number, unknown>;
        for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
        const last = path[path.length - 1] as string | number;
        if (action === 'delete') delete parent[last];
        else parent[last] = value;
        return root;
      };
      const mutation = fc.record({
        seed: fc.nat(),
        action: fc.constantFrom('delete', 'replace', 'retype'),
        value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(null), fc.constant('COMPLETED')),
        type: fc.constantFrom(...Object.keys(squareTopics), 'order.updated', '__proto__', 'constructor'),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...seedBodies),
          fc.array(mutation, { minLength: 1, maxLength: 4 }),
          async (seed, mutations) => {
            let event: unknown = JSON.parse(seed);
            for (const { seed: pick, action, value, type } of mutations) {
              if (action === 'retype') {
                if (typeof event === 'object' && event !== null)
                  (event as Record<string, unknown>).type = type;
                continue;
              }
              const paths = pathsOf(event);
              event = mutate(event, paths[pick % paths.length] ?? [], action, value);
            }
            await sendChecked(signedRequest(JSON.stringify(event)), [200, 400]);
          },
        ),
        { numRuns: 400 },
      );
      // Both sides were reached: some mutations still translate and publish, others are refused.
      expect(outcomes.published).toBeGreaterThan(0);
      expect(outcomes.rejected).toBeGreaterThan(0);
    });

    it('a correctly signed body over the size limit is 413', async () => {
      const big = JSON.stringify(customerEvent({ note: 'x'.repeat(DEFAULT_MAX_BODY_BYTES) }));
      const response = await sendChecked(signedRequest(big), [413]);
      expect(JSON.parse(response.body ?? '{}')).toMatchObject({ error: 'payload_too_large' });
    });
  });

  // -----------------------------------------------------------------------------------------------
  describe('idempotency keys', () => {
    it.each([
      ['payment.updated', { status: 'COMPLETED', id: 'P1' }, 'payment', 'payment:P1:completed'],
      ['payment.created', { status: 'COMPLETED', id: 'P1' }, 'payment', 'payment:P1:completed'],
      ['payment.updated', { status: 'APPROVED', id: 'P1' }, 'payment', 'E1'],
      ['payment.updated', { status: 'COMPLETED', id: '' }, 'payment', 'E1'],
      ['payment.updated', { status: 'COMPLETED', id: 42 }, 'payment', 'E1'],
      ['refund.updated', { status: 'COMPLETED', id: 'R1' }, 'refund', 'refund:R1:completed'],
      ['refund.created', { status: 'PENDING', id: 'R1' }, 'refund', 'E1'],
      ['customer.updated', { status: 'COMPLETED', id: 'C1' }, 'customer', 'E1'],
      ['constructor', { status: 'COMPLETED', id: 'P1' }, 'payment', 'E1'],
    ])('%s with %j -> %s', (type, resource, key, expected) => {
      const event = { type, event_id: 'E1', data: { object: { [key]: resource } } };
      expect(deliveryIdOf(type, 'E1', event)).toBe(expected);
    });

    it.each([
      ['an array', '[]', 'a JSON object'],
      ['no event_id', '{"type":"customer.created"}', 'no event_id'],
      ['an empty event_id', '{"type":"customer.created","event_id":""}', 'no event_id'],
      ['a numeric type', '{"type":1,"event_id":"E1"}', 'no type'],
    ])('parse rejects %s with a 400 that says why', (_name, body, message) => {
      const parse = () => parseSquareEvent(requestOf(body, {}));
      expect(parse).toThrow(ValidationError);
      expect(parse).toThrow(message);
    });

    it('publishes one order.placed however many payment.updated events report the payment COMPLETED', async () => {
      const h = harness();
      const send = async (event: unknown) =>
        JSON.parse((await h.send(signedRequest(JSON.stringify(event)))).body ?? '{}');
      expect(await send(paymentEvent('e-approved', { status: 'APPROVED' }))).toMatchObject({ published: 0 });
      expect(await send(paymentEvent('e-completed', {}, 'payment.created'))).toMatchObject({ published: 1 });
      // Later updates of the same completed payment (processing fee, customer attached) are duplicates.
      expect(
        await send(
          paymentEvent('e-fee', { processing_fee: [{ amount_money: { amount: 97, currency: 'USD' } }] }),
        ),
      ).toMatchObject({
        published: 0,
        duplicates: 1,
      });
      expect(await send(paymentEvent('e-fee', {}))).toMatchObject({ published: 0, duplicates: 1 });
      expect(h.publisher.events.map((event) => [event.type, event.origin.deliveryId])).toEqual([
        ['order.placed', `payment:${payment.id}:completed`],
      ]);
    });

    it('publishes one order.refunded per completed refund, and a redelivered customer event once', async () => {
      const h = harness();
      const send = (event: unknown) => h.send(signedRequest(JSON.stringify(event)));
      await send(refundEvent('r-pending', { status: 'PENDING' }, 'refund.created'));
      await send(refundEvent('r-done'));
      await send(refundEvent('r-fee', { processing_fee: [] }));
      await send(customerEvent());
      await send(customerEvent());
      expect(h.publisher.events.map((event) => event.type)).toEqual(['order.refunded', 'customer.upserted']);
    });

    it("publishes the completed refund of Square's documented examples, whose two events share one event_id", async () => {
      const [created, updated] = [
        'sample-refund-created-pending.json',
        'sample-refund-updated-completed.json',
      ].map(
        (file) =>
          JSON.parse(readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'utf8')) as WebhookFixture,
      );
      if (!created || !updated) throw new Error('the refund sample fixtures are missing');
      const eventIds = [created, updated].map(
        (fixture) => (JSON.parse(fixture.request.body ?? '{}') as { event_id?: string }).event_id,
      );
      expect(eventIds[0]).toBe(eventIds[1]);
      const h = pipelineHarness(connector, { secrets: created.secrets, now: () => NOW });
      for (const fixture of [created, updated]) {
        expect((await h.send(fixtureRequest(fixture))).statusCode).toBe(200);
      }
      expect(h.publisher.events.map((event) => [event.type, event.origin.deliveryId])).toEqual([
        ['order.refunded', `refund:${refund.id}:completed`],
      ]);
    });
  });

  // -----------------------------------------------------------------------------------------------
  describe('money', () => {
    it.each([
      ['USD cents', { amount: 2300, currency: 'USD' }, { amount: 2300, currency: 'USD' }],
      [
        'JPY has no minor unit: kept as is',
        { amount: 1500, currency: 'JPY' },
        { amount: 1500, currency: 'JPY' },
      ],
      [
        'KWD has three decimals: kept as is',
        { amount: 12345, currency: 'KWD' },
        { amount: 12345, currency: 'KWD' },
      ],
      ['zero', { amount: 0, currency: 'EUR' }, { amount: 0, currency: 'EUR' }],
    ])('keeps Square minor units exactly (%s)', (_name, value, expected) => {
      expect(squareMoney(value, 'amount_money')).toEqual(expected);
    });

    it.each([
      ['UNKNOWN_CURRENCY', { amount: 100, currency: 'UNKNOWN_CURRENCY' }, 'not an ISO 4217 code'],
      ['a lower-case code', { amount: 100, currency: 'usd' }, 'not an ISO 4217 code'],
      ['a missing money object', undefined, 'is missing'],
    ])('rejects %s with a 400 naming the field', (_name, value, message) => {
      expect(() => squareMoney(value, 'payment.total_money')).toThrow(ValidationError);
      expect(() => squareMoney(value, 'payment.total_money')).toThrow(message);
    });

    it('refuses amounts JSON cannot carry exactly (beyond 2^53) at validation', () => {
      expect(
        SquarePayment.safeParse({ ...payment, total_money: { amount: 2 ** 60, currency: 'USD' } }).success,
      ).toBe(false);
    });

    it.each([
      ['total_money (amount + tip) when present', {}, { amount: 2300, currency: 'USD' }],
      [
        'amount_money when total_money is absent',
        { total_money: undefined },
        { amount: 2000, currency: 'USD' },
      ],
      ['amount_money when total_money is null', { total_money: null }, { amount: 2000, currency: 'USD' }],
    ])('the order total is %s', (_name, over, expected) => {
      expect(paymentTotal(SquarePayment.parse({ ...payment, ...over }))).toEqual(expected);
    });

    it('a COMPLETED payment without any amount cannot be translated', () => {
      const event = PaymentEvent.parse(paymentEvent('e1', { total_money: null, amount_money: undefined }));
      expect(() => toOrderPlaced(event)).toThrow('payment.amount_money is missing');
    });
  });

  // -----------------------------------------------------------------------------------------------
  describe('orders and refunds', () => {
    it.each([
      ['SQUARE_POS', 'pos'],
      ['TERMINAL_API', 'pos'],
      ['RESTAURANTS', 'pos'],
      ['ONLINE_STORE', 'online'],
      ['ECOMMERCE_API', 'online'],
      [undefined, 'pos'],
    ])('a payment taken with %s is channel %s', (product, channel) => {
      const event = PaymentEvent.parse(
        paymentEvent('e1', product ? { application_details: { square_product: product } } : {}),
      );
      expect(toOrderPlaced(event)[0]?.data).toMatchObject({ channel });
    });

    it.each(['APPROVED', 'PENDING', 'CANCELED', 'FAILED'])('a payment %s publishes nothing', (status) => {
      expect(toOrderPlaced(PaymentEvent.parse(paymentEvent('e1', { status })))).toEqual([]);
    });

    it('falls back to the payment id as order id, and to the event time when updated_at is absent', () => {
      const [placed] = toOrderPlaced(
        PaymentEvent.parse(paymentEvent('e1', { order_id: null, updated_at: undefined })),
      );
      expect(placed).toMatchObject({ occurredAt: '2025-01-26T02:26:11Z', data: { orderId: payment.id } });
    });

    it('identifies the buyer by Square customer id and normalised receipt email', () => {
      const [placed] = toOrderPlaced(
        PaymentEvent.parse(paymentEvent('e1', { buyer_email_address: ' Amelia@Example.COM ' })),
      );
      expect(placed?.identities).toEqual([
        { type: 'email', value: 'amelia@example.com' },
        { type: 'external', system: 'square', value: 'A0AP4ZKV7E5H1' },
      ]);
    });

    it.each(['PENDING', 'REJECTED', 'FAILED'])('a refund %s publishes nothing', (status) => {
      expect(toOrderRefunded(RefundEvent.parse(refundEvent('e1', { status })))).toEqual([]);
    });

    it('a refund without order_id falls back to payment_id; without either it is a 400', () => {
      expect(
        toOrderRefunded(RefundEvent.parse(refundEvent('e1', { order_id: null })))[0]?.data,
      ).toMatchObject({
        orderId: refund.payment_id,
      });
      expect(() =>
        toOrderRefunded(RefundEvent.parse(refundEvent('e1', { order_id: '', payment_id: null }))),
      ).toThrow(ValidationError);
    });
  });

  // -----------------------------------------------------------------------------------------------
  describe('customers: consent, identities, traits, merges', () => {
    it.each([
      [true, { email: { status: 'unsubscribed' } }],
      // false is every record's default, not an opt-in: no consent is claimed.
      [false, undefined],
      [null, undefined],
      [undefined, undefined],
    ])('email_unsubscribed %s -> consent %j', (unsubscribed, expected) => {
      const preferences = unsubscribed === undefined ? undefined : { email_unsubscribed: unsubscribed };
      expect(emailConsentOf(SquareCustomer.parse({ ...customer, preferences }))).toEqual(expected);
    });

    it.each([
      ['a national US number', '(212) 555-4240', '+12125554240'],
      ['dashes and a leading 1', '1-212-555-4240', '+12125554240'],
      ['an international number', '+44 20 7183 8750', '+442071838750'],
      ['garbage', 'call me', undefined],
    ])('normalises the phone: %s', (_name, raw, expected) => {
      const [upserted] = toCustomerUpserted(CustomerEvent.parse(customerEvent({ phone_number: raw })));
      expect(upserted?.data).toMatchObject({ traits: expected ? { phone: expected } : {} });
      expect(
        upserted?.identities
          .filter((identity) => identity.type === 'phone')
          .map((identity) => identity.value),
      ).toEqual(expected ? [expected] : []);
    });

    it('lower-cases and trims the email, and drops one that is not an address from traits and identities', () => {
      expect(
        traitsOf(SquareCustomer.parse({ ...customer, email_address: '  AMELIA@Example.COM ' })).email,
      ).toBe('amelia@example.com');
      const [upserted] = toCustomerUpserted(
        CustomerEvent.parse(customerEvent({ email_address: 'not-an-email' })),
      );
      expect(upserted?.data).not.toHaveProperty('traits.email');
      expect(upserted?.identities.some((identity) => identity.type === 'email')).toBe(false);
    });

    it('keeps only the fields Square sent: blanks, nulls, country ZZ and empty addresses are dropped', () => {
      expect(
        traitsOf(
          SquareCustomer.parse({
            id: 'C1',
            given_name: '  ',
            family_name: null,
            company_name: ' Lockheed ',
            address: { address_line_1: '', country: 'ZZ' },
          }),
        ),
      ).toEqual({ company: 'Lockheed' });
    });

    it('emits customer.merged after the survivor upsert, without the survivor among the merged ids', () => {
      const merge = {
        merge: { from_customer_ids: ['OLD1', 'A0AP4ZKV7E5H1', 'OLD2'], to_customer_id: 'A0AP4ZKV7E5H1' },
      };
      const drafts = toCustomerUpserted(CustomerEvent.parse(customerEvent({}, merge)));
      expect(drafts.map((d) => d.type)).toEqual(['customer.upserted', 'customer.merged']);
      expect(drafts[1]?.data).toEqual({
        system: 'square',
        survivorId: 'A0AP4ZKV7E5H1',
        mergedIds: ['OLD1', 'OLD2'],
      });
    });

    it.each([
      ['no event_context', undefined],
      ['an event_context without merge', {}],
      [
        'a merge of nothing else',
        { merge: { from_customer_ids: ['A0AP4ZKV7E5H1'], to_customer_id: 'A0AP4ZKV7E5H1' } },
      ],
    ])('emits no customer.merged with %s', (_name, context) => {
      expect(toCustomerUpserted(CustomerEvent.parse(customerEvent({}, context))).map((d) => d.type)).toEqual([
        'customer.upserted',
      ]);
    });
  });
});
