/**
 * Twilio connector: the signature check agrees with twilio-node 6.2.0 on the same bytes; no input, signed
 * or not, produces a 5xx; the keyword, address and status rules translate as documented.
 */
import { parse as parseQueryString } from 'node:querystring';
import fc from 'fast-check';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import type { TranslateContext, WebhookRequest } from '../../core/connector.ts';
import { SignatureError, ValidationError } from '../../core/errors.ts';
import { parseForm } from '../../core/ingest/body.ts';
import { fixtureRequest, loadFixtureCases, pipelineHarness } from '../../test/support/ingest.ts';
import {
  consentChangeOf,
  EMPTY_TWIML,
  INBOUND_TOPIC,
  OTHER_TOPIC,
  parseTwilioRequest,
  STATUS_TOPIC,
  smsAddress,
  toIncomingMessageEvents,
  toMessageStatusEvents,
} from './inbound.ts';
import connector from './index.ts';
import { IncomingMessage, StatusCallback } from './schema.ts';
import { expectedSignature, signedParameters, urlCandidates, verifyTwilioRequest } from './verify.ts';

const TOKEN = '9f2c1e7a4b6d8035e1c2a3b4d5e6f708';
const OTHER_TOKEN = '0000000000000000000000000000dead';
const BASE_URL = 'https://hooks.example.com';
const PATH = '/webhooks/twilio';
const NOW = new Date('2025-04-22T19:30:00.000Z');
const FORM = 'application/x-www-form-urlencoded';
const SID = 'SM1f0e2d3c4b5a69788796a5b4c3d2e1f0';

const INBOUND_STOP = new URLSearchParams([
  ['ToCountry', 'US'],
  ['SmsMessageSid', SID],
  ['NumMedia', '0'],
  ['SmsSid', SID],
  ['SmsStatus', 'received'],
  ['Body', 'STOP'],
  ['To', '+14155550199'],
  ['MessageSid', SID],
  ['AccountSid', 'AC0123456789abcdef0123456789abcdef'],
  ['From', '+14155550100'],
  ['ApiVersion', '2010-04-01'],
  ['OptOutType', 'STOP'],
]).toString();

const STATUS_UNDELIVERED = new URLSearchParams([
  ['SmsSid', SID],
  ['SmsStatus', 'undelivered'],
  ['MessageStatus', 'undelivered'],
  ['To', '+14155550100'],
  ['MessageSid', SID],
  ['AccountSid', 'AC0123456789abcdef0123456789abcdef'],
  ['From', '+14155550199'],
  ['ErrorCode', '30003'],
  ['ApiVersion', '2010-04-01'],
]).toString();

interface RequestOptions {
  readonly body: string | Buffer;
  readonly query?: string;
  readonly contentType?: string;
  /** The signature header; omitted when undefined. */
  readonly signature?: string;
  readonly headers?: Record<string, string>;
}

function webhookRequest(options: RequestOptions): WebhookRequest {
  const query = options.query ?? '';
  const headers: Record<string, string> = { 'content-type': options.contentType ?? FORM, ...options.headers };
  if (options.signature !== undefined) headers['x-twilio-signature'] = options.signature;
  return {
    method: 'POST',
    path: PATH,
    rawQueryString: query,
    headers,
    body: Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body, 'utf8'),
    publicUrl: `${BASE_URL}${PATH}${query ? `?${query}` : ''}`,
    receivedAt: NOW,
  };
}

/** Form parameters as an Express `urlencoded({ extended: false })` parser hands them to twilio-node. */
function sdkParams(body: string): Record<string, string | string[] | undefined> {
  return { ...parseQueryString(body) };
}

function urlOf(query: string, { port = false } = {}): string {
  return `${port ? 'https://hooks.example.com:443' : BASE_URL}${PATH}${query ? `?${query}` : ''}`;
}

/** A form request signed by twilio-node over `signedBody` (default: the body sent). */
function signedForm(
  body: string,
  options: { query?: string; token?: string; port?: boolean; signedBody?: string } = {},
) {
  const query = options.query ?? '';
  const signature = twilio.getExpectedTwilioSignature(
    options.token ?? TOKEN,
    urlOf(query, options),
    sdkParams(options.signedBody ?? body),
  );
  return webhookRequest({ body, query, signature });
}

