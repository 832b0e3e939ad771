/**
 * The Shopify connector: its signature check against Shopify's own SDK, robustness of the whole ingest
 * path under random and mutated (but correctly signed) input, and the translation rules that need
 * more than a fixture (ids beyond 2^53, money, consent, identities, delivery ids).
 */
import '@shopify/shopify-api/adapters/node';
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { ApiVersion, LogSeverity, shopifyApi } from '@shopify/shopify-api';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TranslateContext, WebhookRequest } from '../../core/connector.ts';
import { SignatureError, ValidationError } from '../../core/errors.ts';
import { parseJsonKeepingLargeIntegers, quoteUnsafeIntegers } from '../../core/ingest/body.ts';
import { comparable, pipelineHarness, type WebhookFixture } from '../../test/support/ingest.ts';
import {
  cartIdOf,
  consentStatusOf,
  mapFields,
  occurredAt,
  parseShopifyWebhook,
  refundedAmount,
  splitTags,
  toCustomerUpserted,
} from './inbound.ts';
import shopify from './index.ts';
import { Checkout, Customer, type MailingAddress, Refund } from './schema.ts';
import { verifyShopifyWebhook } from './verify.ts';

const SECRET = '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';
const secrets = { SHOPIFY_WEBHOOK_SECRET: SECRET };
const NOW = new Date('2025-04-22T19:30:05Z');

const sign = (body: string | Buffer, secret = SECRET) =>
  createHmac('sha256', secret).update(body).digest('base64');

/** The headers Shopify sends with every classic webhook (lower-cased, as the pipeline sees them). */
function shopifyHeaders(
  topic: string,
  body: string | Buffer,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-shopify-topic': topic,
    'x-shopify-hmac-sha256': sign(body),
    'x-shopify-shop-domain': 'omnihub-demo.myshopify.com',
    'x-shopify-api-version': '2025-04',
    'x-shopify-webhook-id': 'b54557e4-8a5f-4bf7-9d70-bcd0430c9999',
    'x-shopify-event-id': '3f0c6a57-1d8e-4b5a-9c2e-7a41d0b9e999',
    'x-shopify-triggered-at': '2025-04-22T19:30:01.000000000Z',
    ...extra,
  };
}

function request(body: string | Buffer, headers: Record<string, string | undefined>): WebhookRequest {
  return {
    method: 'POST',
    path: '/webhooks/shopify',
    rawQueryString: '',
    headers,
    body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
    publicUrl: 'https://hooks.example.com/webhooks/shopify',
    receivedAt: NOW,
  };
}

function withoutHeader(headers: Record<string, string>, name: string): Record<string, string> {
  const { [name]: _removed, ...rest } = headers;
  return rest;
}

const fixturesDir = new URL('./fixtures/', import.meta.url);
const fixtures: Array<{ file: string; fixture: WebhookFixture }> = readdirSync(fixturesDir)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => ({
    file,
    fixture: JSON.parse(readFileSync(new URL(file, fixturesDir), 'utf8')) as WebhookFixture,
  }));
const validFixtures = fixtures.filter(({ fixture }) => (fixture.expect.events ?? []).length > 0);

function fixtureTopic(fixture: WebhookFixture): string {
  return fixture.request.headers['X-Shopify-Topic'] ?? '';
}

// -----------------------------------------------------------------------------------------------------

