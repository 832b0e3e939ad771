import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import sendgridEventWebhook from '@sendgrid/eventwebhook';
import * as fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WebhookRequest } from '../../core/connector.ts';
import { RetryableError, SignatureError } from '../../core/errors.ts';
import { Envelope } from '../../core/events/envelope.ts';
import { emptyContent, foldEvent } from '../../core/profile/model.ts';
import { pipelineHarness } from '../../test/support/ingest.ts';
import { SDK_BAD_SIGNATURE, SDK_MULTIPLE, SDK_OTHER_PUBLIC_KEY, SDK_SINGLE } from './fixtures/sdk-vectors.ts';
import { TEST_ONLY_PRIVATE_KEY_PEM, TEST_ONLY_PUBLIC_KEY } from './fixtures/test-key.ts';
import { bounceTypeOf, categoriesOf, groupScope, occurredAt, parseEvents, topics } from './inbound.ts';
import sendgrid, { MAX_BODY_BYTES } from './index.ts';
import { DroppedEvent, MessageEvent, MILLISECONDS_FROM } from './schema.ts';
import {
  DEFAULT_MAX_AGE_SECONDS,
  MAX_AGE_ENV,
  SIGNATURE_HEADER,
  sendgridPublicKey,
  signatureMaxAgeSeconds,
  TIMESTAMP_HEADER,
  verifySendGridSignature,
} from './verify.ts';

const { EventWebhook } = sendgridEventWebhook;
const NOW = new Date('2023-11-14T22:20:00.000Z');
const NOW_SECONDS = String(Math.floor(NOW.getTime() / 1000));
const TEST_PRIVATE_KEY = createPrivateKey(TEST_ONLY_PRIVATE_KEY_PEM);
const MESSAGE_ID = '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0';

/** Signs like SendGrid: ECDSA P-256/SHA-256 over the timestamp's bytes then the body's bytes, base64 DER. */
function signSendGrid(timestamp: string, body: string | Buffer): string {
  return sign(
    'sha256',
    Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]),
    TEST_PRIVATE_KEY,
  ).toString('base64');
}

function webhookRequest(body: string | Buffer, headers: Record<string, string | undefined>): WebhookRequest {
  return {
    method: 'POST',
    path: '/webhooks/sendgrid',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(body),
    publicUrl: 'https://hooks.example.com/webhooks/sendgrid',
    receivedAt: NOW,
  };
}

/** A request signed with the test key, as SendGrid would send it. */
function signedRequest(body: string | Buffer, timestamp = NOW_SECONDS): WebhookRequest {
  return webhookRequest(body, {
    [SIGNATURE_HEADER]: signSendGrid(timestamp, body),
    [TIMESTAMP_HEADER]: timestamp,
  });
}

/** Our verdict: 'accepted' or the error code. */
function ours(request: WebhookRequest, publicKey: string, now = NOW): string {
  try {
    verifySendGridSignature(request, publicKey, now, {});
    return 'accepted';
  } catch (error) {
    if (error instanceof SignatureError || error instanceof RetryableError) return error.code;
    throw error;
  }
}

/** The official SDK's verdict on the same bytes and headers (it throws on some malformed signatures). */
function sdkAccepts(publicKey: string, body: string, signature: string, timestamp: string): boolean {
  const webhook = new EventWebhook();
  try {
    return webhook.verifySignature(webhook.convertPublicKeyToECDSA(publicKey), body, signature, timestamp);
  } catch {
    return false;
  }
}

/** One SendGrid batch the way SendGrid writes it: `\r\n` after every event. */
function batch(events: readonly object[]): string {
  return `[${events.map((event) => JSON.stringify(event)).join(',\r\n')}]\r\n`;
}

function event(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    email: 'a@example.com',
    timestamp: 1700000000,
    event: 'delivered',
    sg_event_id: 'ZGVsaXZlcmVkLTAwMDE',
    sg_message_id: MESSAGE_ID,
    ...overrides,
  };
}

function harness() {
  return pipelineHarness(sendgrid, {
    secrets: { SENDGRID_WEBHOOK_PUBLIC_KEY: TEST_ONLY_PUBLIC_KEY },
    now: () => NOW,
  });
}