/** A JSON request in the bodySHA256 scheme, hashed and signed by twilio-node. */
function signedJson(
  body: string,
  options: { token?: string; hashOf?: string; port?: boolean; extraQuery?: string } = {},
) {
  const query = `${options.extraQuery ? `${options.extraQuery}&` : ''}bodySHA256=${twilio.getExpectedBodyHash(options.hashOf ?? body)}`;
  const signature = twilio.getExpectedTwilioSignature(options.token ?? TOKEN, urlOf(query, options), {});
  return webhookRequest({ body, query, signature, contentType: 'application/json' });
}

function sdkAccepts(request: WebhookRequest, token = TOKEN): boolean {
  const header = request.headers['x-twilio-signature'] ?? '';
  if (new URLSearchParams(request.rawQueryString).has('bodySHA256')) {
    return twilio.validateRequestWithBody(token, header, request.publicUrl, request.body.toString('utf8'));
  }
  return twilio.validateRequest(token, header, request.publicUrl, sdkParams(request.body.toString('utf8')));
}

/** Our verdict: undefined when accepted, else the SignatureError code. */
function ourRejection(request: WebhookRequest, token = TOKEN): string | undefined {
  try {
    verifyTwilioRequest(request, { TWILIO_AUTH_TOKEN: token });
    return undefined;
  } catch (error) {
    if (error instanceof SignatureError) return error.code;
    throw error;
  }
}

function harness() {
  return pipelineHarness(connector, { secrets: { TWILIO_AUTH_TOKEN: TOKEN }, now: () => NOW });
}

function context(request: WebhookRequest, topicName: string): TranslateContext {
  return { connector: 'twilio', deliveryId: `${SID}:x`, topic: topicName, request };
}

const JSON_BODY = JSON.stringify({
  MessageSid: SID,
  From: '+14155550100',
  To: '+14155550199',
  Body: 'Can I change my delivery address?',
  SmsStatus: 'received',
  NumMedia: 0,
});