describe('Connector: shopify', () => {
  describe('signature, checked against @shopify/shopify-api webhooks.validate', () => {
    // The SDK oracle: the real validator of Shopify's own library, with its Node adapter and a plain
    // IncomingMessage-like request (method, url, headers), on the same bytes as our verifier.
    const sdk = shopifyApi({
      apiKey: 'omnihub-test',
      apiSecretKey: SECRET,
      apiVersion: ApiVersion.April25,
      hostName: 'hooks.example.com',
      isEmbeddedApp: false,
      logger: { level: LogSeverity.Error, log: async () => {} },
    });

    async function sdkAccepts(body: string, headers: Record<string, string>): Promise<boolean> {
      const result = await sdk.webhooks.validate({
        rawBody: body,
        rawRequest: { method: 'POST', url: '/webhooks/shopify', headers },
      });
      return result.valid;
    }

    /** undefined when accepted, else the SignatureError code. */
    function ourVerdict(body: string, headers: Record<string, string>): string | undefined {
      try {
        verifyShopifyWebhook(request(body, headers), secrets);
        return undefined;
      } catch (error) {
        if (error instanceof SignatureError) return error.code;
        throw error;
      }
    }

    const body =
      '{"id":706405506930370084,"email":"bob@example.com","updated_at":"2025-04-22T14:30:00-05:00"}';
    const base = shopifyHeaders('customers/update', body);
    const unprefixed = {
      'content-type': 'application/json',
      'shopify-topic': 'Customer',
      'shopify-hmac-sha256': sign(body),
      'shopify-shop-domain': 'omnihub-demo.myshopify.com',
      'shopify-api-version': 'unstable',
      'shopify-webhook-id': 'e7c1d2f0-5b6a-4c3d-8e9f-0a1b2c3d4e60',
    };

    it.each([
      { name: 'a genuine delivery', body, headers: base, ours: undefined, sdk: true },
      {
        name: 'a genuine Events delivery (unprefixed Shopify-Hmac-Sha256)',
        body,
        headers: unprefixed,
        ours: undefined,
        sdk: true,
      },
      {
        name: 'a tampered body',
        body: body.replace('bob@', 'eve@'),
        headers: base,
        ours: 'invalid_signature',
        sdk: false,
      },
      {
        name: 'one extra byte of whitespace',
        body: `${body}\n`,
        headers: base,
        ours: 'invalid_signature',
        sdk: false,
      },
      {
        name: 'a body signed with the wrong secret',
        body,
        headers: { ...base, 'x-shopify-hmac-sha256': sign(body, `${SECRET}x`) },
        ours: 'invalid_signature',
        sdk: false,
      },
      {
        name: 'the HMAC hex-encoded instead of base64',
        body,
        headers: {
          ...base,
          'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(body).digest('hex'),
        },
        ours: 'invalid_signature',
        sdk: false,
      },
      {
        name: 'a correct prefixed HMAC next to a wrong unprefixed one (the unprefixed one counts)',
        body,
        headers: { ...base, 'shopify-hmac-sha256': sign('other') },
        ours: 'invalid_signature',
        sdk: false,
      },
      {
        name: 'no signature header',
        body,
        headers: withoutHeader(base, 'x-shopify-hmac-sha256'),
        ours: 'missing_signature',
        sdk: false,
      },
      {
        name: 'an empty signature header',
        body,
        headers: { ...base, 'x-shopify-hmac-sha256': '' },
        ours: 'missing_signature',
        sdk: false,
      },
    ])('$name: ours -> $ours, SDK valid -> $sdk', async ({ body: raw, headers, ours, sdk: sdkValid }) => {
      expect(ourVerdict(raw, headers)).toBe(ours);
      expect(await sdkAccepts(raw, headers)).toBe(sdkValid);
    });

    it('has no replay window: nothing but the body is signed, so an old Triggered-At is not a 401', () => {
      // Shopify retries for 4 hours with the original payload; staleness is not a signature matter.
      const headers = { ...base, 'x-shopify-triggered-at': '2025-04-20T00:00:00.000000000Z' };
      expect(ourVerdict(body, headers)).toBeUndefined();
    });

    it('agrees with the SDK on random bodies and secrets, signed correctly or not', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }),
          fc.string({ minLength: 1, maxLength: 40 }),
          fc.boolean(),
          fc.nat(43),
          async (raw, secret, corrupt, position) => {
            const local = shopifyApi({
              apiKey: 'k',
              apiSecretKey: secret,
              apiVersion: ApiVersion.April25,
              hostName: 'hooks.example.com',
              isEmbeddedApp: false,
              logger: { level: LogSeverity.Error, log: async () => {} },
            });
            let signature = sign(raw, secret);
            if (corrupt) {
              const c = signature[position] === 'A' ? 'B' : 'A';
              signature = signature.slice(0, position) + c + signature.slice(position + 1);
            }
            const headers = {
              ...shopifyHeaders('customers/update', raw),
              'x-shopify-hmac-sha256': signature,
            };
            let ours = true;
            try {
              verifyShopifyWebhook(request(raw, headers), { SHOPIFY_WEBHOOK_SECRET: secret });
            } catch {
              ours = false;
            }
            const theirs = (
              await local.webhooks.validate({
                rawBody: raw,
                rawRequest: { method: 'POST', url: '/', headers },
              })
            ).valid;
            expect(ours).toBe(theirs);
            expect(ours).toBe(!corrupt);
          },
        ),
        { numRuns: 150 },
      );
    });
  });

  // ---------------------------------------------------------------------------------------------------

  describe('robustness through the whole pipeline', () => {
    const OK = [200, 400, 401, 413];
    const topics = Object.keys(shopify.inbound.topics);
    const harness = () => pipelineHarness(shopify, { secrets, now: () => NOW });

    it('never answers 5xx to random unsigned bytes and headers', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 2048 }),
          fc.dictionary(
            fc.constantFrom(
              'x-shopify-topic',
              'x-shopify-hmac-sha256',
              'shopify-hmac-sha256',
              'x-shopify-event-id',
              'x-shopify-webhook-id',
              'content-type',
            ),
            fc.string({ maxLength: 60 }),
          ),
          async (bytes, headers) => {
            const response = await harness().send(request(Buffer.from(bytes), headers));
            expect(OK).toContain(response.statusCode);
          },
        ),
        { numRuns: 150 },
      );
    });

    it('answers 200 or 400 (never 401 or 5xx) to correctly signed random JSON on every translated topic', async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...topics), fc.json({ maxDepth: 4 }), async (topic, json) => {
          const response = await harness().send(request(json, shopifyHeaders(topic, json)));
          expect([200, 400]).toContain(response.statusCode);
        }),
        { numRuns: 200 },
      );
    });

    it('answers 200 or 400 to correctly signed fixture payloads with fields replaced or removed', async () => {
      const seeds = validFixtures.map(({ fixture }) => ({
        topic: fixtureTopic(fixture),
        payload: JSON.parse(fixture.request.body ?? '{}') as Record<string, unknown>,
      }));
      const mutation = fc.record({
        seed: fc.nat(seeds.length - 1),
        key: fc.nat(),
        nestedKey: fc.nat(),
        value: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
        nested: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(mutation, async ({ seed, key, nestedKey, value, nested }) => {
          const { topic, payload } = seeds[seed] ?? { topic: 'orders/create', payload: {} };
          const copy = structuredClone(payload);
          const keys = Object.keys(copy);
          const name = keys[key % keys.length] ?? 'id';
          let target: Record<string, unknown> = copy;
          let field = name;
          // Nested: a field of the object, or of the first element of the array (line items...).
          const value0 = copy[name];
          const inner: unknown = Array.isArray(value0) ? value0[0] : value0;
          if (nested && typeof inner === 'object' && inner !== null && !Array.isArray(inner)) {
            target = inner as Record<string, unknown>;
            const innerKeys = Object.keys(target);
            field = innerKeys[nestedKey % Math.max(innerKeys.length, 1)] ?? 'id';
          }
          if (value === undefined) delete target[field];
          else target[field] = value;
          const raw = JSON.stringify(copy);
          const response = await harness().send(request(raw, shopifyHeaders(topic, raw)));
          expect([200, 400]).toContain(response.statusCode);
        }),
        { numRuns: 300 },
      );
    });

    it('answers 200/400/401/413 to correctly signed bodies with random headers (topic, ids, content type)', async () => {
      const orderBody =
        validFixtures.find(({ file }) => file === 'orders-create.json')?.fixture.request.body ?? '{}';
      await fc.assert(
        fc.asyncProperty(
          fc.option(fc.oneof(fc.constantFrom(...topics), fc.string({ maxLength: 40 })), { nil: undefined }),
          fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
          fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
          fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', ''),
          async (topic, eventId, webhookId, contentType) => {
            const headers: Record<string, string | undefined> = {
              'content-type': contentType,
              'x-shopify-hmac-sha256': sign(orderBody),
              'x-shopify-topic': topic,
              'x-shopify-event-id': eventId,
              'x-shopify-webhook-id': webhookId,
            };
            const response = await harness().send(request(orderBody, headers));
            expect(OK).toContain(response.statusCode);
            expect(response.statusCode).not.toBe(401);
          },
        ),
        { numRuns: 150 },
      );
    });

    it('answers 413 above 4 MiB, before looking at the signature', async () => {
      const big = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
      const response = await harness().send(request(big, shopifyHeaders('orders/create', big)));
      expect(response.statusCode).toBe(413);
    });
  });

  // ---------------------------------------------------------------------------------------------------

  describe('ids beyond 2^53', () => {
    it.each([['706405506930370084'], ['820982911946154508'], ['866550311766439020'], ['981820079255243537']])(
      'keeps %s exactly where JSON.parse would round it',
      (id) => {
        const raw = `{"id":${id},"customer":{"id":${id}},"order_id":${id},"n":[${id},1]}`;
        expect(String((JSON.parse(raw) as { id: number }).id)).not.toBe(id);
        expect(parseJsonKeepingLargeIntegers(Buffer.from(raw))).toEqual({
          id,
          customer: { id },
          order_id: id,
          n: [id, 1],
        });
      },
    );

    it.each([
      [
        'safe integers, decimals and exponents stay numbers',
        '{"a":9007199254740991,"b":1.5,"c":1e25,"d":-3}',
        '{"a":9007199254740991,"b":1.5,"c":1e25,"d":-3}',
      ],
      [
        'digits inside strings are not touched',
        '{"s":"706405506930370084","t":"a\\"706405506930370084"}',
        null,
      ],
      [
        'negative and deep',
        '[[-9007199254740993],{"x":{"y":[12345678901234567890]}}]',
        '[["-9007199254740993"],{"x":{"y":["12345678901234567890"]}}]',
      ],
      ['the first token of the text', '706405506930370084', '"706405506930370084"'],
      [
        'whitespace around tokens',
        '{ "id" : 706405506930370084 ,"k":[ 9007199254740992 ] }',
        '{ "id" : "706405506930370084" ,"k":[ "9007199254740992" ] }',
      ],
    ])('%s', (_name, raw, quoted) => {
      expect(quoteUnsafeIntegers(raw)).toBe(quoted ?? raw);
    });

    it('round-trips any JSON value with unsafe integers injected (property)', () => {
      fc.assert(
        fc.property(
          fc.jsonValue({ maxDepth: 3 }),
          fc.array(fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }), { maxLength: 5 }),
          fc.boolean(),
          (value, ids, negative) => {
            const literals = ids.map((id) => (negative ? `-${id}` : `${id}`));
            const raw = `{"value":${JSON.stringify(value)},"ids":[${literals.join(',')}]}`;
            // What a lossless reader must give: the value as JSON.parse reads it, except that integers
            // JSON.stringify wrote as plain digits beyond 2^53 come back as their digit strings.
            const expected = {
              value: keepUnsafeIntegersAsText(JSON.parse(JSON.stringify(value)) as unknown),
              ids: literals,
            };
            expect(parseJsonKeepingLargeIntegers(Buffer.from(raw))).toEqual(expected);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('reaches the canonical event: external ids, order ids and line ids are the exact digits', async () => {
      const { fixture } = validFixtures.find(({ file }) => file === 'orders-create.json') ?? {};
      expect(fixture).toBeDefined();
      if (!fixture) return;
      const raw = fixture.request.body ?? '';
      const h = pipelineHarness(shopify, { secrets, now: () => NOW });
      await h.send(request(raw, shopifyHeaders('orders/create', raw)));
      const [event] = h.publisher.events;
      expect(event?.subject).toBe('shopify:706405506930370084');
      expect(event?.data).toMatchObject({
        orderId: '820982911946154508',
        lineItems: [{ productId: '632910392' }, { productId: '9001234567890123456' }],
      });
    });
  });

  // ---------------------------------------------------------------------------------------------------

  describe('delivery ids and envelope', () => {
    const raw = '{"id":706405506930370084}';

    it('keys a delivery by topic and X-Shopify-Event-Id, else by X-Shopify-Webhook-Id', () => {
      const headers = shopifyHeaders('customers/delete', raw, {
        'x-shopify-event-id': 'ev-1',
        'x-shopify-webhook-id': 'wh-1',
      });
      expect(parseShopifyWebhook(request(raw, headers))).toEqual([
        {
          deliveryId: 'customers/delete:ev-1',
          topic: 'customers/delete',
          payload: { id: '706405506930370084' },
        },
      ]);
      const noEvent = withoutHeader(headers, 'x-shopify-event-id');
      expect(parseShopifyWebhook(request(raw, noEvent))[0]?.deliveryId).toBe('wh-1');
    });

    it('reads the unprefixed headers of Events deliveries', () => {
      const headers = {
        'shopify-topic': 'Customer',
        'shopify-webhook-id': 'wh-2',
        'shopify-hmac-sha256': sign(raw),
      };
      expect(parseShopifyWebhook(request(raw, headers))[0]).toMatchObject({
        deliveryId: 'wh-2',
        topic: 'Customer',
      });
    });

    it.each([
      ['missing topic', { 'x-shopify-webhook-id': 'wh' }, raw, 'missing_topic'],
      ['missing both ids', { 'x-shopify-topic': 'customers/delete' }, raw, 'missing_delivery_id'],
      [
        'a JSON array body',
        { 'x-shopify-topic': 'customers/delete', 'x-shopify-webhook-id': 'wh' },
        '[]',
        'malformed_body',
      ],
      [
        'a JSON null body',
        { 'x-shopify-topic': 'customers/delete', 'x-shopify-webhook-id': 'wh' },
        'null',
        'malformed_body',
      ],
      [
        'an empty body',
        { 'x-shopify-topic': 'customers/delete', 'x-shopify-webhook-id': 'wh' },
        '',
        'malformed_body',
      ],
    ])('rejects %s with 400', (_name, headers, body, code) => {
      expect(() => parseShopifyWebhook(request(body, headers))).toThrow(
        expect.objectContaining({ status: 400, code }) as unknown as Error,
      );
    });

    it('publishes orders/create and orders/paid of one merchant action (same event id), but a retry only once', async () => {
      const order =
        validFixtures.find(({ file }) => file === 'orders-create.json')?.fixture.request.body ?? '';
      const h = pipelineHarness(shopify, { secrets, now: () => NOW });
      const send = (topic: string) =>
        h.send(request(order, shopifyHeaders(topic, order, { 'x-shopify-event-id': 'same' })));
      const answers = [await send('orders/create'), await send('orders/paid'), await send('orders/create')];
      expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200]);
      expect(JSON.parse(answers[2]?.body ?? '{}')).toMatchObject({ published: 0, duplicates: 1 });
      expect(h.publisher.events.map((event) => [event.type, event.origin.deliveryId])).toEqual([
        ['order.placed', 'orders/create:same'],
        ['order.paid', 'orders/paid:same'],
      ]);
    });

    it('accepts the topic spelling of the issue as an alias of the one Shopify sends', async () => {
      const consent =
        '{"customer_id":706405506930370084,"email_address":"bob@example.com","email_marketing_consent":{"state":"subscribed","opt_in_level":"single_opt_in","consent_updated_at":"2025-04-25T11:00:00-05:00"}}';
      const h = pipelineHarness(shopify, { secrets, now: () => NOW });
      for (const topic of [
        'customers_email_marketing_consent/update',
        'customers/email_marketing_consent_update',
      ]) {
        await h.send(request(consent, shopifyHeaders(topic, consent, { 'x-shopify-event-id': topic })));
      }
      const [a, b] = h.publisher.events.map(comparable);
      expect(a?.data).toEqual({ channel: 'email', status: 'subscribed' });
      expect(b?.data).toEqual(a?.data);
    });
  });

  // ---------------------------------------------------------------------------------------------------

  describe('translation rules', () => {
    const context = (headers: Record<string, string> = {}): TranslateContext => ({
      connector: 'shopify',
      deliveryId: 'd',
      topic: 'customers/update',
      request: request('{}', headers),
    });

    afterEach(() => {
      vi.unstubAllEnvs();
    });

    it.each([
      ['subscribed', 'subscribed'],
      ['SUBSCRIBED', 'subscribed'],
      ['unsubscribed', 'unsubscribed'],
      ['not_subscribed', 'unsubscribed'],
      ['redacted', 'unsubscribed'],
      ['invalid', 'unsubscribed'],
      ['pending', undefined],
      ['constructor', undefined],
      ['', undefined],
      [null, undefined],
    ])('consent state %s -> %s', (state, status) => {
      expect(consentStatusOf(state)).toBe(status);
    });

    it('sums successful refund transactions in integer minor units, skipping failed and non-refund ones', () => {
      const refund = Refund.parse({
        id: 1,
        order_id: 2,
        transactions: [
          { kind: 'refund', status: 'success', amount: '0.10', currency: 'USD' },
          { kind: 'refund', status: 'success', amount: '0.20', currency: 'usd' },
          { kind: 'refund', status: 'failure', amount: '99.00', currency: 'USD' },
          { kind: 'sale', status: 'success', amount: '50.00', currency: 'USD' },
        ],
      });
      expect(refundedAmount(refund)).toEqual({ amount: 30, currency: 'USD' });
    });

    it('takes the currency from *_set.shop_money when transactions do not state one', () => {
      const refund = Refund.parse({
        id: 1,
        order_id: 2,
        transactions: [{ kind: 'refund', status: 'success', amount: '1500' }],
        refund_line_items: [{ subtotal_set: { shop_money: { amount: '1500', currency_code: 'JPY' } } }],
      });
      expect(refundedAmount(refund)).toEqual({ amount: 1500, currency: 'JPY' });
    });

    it.each([
      ['no transactions', []],
      ['only a pending refund', [{ kind: 'refund', status: 'pending', amount: '5.00', currency: 'USD' }]],
    ])('returns no amount for %s', (_name, transactions) => {
      expect(refundedAmount(Refund.parse({ id: 1, order_id: 2, transactions }))).toBeUndefined();
    });

    it('refuses refunds in several currencies or none', () => {
      const mixed = Refund.parse({
        id: 1,
        order_id: 2,
        transactions: [
          { kind: 'refund', status: 'success', amount: '1.00', currency: 'USD' },
          { kind: 'refund', status: 'success', amount: '1.00', currency: 'CAD' },
        ],
      });
      const none = Refund.parse({
        id: 1,
        order_id: 2,
        transactions: [{ kind: 'refund', status: 'success', amount: '1.00' }],
      });
      expect(() => refundedAmount(mixed)).toThrow(ValidationError);
      expect(() => refundedAmount(none)).toThrow(ValidationError);
    });

    it('normalises identities: lower-cased email, E.164 phone, garbage dropped from traits and identities', () => {
      const [event] = toCustomerUpserted(
        Customer.parse({
          id: '706405506930370084',
          email: '  Bob.Norman@Example.COM ',
          phone: '(613) 555-0143',
          first_name: ' Bob ',
          last_name: '',
          updated_at: '2025-04-22T14:30:00-05:00',
        }),
        context(),
      );
      expect(event?.identities).toEqual([
        { type: 'email', value: 'bob.norman@example.com' },
        { type: 'phone', value: '+16135550143' },
        { type: 'external', system: 'shopify', value: '706405506930370084' },
      ]);
      expect(event?.data).toEqual({
        system: 'shopify',
        externalId: '706405506930370084',
        traits: { firstName: 'Bob', email: 'bob.norman@example.com', phone: '+16135550143' },
      });

      const [garbage] = toCustomerUpserted(
        Customer.parse({ id: 7, email: 'not-an-email', phone: '12', updated_at: '2025-04-22T14:30:00Z' }),
        context(),
      );
      expect(garbage?.identities).toEqual([{ type: 'external', system: 'shopify', value: '7' }]);
      expect(garbage?.data).toEqual({ system: 'shopify', externalId: '7', traits: {} });
    });

    it('reads national phone numbers in OMNIHUB_DEFAULT_REGION', () => {
      vi.stubEnv('OMNIHUB_DEFAULT_REGION', 'GB');
      const [event] = toCustomerUpserted(
        Customer.parse({ id: 7, phone: '020 7946 0958', updated_at: '2025-04-22T14:30:00Z' }),
        context(),
      );
      expect(event?.identities[0]).toEqual({ type: 'phone', value: '+442079460958' });
    });

    it('maps consent carried in customer payloads of API versions before 2025-01, leaving pending out', () => {
      const [event] = toCustomerUpserted(
        Customer.parse({
          id: 7,
          updated_at: '2025-04-22T14:30:00Z',
          email_marketing_consent: { state: 'not_subscribed', opt_in_level: null, consent_updated_at: null },
          sms_marketing_consent: {
            state: 'pending',
            opt_in_level: 'confirmed_opt_in',
            consent_updated_at: null,
          },
        }),
        context(),
      );
      expect(event?.data).toMatchObject({ consent: { email: { status: 'unsubscribed' } } });
      expect(event?.data).not.toHaveProperty('consent.sms');
    });

    it.each([
      ['VIP, newsletter', ['VIP', 'newsletter']],
      ['', []],
      [' a ,, b ', ['a', 'b']],
      [
        ['x', ' y '],
        ['x', 'y'],
      ],
    ])('splits tags %j into %j', (tags, expected) => {
      expect(splitTags(tags)).toEqual(expected);
    });

    it('maps an address by rows, preferring codes and skipping blanks', () => {
      const address: MailingAddress = {
        address1: '1 Main St',
        address2: '',
        province: 'Ontario',
        province_code: 'ON',
        country: 'Canada',
      };
      expect(
        mapFields(address, {
          line1: ['address1'],
          line2: ['address2'],
          region: ['province_code', 'province'],
          country: ['country_code', 'country'],
        }),
      ).toEqual({ line1: '1 Main St', region: 'ON', country: 'Canada' });
    });

    it('times an event by the first valid resource timestamp, then X-Shopify-Triggered-At', () => {
      const withHeader = context({ 'x-shopify-triggered-at': '2025-04-22T19:30:01.5Z' });
      expect(occurredAt(withHeader.request, 'yesterday', null, '2025-04-22T14:30:00-05:00')).toBe(
        '2025-04-22T14:30:00-05:00',
      );
      expect(occurredAt(withHeader.request, 'garbage', undefined)).toBe('2025-04-22T19:30:01.5Z');
      expect(() => occurredAt(context().request, null)).toThrow(
        expect.objectContaining({ code: 'missing_timestamp' }) as unknown as Error,
      );
    });

    const checkout = { currency: 'USD', total_price: '1.00' };
    it.each([
      {
        name: 'id and token',
        fields: { id: '981820079255243537', token: 'b1946ac9' },
        cartId: '981820079255243537',
      },
      { name: 'only token (the published samples)', fields: { token: '123123123' }, cartId: '123123123' },
      { name: 'a null id and a token', fields: { id: null, token: '123123123' }, cartId: '123123123' },
    ])('names the cart by the checkout id, else its token: $name', ({ fields, cartId }) => {
      expect(cartIdOf(Checkout.parse({ ...checkout, ...fields }))).toBe(cartId);
    });

    it.each([
      { name: 'neither id nor token', fields: {} },
      { name: 'a blank token', fields: { token: ' ' } },
    ])('refuses a checkout with $name, naming id', ({ fields }) => {
      const parsed = Checkout.safeParse({ ...checkout, ...fields });
      expect(parsed.error?.issues.map((issue) => [issue.path, issue.message])).toEqual([
        [['id'], 'id or token is required'],
      ]);
    });
  });
});

/** Integers JSON.stringify prints as plain digits beyond 2^53 become their digit strings. */
function keepUnsafeIntegersAsText(value: unknown): unknown {
  if (typeof value === 'number') {
    const text = JSON.stringify(value);
    return /^-?\d+$/.test(text) && !Number.isSafeInteger(value) ? text : value;
  }
  if (Array.isArray(value)) return value.map(keepUnsafeIntegersAsText);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, keepUnsafeIntegersAsText(inner)]),
    );
  }
  return value;
}