function errorCode(body: string | undefined): unknown {
  return (JSON.parse(body ?? '{}') as { error?: unknown }).error;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('Connector: sendgrid', () => {
  describe('signature, against the official SDK (@sendgrid/eventwebhook 8.0.0) on the same bytes', () => {
    const ownBatch = batch([
      event({}),
      event({ event: 'open', sg_event_id: 'b3Blbi0wMDAx', email: 'José@example.com' }),
    ]);
    const ownTimestamp = '1700000400';
    const ownSignature = signSendGrid(ownTimestamp, ownBatch);

    it.each([
      { name: "SendGrid's single-event vector", ...SDK_SINGLE },
      { name: "SendGrid's two-event vector (\\r\\n between events)", ...SDK_MULTIPLE },
      {
        name: 'a batch signed with the test key (non-ASCII email)',
        publicKey: TEST_ONLY_PUBLIC_KEY,
        payload: ownBatch,
        signature: ownSignature,
        timestamp: ownTimestamp,
      },
    ])('both accept $name', ({ publicKey, payload, signature, timestamp }) => {
      const request = webhookRequest(payload, {
        [SIGNATURE_HEADER]: signature,
        [TIMESTAMP_HEADER]: timestamp,
      });
      expect(sdkAccepts(publicKey, payload, signature, timestamp)).toBe(true);
      expect(ours(request, publicKey, new Date((Number(timestamp) + 60) * 1000))).toBe('accepted');
    });

    it.each([
      { name: 'a tampered body', payload: SDK_SINGLE.payload.replace('Bounced Address', 'Bounced address') },
      {
        name: 'the body without its trailing \\r\\n (re-serialised JSON)',
        payload: SDK_SINGLE.payload.trimEnd(),
      },
      { name: 'the wrong public key', publicKey: SDK_OTHER_PUBLIC_KEY },
      { name: "a signature of another message (the SDK's bad signature)", signature: SDK_BAD_SIGNATURE },
      { name: 'another timestamp than the signed one', timestamp: String(Number(SDK_SINGLE.timestamp) + 1) },
      {
        name: "the multi-event vector's signature on the single-event body",
        signature: SDK_MULTIPLE.signature,
      },
    ])('both reject $name (ours: invalid_signature)', (change) => {
      const { publicKey, payload, signature, timestamp } = { ...SDK_SINGLE, ...change };
      const request = webhookRequest(payload, {
        [SIGNATURE_HEADER]: signature,
        [TIMESTAMP_HEADER]: timestamp,
      });
      expect(sdkAccepts(publicKey, payload, signature, timestamp)).toBe(false);
      expect(ours(request, publicKey, new Date(Number(SDK_SINGLE.timestamp) * 1000))).toBe(
        'invalid_signature',
      );
    });

    it.each([
      {
        name: 'older than the 48 h window',
        now: (Number(SDK_SINGLE.timestamp) + DEFAULT_MAX_AGE_SECONDS + 1) * 1000,
      },
      { name: 'more than 5 minutes in the future', now: (Number(SDK_SINGLE.timestamp) - 301) * 1000 },
    ])('rejects a genuine signature $name with stale_timestamp (the SDK has no window)', ({ now }) => {
      const { publicKey, payload, signature, timestamp } = SDK_SINGLE;
      const request = webhookRequest(payload, {
        [SIGNATURE_HEADER]: signature,
        [TIMESTAMP_HEADER]: timestamp,
      });
      expect(sdkAccepts(publicKey, payload, signature, timestamp)).toBe(true);
      expect(ours(request, publicKey, new Date(now))).toBe('stale_timestamp');
    });

    it.each([
      {
        name: 'no signature header',
        headers: { [TIMESTAMP_HEADER]: SDK_SINGLE.timestamp },
        code: 'missing_signature',
      },
      {
        name: 'an empty signature header',
        headers: { [SIGNATURE_HEADER]: ' ', [TIMESTAMP_HEADER]: SDK_SINGLE.timestamp },
        code: 'missing_signature',
      },
      {
        name: 'no timestamp header',
        headers: { [SIGNATURE_HEADER]: SDK_SINGLE.signature },
        code: 'missing_timestamp',
      },
      {
        name: "a timestamp that is not unix seconds (the SDK spec's 'timestamp')",
        headers: { [SIGNATURE_HEADER]: SDK_SINGLE.signature, [TIMESTAMP_HEADER]: 'timestamp' },
        code: 'missing_timestamp',
      },
      {
        name: 'a signature that is not base64',
        headers: { [SIGNATURE_HEADER]: 'not base64!', [TIMESTAMP_HEADER]: SDK_SINGLE.timestamp },
        code: 'invalid_signature',
      },
      {
        name: 'a base64 signature that is not DER',
        headers: {
          [SIGNATURE_HEADER]: Buffer.alloc(64, 7).toString('base64'),
          [TIMESTAMP_HEADER]: SDK_SINGLE.timestamp,
        },
        code: 'invalid_signature',
      },
    ])('rejects $name with $code', ({ headers, code }) => {
      const request = webhookRequest(SDK_SINGLE.payload, headers);
      expect(ours(request, SDK_SINGLE.publicKey, new Date(Number(SDK_SINGLE.timestamp) * 1000))).toBe(code);
    });

    // The SDK decodes leniently (Node's base64 ignores what follows '=', starkbank-ecdsa's DER reader
    // truncates an overlong length); OpenSSL insists on strict DER. SendGrid sends canonical signatures,
    // so refusing a mangled encoding loses nothing.
    it.each([
      {
        name: 'characters after the base64 padding',
        mangle: (signature: string) => `${signature.replace(/=+$/, '')}=A`,
      },
      {
        name: 'an overlong DER length for s (starkbank reads past it)',
        mangle: (signature: string) => {
          const der = Buffer.from(signature, 'base64');
          const sAt = 4 + (der[3] ?? 0); // 30 len 02 rlen r... 02 slen s...
          der[sAt + 1] = 0x3f;
          return der.toString('base64');
        },
      },
    ])('refuses a valid signature with $name, which the SDK accepts', ({ mangle }) => {
      const body = batch([event({})]);
      const signature = mangle(signSendGrid(NOW_SECONDS, body));
      expect(sdkAccepts(TEST_ONLY_PUBLIC_KEY, body, signature, NOW_SECONDS)).toBe(true);
      const request = webhookRequest(body, {
        [SIGNATURE_HEADER]: signature,
        [TIMESTAMP_HEADER]: NOW_SECONDS,
      });
      expect(ours(request, TEST_ONLY_PUBLIC_KEY)).toBe('invalid_signature');
    });

    it('agrees with the SDK on random bodies signed with the test key, and on their mutations', () => {
      // Bodies are strings (the SDK takes one); mutations keep them strings so both see the same bytes.
      const mutation = fc.oneof(
        fc.constant({ kind: 'none' as const }),
        fc.record({
          kind: fc.constant('body' as const),
          at: fc.nat(),
          insert: fc.string({ minLength: 1, maxLength: 3 }),
        }),
        fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
        fc.record({ kind: fc.constant('timestamp' as const), delta: fc.integer({ min: 1, max: 100 }) }),
        fc.record({
          kind: fc.constant('signature' as const),
          at: fc.nat(),
          char: fc.constantFrom('A', 'B', '/', '+'),
        }),
      );
      fc.assert(
        fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), mutation, (original, change) => {
          let body = original;
          let timestamp = NOW_SECONDS;
          let signature = signSendGrid(timestamp, original);
          if (change.kind === 'body') {
            const at = change.at % (body.length + 1);
            body = body.slice(0, at) + change.insert + body.slice(at);
          } else if (change.kind === 'drop' && body.length > 0) {
            const at = change.at % body.length;
            body = body.slice(0, at) + body.slice(at + 1);
          } else if (change.kind === 'timestamp') {
            timestamp = String(Number(timestamp) - change.delta);
          } else if (change.kind === 'signature') {
            const at = change.at % signature.length;
            signature = signature.slice(0, at) + change.char + signature.slice(at + 1);
          }
          const request = webhookRequest(body, {
            [SIGNATURE_HEADER]: signature,
            [TIMESTAMP_HEADER]: timestamp,
          });
          const sdk = sdkAccepts(TEST_ONLY_PUBLIC_KEY, body, signature, timestamp);
          const verdict = ours(request, TEST_ONLY_PUBLIC_KEY);
          if (verdict === 'accepted') expect(sdk).toBe(true); // we never accept what the SDK refuses
          if (sdk && verdict !== 'accepted') {
            // The one allowed disagreement: a mangled encoding of a valid signature (see the cases above).
            expect(change.kind).toBe('signature');
            expect(verdict).toBe('invalid_signature');
          }
          if (!sdk) expect(verdict).toBe('invalid_signature');
          if (change.kind !== 'signature') expect(verdict === 'accepted').toBe(sdk);
        }),
        { numRuns: 150 },
      );
    });
  });

  describe('replay window and configuration', () => {
    it.each([
      { value: undefined, seconds: DEFAULT_MAX_AGE_SECONDS },
      { value: '', seconds: DEFAULT_MAX_AGE_SECONDS },
      { value: '3600', seconds: 3600 },
      { value: ' 90000 ', seconds: 90000 },
      { value: '604800', seconds: 604800 },
    ])('reads $value from SENDGRID_SIGNATURE_MAX_AGE_SECONDS as $seconds s', ({ value, seconds }) => {
      expect(signatureMaxAgeSeconds({ [MAX_AGE_ENV]: value })).toBe(seconds);
    });

    it.each(['0', '-5', '1.5', 'abc', '604801', '1e5'])('refuses %j as a misconfiguration (503)', (value) => {
      expect(() => signatureMaxAgeSeconds({ [MAX_AGE_ENV]: value })).toThrow(
        expect.objectContaining({ status: 503, code: 'connector_misconfigured' }),
      );
    });

    it('reads the window at verify time', () => {
      const request = signedRequest(batch([event({})]), String(Number(NOW_SECONDS) - 61));
      expect(ours(request, TEST_ONLY_PUBLIC_KEY)).toBe('accepted');
      vi.stubEnv(MAX_AGE_ENV, '60');
      expect(() => verifySendGridSignature(request, TEST_ONLY_PUBLIC_KEY, NOW)).toThrow(
        expect.objectContaining({
          code: 'stale_timestamp',
          message: expect.stringContaining('older than 60 seconds'),
        }),
      );
    });

    it('answers 503 connector_misconfigured, not 500, when the window variable is garbage', async () => {
      vi.stubEnv(MAX_AGE_ENV, 'two days');
      const response = await harness().send(signedRequest(batch([event({})])));
      expect(response.statusCode).toBe(503);
      expect(errorCode(response.body)).toBe('connector_misconfigured');
    });

    it('parses a configured key once and reuses it', () => {
      expect(sendgridPublicKey(TEST_ONLY_PUBLIC_KEY)).toBe(sendgridPublicKey(TEST_ONLY_PUBLIC_KEY));
    });

    it.each([
      { name: 'wrapped over several lines', key: TEST_ONLY_PUBLIC_KEY.replace(/(.{40})/g, '$1\n') },
      {
        name: 'with PEM armour',
        key: `-----BEGIN PUBLIC KEY-----\n${TEST_ONLY_PUBLIC_KEY.replace(/(.{64})/g, '$1\n')}\n-----END PUBLIC KEY-----\n`,
      },
    ])('accepts the key $name', ({ key }) => {
      expect(ours(signedRequest(batch([event({})])), key)).toBe('accepted');
    });

    const export64 = (key: { export(options: { format: 'der'; type: 'spki' }): Buffer }) =>
      key.export({ format: 'der', type: 'spki' }).toString('base64');
    it.each([
      { name: 'not base64', key: 'not a key' },
      { name: 'base64 but not DER', key: Buffer.from('hello world').toString('base64') },
      { name: 'a private key', key: TEST_ONLY_PRIVATE_KEY_PEM },
      { name: 'an RSA key', key: export64(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey) },
      {
        name: 'a P-384 key',
        key: export64(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey),
      },
      { name: 'an Ed25519 key', key: export64(generateKeyPairSync('ed25519').publicKey) },
    ])('answers 503 connector_misconfigured when the configured key is $name', async ({ key }) => {
      expect(ours(signedRequest(batch([event({})])), key)).toBe('connector_misconfigured');
      const response = await pipelineHarness(sendgrid, {
        secrets: { SENDGRID_WEBHOOK_PUBLIC_KEY: key },
        now: () => NOW,
      }).send(signedRequest(batch([event({})])));
      expect(response.statusCode).toBe(503);
      expect(errorCode(response.body)).toBe('connector_misconfigured');
    });
  });

  describe('no input gives a 5xx or an uncaught exception', () => {
    const allowed = [200, 400, 401, 413];
    const topicsAndMore = fc.constantFrom(
      ...Object.keys(topics),
      'processed',
      'account_status_change',
      '',
      '__proto__',
    );
    const anyValue = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.json(),
    );
    /** An event-shaped element: each field either plausible, of a random type, or absent. */
    const eventLike = fc.record(
      {
        email: fc.oneof(fc.constantFrom('a@example.com', ' B@Example.COM ', 'not-an-email', ''), anyValue),
        timestamp: fc.oneof(
          fc.integer({ min: 0, max: 2_000_000_000 }),
          fc.constant(1e20),
          fc.constant(-1),
          anyValue,
        ),
        event: fc.oneof(topicsAndMore, anyValue),
        sg_event_id: fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), anyValue),
        sg_message_id: fc.oneof(fc.constant(MESSAGE_ID), anyValue),
        category: fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 }), anyValue),
        url: fc.oneof(fc.webUrl(), anyValue),
        reason: anyValue,
        response: anyValue,
        type: fc.oneof(fc.constantFrom('bounce', 'blocked', 'expired'), anyValue),
        asm_group_id: fc.oneof(fc.integer({ min: 0, max: 99999 }), fc.stringMatching(/^\d{1,5}$/), anyValue),
      },
      { requiredKeys: [] },
    );

    it('correctly signed event-like batches: 200 with valid envelopes, or 400', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(eventLike, { maxLength: 6 }), async (events) => {
          const hub = harness();
          const response = await hub.send(signedRequest(batch(events)));
          expect([200, 400], response.body).toContain(response.statusCode);
          for (const envelope of hub.publisher.events)
            expect(Envelope.safeParse(envelope).success).toBe(true);
        }),
        { numRuns: 300 },
      );
    });

    it('correctly signed arbitrary JSON and mutated batches: 200 or 400', async () => {
      const valid = batch([
        event({}),
        event({ event: 'bounce', sg_event_id: 'Ym91bmNl', type: 'blocked', reason: '550' }),
        event({ event: 'group_unsubscribe', sg_event_id: 'Z3JvdXA', asm_group_id: 42 }),
      ]);
      const body = fc.oneof(
        fc.json().map((json) => `${json}\r\n`),
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc
          .array(fc.record({ at: fc.nat(), cut: fc.nat({ max: 5 }), insert: fc.string({ maxLength: 4 }) }), {
            minLength: 1,
            maxLength: 4,
          })
          .map((edits) =>
            edits.reduce((text, { at, cut, insert }) => {
              const position = at % (text.length + 1);
              return text.slice(0, position) + insert + text.slice(position + cut);
            }, valid),
          ),
      );
      await fc.assert(
        fc.asyncProperty(body, async (raw) => {
          const response = await harness().send(signedRequest(raw));
          expect([200, 400], response.body).toContain(response.statusCode);
        }),
        { numRuns: 300 },
      );
    });

    it('random and mutated headers and bodies: never a 5xx', async () => {
      const valid = batch([event({})]);
      const header = fc.option(fc.oneof(fc.string({ maxLength: 120 }), fc.base64String({ maxLength: 100 })), {
        nil: undefined,
      });
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(fc.constant(valid), fc.string({ maxLength: 200 })),
          header,
          fc.option(fc.oneof(fc.string({ maxLength: 15 }), fc.integer().map(String)), { nil: undefined }),
          fc.option(
            fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-8', ''),
            {
              nil: undefined,
            },
          ),
          async (body, signature, timestamp, contentType) => {
            const response = await harness().send(
              webhookRequest(body, {
                [SIGNATURE_HEADER]: signature,
                [TIMESTAMP_HEADER]: timestamp,
                'content-type': contentType,
              }),
            );
            expect(allowed, response.body).toContain(response.statusCode);
            expect(response.statusCode).not.toBe(200); // nothing unsigned gets through
          },
        ),
        { numRuns: 200 },
      );
    });
  });

  describe('translation', () => {
    it.each([
      { category: undefined, expected: undefined },
      { category: 'newsletter', expected: ['newsletter'] },
      { category: ['welcome', 'onboarding'], expected: ['welcome', 'onboarding'] },
      { category: [], expected: [] },
    ])('categoriesOf($category) is $expected', ({ category, expected }) => {
      expect(categoriesOf(category)).toEqual(expected);
    });

    it.each([
      { type: 'bounce', expected: 'bounce' },
      { type: 'blocked', expected: 'blocked' },
      { type: 'expired', expected: undefined },
      { type: undefined, expected: undefined },
    ])('bounceTypeOf($type) is $expected', ({ type, expected }) => {
      expect(bounceTypeOf(type)).toBe(expected);
    });

    it('scopes group consent by ASM group id, whether SendGrid sends a number or a numeric string', () => {
      expect(groupScope(42)).toBe('group:42');
      expect(groupScope('42')).toBe('group:42');
      expect(groupScope('042')).toBe('group:42');
    });

    it('reads unix seconds as UTC', () => {
      expect(occurredAt(1700000000)).toBe('2023-11-14T22:13:20.000Z');
    });

    it.each([
      { timestamp: 1591726752372, expected: '2020-06-09T18:19:12.372Z' }, // the documented Single Send open
      { timestamp: MILLISECONDS_FROM - 1, expected: '5138-11-16T09:46:39.000Z' },
      { timestamp: MILLISECONDS_FROM, expected: '1973-03-03T09:46:40.000Z' },
    ])(
      'reads $timestamp as seconds below MILLISECONDS_FROM, as milliseconds from it',
      ({ timestamp, expected }) => {
        expect(occurredAt(timestamp)).toBe(expected);
      },
    );

    it.each([
      { timestamp: '1700000000', occurredAt: '2023-11-14T22:13:20.000Z' },
      { timestamp: '1700000000123', occurredAt: '2023-11-14T22:13:20.123Z' },
    ])('reads a decimal string timestamp $timestamp too', async ({ timestamp, occurredAt: expected }) => {
      const hub = harness();
      const response = await hub.send(signedRequest(batch([event({ timestamp })])));
      expect(response.statusCode, response.body).toBe(200);
      expect(hub.publisher.events.map((envelope) => envelope.occurredAt)).toEqual([expected]);
    });

    it.each([
      { name: 'a fraction', timestamp: 1700000000.5 },
      { name: 'a negative number', timestamp: -1 },
      { name: 'after the year 9999 in milliseconds', timestamp: 253_402_300_800_000 },
      { name: 'a date string', timestamp: '2023-11-14T22:13:20Z' },
    ])('refuses a timestamp that is $name', ({ timestamp }) => {
      const parsed = MessageEvent.safeParse(event({ timestamp }));
      expect(parsed.error?.issues.map((issue) => issue.path)).toEqual([['timestamp']]);
    });

    it.each([
      { name: 'empty', messageId: { sg_message_id: '' } },
      { name: 'absent', messageId: { sg_message_id: undefined } },
    ])(
      'publishes a bounce whose message id is $name (asynchronous) for the address, and the profile marks it undeliverable',
      async ({ messageId }) => {
        const hub = harness();
        const bounce = event({
          event: 'bounce',
          type: 'bounce',
          reason: '550 5.1.1 unknown user',
          ...messageId,
        });
        const response = await hub.send(signedRequest(batch([bounce])));
        expect(response.statusCode, response.body).toBe(200);
        const [published] = hub.publisher.events;
        expect(published).toMatchObject({
          type: 'message.bounced',
          identities: [{ type: 'email', value: 'a@example.com' }],
          data: { messageId: '', bounceType: 'bounce', reason: '550 5.1.1 unknown user' },
        });
        const profile = foldEvent(emptyContent(), published as Envelope, ['email:a@example.com']);
        expect(profile.consent.email?.value).toEqual({
          status: 'undeliverable',
          reason: '550 5.1.1 unknown user',
        });
      },
    );

    it.each([
      { name: 'empty', sg_message_id: '' },
      { name: 'absent', sg_message_id: undefined },
    ])(
      'still requires the message id of a delivered event ($name): only bounces and drops go without',
      ({ sg_message_id }) => {
        const parsed = MessageEvent.safeParse(event({ sg_message_id }));
        expect(parsed.error?.issues.map((issue) => issue.path)).toEqual([['sg_message_id']]);
        expect(DroppedEvent.safeParse(event({ event: 'dropped', sg_message_id })).success).toBe(true);
      },
    );

    it.each([
      {
        topic: 'unsubscribe',
        extra: {},
        data: { channel: 'email', status: 'unsubscribed', reason: 'unsubscribe' },
      },
      {
        topic: 'spamreport',
        extra: {},
        data: { channel: 'email', status: 'unsubscribed', reason: 'spamreport' },
      },
      {
        topic: 'group_unsubscribe',
        extra: { asm_group_id: 7 },
        data: { channel: 'email', status: 'unsubscribed', scope: 'group:7' },
      },
      {
        topic: 'group_resubscribe',
        extra: { asm_group_id: 7 },
        data: { channel: 'email', status: 'subscribed', scope: 'group:7' },
      },
    ])('$topic changes consent to $data.status', async ({ topic, extra, data }) => {
      const hub = harness();
      const response = await hub.send(signedRequest(batch([event({ event: topic, ...extra })])));
      expect(response.statusCode).toBe(200);
      expect(hub.publisher.events).toHaveLength(1);
      expect(hub.publisher.events[0]).toMatchObject({ type: 'consent.changed', data });
      expect(hub.publisher.events[0]?.data).toStrictEqual(data); // no stray keys such as scope: undefined
    });

    it('requires the ASM group id for group consent events (quarantined, naming the field)', async () => {
      const hub = harness();
      const response = await hub.send(signedRequest(batch([event({ event: 'group_unsubscribe' })])));
      expect(response.statusCode).toBe(200);
      expect(hub.publisher.events).toEqual([]);
      expect([...hub.quarantine.records.values()].map((record) => record.reason)).toEqual([
        expect.stringContaining('asm_group_id'),
      ]);
    });

    it.each([
      { email: ' A@Example.COM ', identities: [{ type: 'email', value: 'a@example.com' }] },
      { email: 'not-an-email', identities: [] },
    ])('normalises the email $email to identities $identities', async ({ email, identities }) => {
      const hub = harness();
      await hub.send(signedRequest(batch([event({ email })])));
      expect(hub.publisher.events.map((envelope) => envelope.identities)).toEqual([identities]);
    });

    it('splits a batch into one delivery per element, keyed by sg_event_id and topic event', () => {
      const deliveries = parseEvents(
        signedRequest(batch([event({}), event({ event: 'processed', sg_event_id: 'cHJvY2Vzc2Vk' })])),
      );
      expect(deliveries.map(({ deliveryId, topic }) => ({ deliveryId, topic }))).toEqual([
        { deliveryId: 'ZGVsaXZlcmVkLTAwMDE', topic: 'delivered' },
        { deliveryId: 'cHJvY2Vzc2Vk', topic: 'processed' },
      ]);
    });

    it('publishes a redelivered batch once (dedupe on sg_event_id)', async () => {
      const hub = harness();
      const request = signedRequest(batch([event({}), event({ event: 'open', sg_event_id: 'b3Blbg' })]));
      expect((await hub.send(request)).statusCode).toBe(200);
      const again = await hub.send(request);
      expect(again.statusCode).toBe(200);
      expect(JSON.parse(again.body ?? '{}')).toMatchObject({ published: 0, duplicates: 2 });
      expect(hub.publisher.events).toHaveLength(2);
    });
  });

  describe('limits', () => {
    /** A realistic, fairly heavy event: long URL, several categories, custom args. */
    function heavyEvent(index: number): Record<string, unknown> {
      return event({
        event: 'click',
        sg_event_id: `Y2xpY2stMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw-${index}`,
        email: `customer.${index}@example.com`,
        url: `https://shop.example/products/${index}?utm_source=sendgrid&utm_medium=email&utm_campaign=spring-sale-2024&utm_content=hero-banner-${index}`,
        url_offset: { index: 3, type: 'html' },
        category: ['newsletter', 'spring-sale', 'segment-vip', 'locale-en'],
        useragent:
          'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15',
        ip: '203.0.113.9',
        'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
        marketing_campaign_id: 12345,
        marketing_campaign_name: 'Spring sale 2024',
        customer_id: `cus_${index}`,
        order_id: `ord_${index}`,
      });
    }

    it('accepts a 500-event batch well under the limit', async () => {
      const body = batch(Array.from({ length: 500 }, (_, index) => heavyEvent(index)));
      expect(body.length).toBeLessThan(MAX_BODY_BYTES / 2);
      const hub = harness();
      const response = await hub.send(signedRequest(body));
      expect(response.statusCode, response.body).toBe(200);
      expect(hub.publisher.events).toHaveLength(500);
    });

    it('answers 413 above the limit, before any signature work', async () => {
      const response = await harness().send(webhookRequest(Buffer.alloc(MAX_BODY_BYTES + 1, 0x20), {}));
      expect(response.statusCode).toBe(413);
      expect(errorCode(response.body)).toBe('payload_too_large');
    });
  });
});