describe('Connector: twilio', () => {
  describe('signature, against twilio-node 6.2.0', () => {
    it.each([
      { name: 'an incoming message', request: () => signedForm(INBOUND_STOP) },
      { name: 'a status callback', request: () => signedForm(STATUS_UNDELIVERED) },
      {
        name: 'a URL with a query string',
        request: () => signedForm(INBOUND_STOP, { query: 'tenant=eu&campaign=spring' }),
      },
      { name: 'a signature over the URL with :443', request: () => signedForm(INBOUND_STOP, { port: true }) },
      {
        name: "a query with characters new URL() would encode (')",
        request: () => signedForm(STATUS_UNDELIVERED, { query: "name=o'brien" }),
      },
      {
        name: 'repeated parameter names (deduplicated, sorted)',
        request: () => signedForm('b=2&a=1&a=3&a=1&c='),
      },
      { name: 'a JSON body with bodySHA256', request: () => signedJson(JSON_BODY) },
      { name: 'a JSON body with bodySHA256 and :443', request: () => signedJson(JSON_BODY, { port: true }) },
      {
        name: 'a JSON body with other query parameters',
        request: () => signedJson(JSON_BODY, { extraQuery: 'tenant=eu' }),
      },
    ])('accepts $name, as the SDK does', ({ request }) => {
      const built = request();
      expect(sdkAccepts(built)).toBe(true);
      expect(ourRejection(built)).toBeUndefined();
    });

    it.each([
      {
        name: 'a tampered body',
        code: 'invalid_signature',
        request: () =>
          signedForm(INBOUND_STOP.replace('Body=STOP', 'Body=START'), { signedBody: INBOUND_STOP }),
      },
      {
        name: 'an added parameter',
        code: 'invalid_signature',
        request: () => signedForm(`${INBOUND_STOP}&Extra=1`, { signedBody: INBOUND_STOP }),
      },
      {
        name: 'the wrong auth token',
        code: 'invalid_signature',
        request: () => signedForm(INBOUND_STOP, { token: OTHER_TOKEN }),
      },
      {
        name: 'a signature for another query string',
        code: 'invalid_signature',
        request: () => {
          const signed = signedForm(INBOUND_STOP, { query: 'tenant=eu' });
          return webhookRequest({
            body: INBOUND_STOP,
            query: 'tenant=us',
            signature: signed.headers['x-twilio-signature'],
          });
        },
      },
      {
        name: 'a signature for another path',
        code: 'invalid_signature',
        request: () =>
          webhookRequest({
            body: INBOUND_STOP,
            signature: twilio.getExpectedTwilioSignature(
              TOKEN,
              `${BASE_URL}/webhooks/other`,
              sdkParams(INBOUND_STOP),
            ),
          }),
      },
      {
        name: 'a missing header',
        code: 'missing_signature',
        request: () => webhookRequest({ body: INBOUND_STOP }),
      },
      {
        name: 'an empty header',
        code: 'missing_signature',
        request: () => webhookRequest({ body: INBOUND_STOP, signature: ' ' }),
      },
      {
        name: 'a JSON body that does not match bodySHA256',
        code: 'invalid_signature',
        request: () => signedJson(JSON_BODY.replace('Can I', 'Please'), { hashOf: JSON_BODY }),
      },
      {
        name: 'a JSON body signed with the wrong auth token',
        code: 'invalid_signature',
        request: () => signedJson(JSON_BODY, { token: OTHER_TOKEN }),
      },
      {
        name: 'an upper-case bodySHA256 (twilio-node compares the hex exactly)',
        code: 'invalid_signature',
        request: () => {
          const query = `bodySHA256=${twilio.getExpectedBodyHash(JSON_BODY).toUpperCase()}`;
          const signature = twilio.getExpectedTwilioSignature(TOKEN, urlOf(query), {});
          return webhookRequest({ body: JSON_BODY, query, signature, contentType: 'application/json' });
        },
      },
    ])('rejects $name with $code, as the SDK does', ({ request, code }) => {
      const built = request();
      expect(sdkAccepts(built)).toBe(false);
      expect(ourRejection(built)).toBe(code);
    });

    it('computes the same signature string as getExpectedTwilioSignature', () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.tuple(
              fc.constantFrom('a', 'B', 'Body', 'body', 'To', '_', ''),
              fc.string({ unit: 'grapheme' }),
            ),
            {
              maxLength: 12,
            },
          ),
          fc.stringMatching(/^[a-z0-9=&'%~._-]{0,30}$/),
          (entries, query) => {
            const body = new URLSearchParams(entries).toString();
            const url = urlOf(query);
            expect(expectedSignature(TOKEN, url, signedParameters(parseForm(Buffer.from(body))))).toBe(
              twilio.getExpectedTwilioSignature(TOKEN, url, sdkParams(body)),
            );
          },
        ),
        { numRuns: 300 },
      );
    });

    it('tries the URL as received, with :443, and the normalised forms, like validateRequest', () => {
      expect(urlCandidates('https://hooks.example.com/webhooks/twilio')).toEqual([
        'https://hooks.example.com/webhooks/twilio',
        'https://hooks.example.com:443/webhooks/twilio',
      ]);
      expect(urlCandidates('http://hooks.example.com:8080/webhooks/twilio?a=1')).toEqual([
        'http://hooks.example.com/webhooks/twilio?a=1',
        'http://hooks.example.com:8080/webhooks/twilio?a=1',
      ]);
      expect(urlCandidates("https://hooks.example.com/webhooks/twilio?n=o'b")).toContain(
        'https://hooks.example.com/webhooks/twilio?n=o%27b',
      );
    });

    it('agrees with validateRequest on random forms, URLs, tokens and signatures', () => {
      const entry = fc.tuple(
        fc.constantFrom(
          'MessageSid',
          'Body',
          'To',
          'From',
          'MediaUrl0',
          'a',
          'A',
          '__proto__',
          'toString',
          '',
        ),
        fc.string({ unit: 'grapheme', maxLength: 20 }),
      );
      fc.assert(
        fc.property(
          fc.array(entry, { maxLength: 10 }),
          fc.stringMatching(/^[a-zA-Z0-9=&'%*!()~._-]{0,24}$/),
          fc.boolean(),
          fc.constantFrom(TOKEN, OTHER_TOKEN),
          fc.constantFrom('none', 'append-param', 'flip-signature', 'garbage-signature', 'drop-query'),
          (entries, query, port, signingToken, mutation) => {
            const body = new URLSearchParams(entries).toString();
            let request = signedForm(body, { query, port, token: signingToken });
            const signature = request.headers['x-twilio-signature'] ?? '';
            if (mutation === 'append-param')
              request = webhookRequest({ body: `${body}&z=1`, query, signature });
            if (mutation === 'flip-signature') {
              const flipped = `${signature.slice(0, 5)}${signature[5] === 'A' ? 'B' : 'A'}${signature.slice(6)}`;
              request = webhookRequest({ body, query, signature: flipped });
            }
            if (mutation === 'garbage-signature')
              request = webhookRequest({ body, query, signature: 'bm90IGEgc2lnbmF0dXJl' });
            if (mutation === 'drop-query' && query !== '') request = webhookRequest({ body, signature });
            expect(ourRejection(request) === undefined).toBe(sdkAccepts(request));
          },
        ),
        { numRuns: 400 },
      );
    });

    it('agrees with validateRequestWithBody on random JSON bodies and hashes', () => {
      fc.assert(
        fc.property(
          fc.json({ maxDepth: 2 }),
          fc.constantFrom(TOKEN, OTHER_TOKEN),
          fc.boolean(),
          fc.constantFrom('none', 'tamper-body', 'wrong-hash'),
          (body, token, port, mutation) => {
            const hashOf = mutation === 'wrong-hash' ? `${body} ` : body;
            const sent = mutation === 'tamper-body' ? `${body}\n` : body;
            const request = signedJson(sent, {
              token,
              port,
              hashOf: mutation === 'tamper-body' ? body : hashOf,
            });
            expect(ourRejection(request) === undefined).toBe(sdkAccepts(request));
          },
        ),
        { numRuns: 200 },
      );
    });
  });

  describe('pipeline robustness (fast-check)', () => {
    const okStatuses = [200, 400, 401, 413];

    it('random bytes and headers never produce a 5xx', async () => {
      const hub = harness();
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 2048 }),
          fc.option(fc.string({ maxLength: 40 })),
          fc.constantFrom(FORM, 'application/json', 'text/xml', '', `${FORM}; charset=utf-8`),
          fc.stringMatching(/^[a-zA-Z0-9=&%]{0,20}$/),
          async (bytes, signature, contentType, query) => {
            const response = await hub.send(
              webhookRequest({
                body: Buffer.from(bytes),
                query,
                contentType,
                signature: signature ?? undefined,
              }),
            );
            expect(okStatuses).toContain(response.statusCode);
          },
        ),
        { numRuns: 200 },
      );
    });

    it('correctly signed random forms are answered 200 with TwiML or 400, never 401 or 5xx', async () => {
      const hub = harness();
      const name = fc.constantFrom(
        'MessageSid',
        'MessageStatus',
        'SmsStatus',
        'Body',
        'From',
        'To',
        'OptOutType',
        'ErrorCode',
        '__proto__',
        'constructor',
        'x',
      );
      const value = fc.oneof(
        fc.string({ unit: 'grapheme', maxLength: 24 }),
        fc.constantFrom(
          'received',
          'delivered',
          'undelivered',
          'read',
          'queued',
          'STOP',
          'start',
          'HELP',
          '',
        ),
        fc.constantFrom('+14155550100', 'whatsapp:+14155550100', 'rcs:+14155550100', '12345', 'SM123'),
      );
      // Mostly message-shaped (a MessageSid, some of Twilio's fields) so that translation is reached,
      // plus arbitrary extra and repeated parameters.
      const message = fc.record(
        {
          MessageSid: fc.oneof(fc.constant(SID), fc.string({ maxLength: 8 })),
          MessageStatus: value,
          SmsStatus: value,
          Body: value,
          From: value,
          To: value,
          OptOutType: value,
          ErrorCode: value,
        },
        { requiredKeys: [] },
      );
      let published = 0;
      await fc.assert(
        fc.asyncProperty(
          message,
          fc.array(fc.tuple(name, value), { maxLength: 6 }),
          async (fields, extras) => {
            const before = hub.publisher.events.length;
            const entries = [...Object.entries(fields), ...extras];
            const response = await hub.send(signedForm(new URLSearchParams(entries).toString()));
            expect([200, 400]).toContain(response.statusCode);
            if (response.statusCode === 200) expect(response.body).toBe(EMPTY_TWIML);
            published += hub.publisher.events.length - before;
          },
        ),
        { numRuns: 300 },
      );
      // The property is not vacuous: some random requests made it through translation onto the bus.
      expect(published).toBeGreaterThan(0);
    });

    it('correctly signed mutations of real payloads are answered 200 or 400', async () => {
      const hub = harness();
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(INBOUND_STOP, STATUS_UNDELIVERED),
          fc.nat(),
          fc.constantFrom('drop', 'replace', 'duplicate', 'empty'),
          fc.string({ unit: 'binary', maxLength: 40 }),
          async (original, index, mutation, replacement) => {
            const entries = [...new URLSearchParams(original)];
            const at = index % entries.length;
            const [name = '', old = ''] = entries[at] ?? [];
            if (mutation === 'drop') entries.splice(at, 1);
            if (mutation === 'replace') entries[at] = [name, replacement];
            if (mutation === 'duplicate') entries.push([name, `${old}${replacement}`]);
            if (mutation === 'empty') entries[at] = [name, ''];
            const response = await hub.send(signedForm(new URLSearchParams(entries).toString()));
            expect([200, 400]).toContain(response.statusCode);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('correctly signed random JSON bodies (bodySHA256) are answered 200 or 400', async () => {
      const hub = harness();
      const payload = fc.oneof(
        fc.json({ maxDepth: 3 }),
        fc
          .record(
            {
              MessageSid: fc.oneof(fc.constant(SID), fc.string(), fc.integer()),
              MessageStatus: fc.constantFrom('sent', 'delivered', 'failed', 'queued', ''),
              Body: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
              From: fc.constantFrom('+14155550100', 'whatsapp:+1', 'x'),
              To: fc.oneof(fc.constant('+14155550199'), fc.array(fc.string())),
              OptOutType: fc.constantFrom('STOP', 'START', 'HELP', 'stop', 'OTHER'),
            },
            { requiredKeys: [] },
          )
          .map((value) => JSON.stringify(value)),
      );
      await fc.assert(
        fc.asyncProperty(payload, async (body) => {
          const response = await hub.send(signedJson(body));
          expect([200, 400]).toContain(response.statusCode);
        }),
        { numRuns: 300 },
      );
    });

    it('answers 413 above 64 KiB, signed or not', async () => {
      const body = `${INBOUND_STOP}&Pad=${'x'.repeat(64 * 1024)}`;
      const response = await harness().send(signedForm(body));
      expect(response.statusCode).toBe(413);
      expect(JSON.parse(response.body ?? '{}')).toMatchObject({ error: 'payload_too_large' });
    });

    it('publishes a redelivered message once (dedupe on MessageSid + status)', async () => {
      const hub = harness();
      const first = await hub.send(signedForm(STATUS_UNDELIVERED));
      const again = await hub.send(signedForm(STATUS_UNDELIVERED));
      expect([first.statusCode, again.statusCode]).toEqual([200, 200]);
      expect(hub.publisher.events.map((event) => [event.type, event.origin.deliveryId])).toEqual([
        ['message.failed', `${SID}:undelivered`],
      ]);
    });
  });

  describe('translation', () => {
    it.each([
      ['STOP', undefined, { status: 'unsubscribed', reason: 'STOP' }],
      ['  stopall\n', undefined, { status: 'unsubscribed', reason: 'STOPALL' }],
      ['Unsubscribe', undefined, { status: 'unsubscribed', reason: 'UNSUBSCRIBE' }],
      ['cancel', undefined, { status: 'unsubscribed', reason: 'CANCEL' }],
      ['End', undefined, { status: 'unsubscribed', reason: 'END' }],
      ['quit', undefined, { status: 'unsubscribed', reason: 'QUIT' }],
      ['REVOKE', undefined, { status: 'unsubscribed', reason: 'REVOKE' }],
      ['optout', undefined, { status: 'unsubscribed', reason: 'OPTOUT' }],
      ['start', undefined, { status: 'subscribed', reason: 'START' }],
      ['Yes', undefined, { status: 'subscribed', reason: 'YES' }],
      ['UNSTOP', undefined, { status: 'subscribed', reason: 'UNSTOP' }],
      ['HELP', undefined, undefined],
      ['info', undefined, undefined],
      ['Stop please', undefined, undefined],
      ['STOP!', undefined, undefined],
      ['opt out', undefined, undefined],
      ['', undefined, undefined],
      // U+017F (long s) and U+212A (Kelvin) upper/lower-case into ASCII keywords: not keywords.
      ['ſtop', undefined, undefined],
      ['revo\u212Ae', undefined, undefined],
      // OptOutType (Advanced Opt-Out) wins: custom keywords count, HELP never changes consent.
      ['ARRET', 'STOP', { status: 'unsubscribed', reason: 'ARRET' }],
      ['ARRÊT', 'STOP', { status: 'unsubscribed', reason: 'STOP' }],
      ['COMENZAR', 'START', { status: 'subscribed', reason: 'COMENZAR' }],
      ['STOP', 'HELP', undefined],
      ['ayuda', 'help', undefined],
      ['STOP', 'SOMETHINGNEW', { status: 'unsubscribed', reason: 'STOP' }],
    ])('body %j with OptOutType %j -> %j', (body, optOutType, expected) => {
      expect(consentChangeOf(body, optOutType)).toEqual(expected);
    });

    it.each([
      ['+14155550100', '+14155550100'],
      [' +14155550100 ', '+14155550100'],
      ['rcs:+14155550100', '+14155550100'],
      ['RCS:+14155550100', '+14155550100'],
      ['12345', '12345'],
      ['whatsapp:+14155550100', undefined],
      ['messenger:1234567890', undefined],
    ])('address %j is SMS address %j', (raw, expected) => {
      expect(smsAddress(raw)).toBe(expected);
    });

    it('identifies the sender by E.164 phone, and keeps a short code `to` as sent', () => {
      const request = webhookRequest({ body: '' });
      const message = IncomingMessage.parse({
        MessageSid: SID,
        From: '+44 20 7946 0958',
        To: '12345',
        Body: 'hello',
      });
      const [event] = toIncomingMessageEvents(message, context(request, INBOUND_TOPIC));
      expect(event).toMatchObject({
        type: 'message.received',
        occurredAt: NOW.toISOString(),
        subject: `twilio:${SID}`,
        identities: [{ type: 'phone', value: '+442079460958' }],
        data: { channel: 'sms', messageId: SID, to: '12345', body: 'hello' },
      });
    });

    it('publishes a message from an alphanumeric sender without identities rather than guessing one', () => {
      const request = webhookRequest({ body: '' });
      const message = IncomingMessage.parse({
        MessageSid: SID,
        From: 'ACMEBANK',
        To: '+14155550199',
        Body: 'x',
      });
      expect(toIncomingMessageEvents(message, context(request, INBOUND_TOPIC))[0]?.identities).toEqual([]);
    });

    it('treats a media-only MMS (no Body) as message.received with an empty body', () => {
      const request = webhookRequest({ body: '' });
      const message = IncomingMessage.parse({ MessageSid: SID, From: '+14155550100', To: '+14155550199' });
      expect(toIncomingMessageEvents(message, context(request, INBOUND_TOPIC))[0]?.data).toEqual({
        channel: 'sms',
        messageId: SID,
        to: '+14155550199',
        body: '',
      });
    });

    it.each([
      ['sent', 'message.sent', undefined],
      ['delivered', 'message.delivered', undefined],
      ['undelivered', 'message.failed', '30003'],
      ['failed', 'message.failed', '30003'],
      ['read', 'message.opened', undefined],
      ['queued', undefined, undefined],
      ['sending', undefined, undefined],
      ['accepted', undefined, undefined],
      ['scheduled', undefined, undefined],
      ['canceled', undefined, undefined],
      ['receiving', undefined, undefined],
      ['received', undefined, undefined],
      ['partially_delivered', undefined, undefined],
    ])('status %s -> %s (reason %s)', (status, type, reason) => {
      const request = webhookRequest({ body: '' });
      const callback = StatusCallback.parse({
        MessageSid: SID,
        MessageStatus: status,
        To: '+14155550100',
        ErrorCode: '30003',
      });
      const events = toMessageStatusEvents(callback, context(request, STATUS_TOPIC));
      expect(events.map((event) => event.type)).toEqual(type ? [type] : []);
      if (type) {
        expect(events[0]?.identities).toEqual([{ type: 'phone', value: '+14155550100' }]);
        expect(events[0]?.data).toEqual({
          channel: 'sms',
          messageId: SID,
          vendorStatus: status,
          ...(reason ? { reason } : {}),
        });
      }
    });

    it.each([
      ['MessageSid=SM1&MessageStatus=sent&SmsStatus=sent', STATUS_TOPIC, 'SM1:sent'],
      ['MessageSid=SM1&SmsStatus=received&Body=hi', INBOUND_TOPIC, 'SM1:received'],
      ['MessageSid=SM1&SmsStatus=received', INBOUND_TOPIC, 'SM1:received'],
      ['MessageSid=SM1&Body=', INBOUND_TOPIC, 'SM1:received'],
      ['MessageSid=SM1&SmsStatus=sending', OTHER_TOPIC, 'SM1:sending'],
      ['MessageSid=SM1', OTHER_TOPIC, 'SM1:unknown'],
    ])('routes %s to %s as delivery %s', (body, topicName, deliveryId) => {
      expect(parseTwilioRequest(webhookRequest({ body }))).toEqual([
        { deliveryId, topic: topicName, payload: Object.fromEntries(new URLSearchParams(body)) },
      ]);
    });

    it('keeps the first value of a repeated parameter', () => {
      const [delivery] = parseTwilioRequest(
        webhookRequest({ body: 'MessageSid=SM1&Body=first&Body=second' }),
      );
      expect(delivery?.payload).toMatchObject({ Body: 'first' });
    });

    it('reads a JSON body into the same string fields (scalars stringified, nested values dropped)', () => {
      const body = JSON.stringify({
        MessageSid: 'SM1',
        Body: 'hi',
        NumMedia: 0,
        Flag: true,
        Media: ['x'],
        __proto__x: 1,
      });
      const [delivery] = parseTwilioRequest(webhookRequest({ body, contentType: 'application/json' }));
      expect(delivery?.payload).toEqual({
        MessageSid: 'SM1',
        Body: 'hi',
        NumMedia: '0',
        Flag: 'true',
        __proto__x: '1',
      });
    });

    it.each([
      ['no MessageSid', 'From=%2B14155550100&Body=hi', FORM, 'missing_message_sid'],
      ['a blank MessageSid', 'MessageSid=+&Body=hi', FORM, 'missing_message_sid'],
      ['a JSON array', '[]', 'application/json', 'malformed_body'],
      ['invalid JSON', '{"MessageSid":', 'application/json', 'malformed_body'],
    ])('rejects %s with a 400', (_name, body, contentType, code) => {
      expect(() => parseTwilioRequest(webhookRequest({ body, contentType }))).toThrow(ValidationError);
      try {
        parseTwilioRequest(webhookRequest({ body, contentType }));
      } catch (error) {
        expect(error).toMatchObject({ status: 400, code });
      }
    });

    it('answers exactly what MessagingResponse prints for an empty response, as text/xml', async () => {
      expect(EMPTY_TWIML).toBe(new twilio.twiml.MessagingResponse().toString());
      const response = await harness().send(signedForm(STATUS_UNDELIVERED));
      expect(response).toEqual({
        statusCode: 200,
        headers: { 'content-type': 'text/xml' },
        body: EMPTY_TWIML,
      });
    });

    it.each(loadFixtureCases().filter((fixtureCase) => fixtureCase.connector === 'twilio'))(
      'fixture $file: the SDK agrees with the expected signature verdict',
      ({ fixture }) => {
        const request = fixtureRequest(fixture);
        expect(sdkAccepts(request, fixture.secrets.TWILIO_AUTH_TOKEN)).toBe(fixture.expect.status !== 401);
        expect(ourRejection(request, fixture.secrets.TWILIO_AUTH_TOKEN)).toBe(
          fixture.expect.status === 401 ? fixture.expect.error : undefined,
        );
      },
    );
  });
});
