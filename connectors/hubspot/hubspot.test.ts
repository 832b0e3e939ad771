import { createHmac } from 'node:crypto';
import { Signature } from '@hubspot/api-client';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WebhookRequest } from '../../core/connector.ts';
import { SignatureError } from '../../core/errors.ts';
import { quoteUnsafeIntegers } from '../../core/ingest/body.ts';
import { pipelineHarness } from '../../test/support/ingest.ts';
import {
  consentOfProperty,
  parseHubSpotBatch,
  toCustomerChanged,
  toCustomersMerged,
  traitsOfProperty,
} from './inbound.ts';
import hubspot from './index.ts';
import { ContactMerge, ContactPropertyChange } from './schema.ts';
import {
  decodeV3Uri,
  MAX_AGE_MS,
  MAX_CLOCK_SKEW_MS,
  v3SignedUris,
  verifyHubSpotSignature,
} from './verify.ts';

/** The SDK's own test secret and bodies (HubSpot/hubspot-api-nodejs `test/unit/signature.spec.ts`). */
const SDK_SECRET = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy';
const SDK_V1_BODY =
  '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]';
const SDK_V2_BODY = '{"example_field":"example_value"}';
const SDK_URL = 'https://www.example.com/webhook_uri';

const NOW = new Date('2019-07-26T04:00:04.000Z');
const URL_BASE = 'https://hooks.example.com/webhooks/hubspot';
const SECRETS = { HUBSPOT_CLIENT_SECRET: SDK_SECRET };

interface RequestParts {
  readonly method?: string;
  readonly url?: string;
  readonly body?: string | Buffer;
  readonly headers?: Record<string, string | undefined>;
  readonly contentType?: string;
}

function requestOf(parts: RequestParts): WebhookRequest {
  const url = new URL(parts.url ?? URL_BASE);
  const headers: Record<string, string | undefined> = {
    'content-type': parts.contentType ?? 'application/json',
  };
  for (const [name, value] of Object.entries(parts.headers ?? {})) headers[name.toLowerCase()] = value;
  return {
    method: parts.method ?? 'POST',
    path: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    body: Buffer.isBuffer(parts.body) ? parts.body : Buffer.from(parts.body ?? '', 'utf8'),
    publicUrl: parts.url ?? URL_BASE,
    receivedAt: NOW,
  };
}

/** 'ok' or the SignatureError code our verifier answers with. */
function outcome(request: WebhookRequest, secret = SDK_SECRET): string {
  try {
    verifyHubSpotSignature(request, { HUBSPOT_CLIENT_SECRET: secret }, NOW);
    return 'ok';
  } catch (error) {
    if (error instanceof SignatureError) return error.code;
    throw error;
  }
}

/** The SDK's verdict; its v3 check throws on a stale or missing timestamp instead of returning false. */
function sdkVerdict(options: Parameters<typeof Signature.isValid>[0]): 'accepts' | 'rejects' | 'throws' {
  try {
    return Signature.isValid(options) ? 'accepts' : 'rejects';
  } catch {
    return 'throws';
  }
}

/** HubSpot's documented v3 decode table, applied independently of `verify.ts` (hex case-insensitive). */
function docsDecode(uri: string): string {
  const table: Array<[string, string]> = [
    ['%3A', ':'],
    ['%2F', '/'],
    ['%3F', '?'],
    ['%40', '@'],
    ['%21', '!'],
    ['%24', '$'],
    ['%27', "'"],
    ['%28', '('],
    ['%29', ')'],
    ['%2A', '*'],
    ['%2C', ','],
    ['%3B', ';'],
  ];
  return table.reduce((out, [encoded, decoded]) => out.replace(new RegExp(encoded, 'gi'), decoded), uri);
}

function v3Headers(signature: string, timestamp: string | undefined): Record<string, string | undefined> {
  return { 'X-HubSpot-Signature-v3': signature, 'X-HubSpot-Request-Timestamp': timestamp };
}

function sdkV3(secret: string, method: string, url: string, body: string, timestamp: number): string {
  return Signature.getSignature(method, 'v3', {
    signature: '',
    clientSecret: secret,
    requestBody: body,
    url,
    timestamp,
  });
}

function sdkLegacy(secret: string, version: 'v1' | 'v2', method: string, url: string, body: string): string {
  return Signature.getSignature(method, version, {
    signature: '',
    clientSecret: secret,
    requestBody: body,
    url,
  });
}

/**
 * A correctly v3-signed request, as HubSpot would send it. The SDK signs strings only, so arbitrary
 * byte bodies (fuzzing) are signed here with node:crypto over the same `method + URI + body + timestamp`.
 */
function signedV3(body: string | Buffer, options: { url?: string; timestamp?: number } = {}): WebhookRequest {
  const url = options.url ?? URL_BASE;
  const timestamp = options.timestamp ?? NOW.getTime() - 1000;
  const raw = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const signature = createHmac('sha256', SDK_SECRET)
    .update(`POST${docsDecode(url)}`)
    .update(raw)
    .update(String(timestamp))
    .digest('base64');
  return requestOf({ url, body: raw, headers: v3Headers(signature, String(timestamp)) });
}

describe('Connector: hubspot', () => {
  describe('signature, against @hubspot/api-client Signature', () => {
    beforeEach(() => {
      // The SDK's v3 check reads Date.now(); pin it to the test clock.
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(NOW);
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it.each([
      {
        name: 'v1 test vector',
        version: 'v1' as const,
        method: 'POST',
        body: SDK_V1_BODY,
        signature: '232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de',
      },
      {
        name: 'v2 GET test vector',
        version: 'v2' as const,
        method: 'GET',
        body: '',
        signature: 'eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e',
      },
      {
        name: 'v2 POST test vector',
        version: 'v2' as const,
        method: 'POST',
        body: SDK_V2_BODY,
        signature: '9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900',
      },
    ])(
      'accepts the SDK $name, and both reject it under another secret',
      ({ version, method, body, signature }) => {
        const headers = { 'X-HubSpot-Signature': signature, 'X-HubSpot-Signature-Version': version };
        const request = requestOf({ method, url: SDK_URL, body, headers });
        const sdk = { signature, requestBody: body, url: SDK_URL, method, signatureVersion: version };
        expect(sdkVerdict({ ...sdk, clientSecret: SDK_SECRET })).toBe('accepts');
        expect(outcome(request)).toBe('ok');
        expect(sdkVerdict({ ...sdk, clientSecret: 'other-secret' })).toBe('rejects');
        expect(outcome(request, 'other-secret')).toBe('invalid_signature');
      },
    );

    it('accepts the SDK v3 test case (a signature the SDK computes and validates)', () => {
      const timestamp = NOW.getTime();
      const signature = sdkV3(SDK_SECRET, 'POST', SDK_URL, SDK_V2_BODY, timestamp);
      const options = {
        signature,
        clientSecret: SDK_SECRET,
        requestBody: SDK_V2_BODY,
        url: SDK_URL,
        method: 'POST',
        signatureVersion: 'v3',
        timestamp,
      };
      expect(sdkVerdict(options)).toBe('accepts');
      expect(
        outcome(
          requestOf({ url: SDK_URL, body: SDK_V2_BODY, headers: v3Headers(signature, String(timestamp)) }),
        ),
      ).toBe('ok');
    });

    const v3Url = `${URL_BASE}?return=https%3A%2F%2Fapp.example%2Fa%3Fb%3D1&who=%40me&note=a%20b`;
    const v3Ts = NOW.getTime() - 2000;
    const v3Body = SDK_V1_BODY;
    const v3Sig = sdkV3(SDK_SECRET, 'POST', docsDecode(v3Url), v3Body, v3Ts);
    const v1Sig = sdkLegacy(SDK_SECRET, 'v1', 'POST', v3Url, v3Body);

    it.each([
      {
        name: 'v3 with a tampered body',
        request: requestOf({
          url: v3Url,
          body: v3Body.replace('123', '124'),
          headers: v3Headers(v3Sig, String(v3Ts)),
        }),
        code: 'invalid_signature',
      },
      {
        name: 'v3 signed with another secret',
        request: requestOf({
          url: v3Url,
          body: v3Body,
          headers: v3Headers(sdkV3('other', 'POST', docsDecode(v3Url), v3Body, v3Ts), String(v3Ts)),
        }),
        code: 'invalid_signature',
      },
      {
        name: 'v3 for another method',
        request: requestOf({
          method: 'PUT',
          url: v3Url,
          body: v3Body,
          headers: v3Headers(v3Sig, String(v3Ts)),
        }),
        code: 'invalid_signature',
      },
      {
        name: 'v3 for another URL',
        request: requestOf({ url: `${URL_BASE}?x=1`, body: v3Body, headers: v3Headers(v3Sig, String(v3Ts)) }),
        code: 'invalid_signature',
      },
      {
        name: 'v3 with the timestamp header changed',
        request: requestOf({ url: v3Url, body: v3Body, headers: v3Headers(v3Sig, String(v3Ts + 1)) }),
        code: 'invalid_signature',
      },
      {
        name: 'v3 correctly signed but 5 min + 1 ms old',
        request: requestOf({
          url: v3Url,
          body: v3Body,
          headers: v3Headers(
            sdkV3(SDK_SECRET, 'POST', docsDecode(v3Url), v3Body, NOW.getTime() - MAX_AGE_MS - 1),
            String(NOW.getTime() - MAX_AGE_MS - 1),
          ),
        }),
        code: 'stale_timestamp',
      },
      {
        name: 'v3 correctly signed but 60 s + 1 ms in the future',
        request: requestOf({
          url: v3Url,
          body: v3Body,
          headers: v3Headers(
            sdkV3(SDK_SECRET, 'POST', docsDecode(v3Url), v3Body, NOW.getTime() + MAX_CLOCK_SKEW_MS + 1),
            String(NOW.getTime() + MAX_CLOCK_SKEW_MS + 1),
          ),
        }),
        code: 'stale_timestamp',
      },
      {
        name: 'v3 without a timestamp',
        request: requestOf({ url: v3Url, body: v3Body, headers: v3Headers(v3Sig, undefined) }),
        code: 'missing_timestamp',
      },
      {
        name: 'v3 with an ISO timestamp',
        request: requestOf({ url: v3Url, body: v3Body, headers: v3Headers(v3Sig, '2019-07-26T04:00:02Z') }),
        code: 'missing_timestamp',
      },
      {
        name: 'v3 wrong, with a valid v1 beside it (no fallback)',
        request: requestOf({
          url: v3Url,
          body: v3Body,
          headers: {
            ...v3Headers('AAAA', String(v3Ts)),
            'X-HubSpot-Signature': v1Sig,
            'X-HubSpot-Signature-Version': 'v1',
          },
        }),
        code: 'invalid_signature',
      },
      {
        name: 'no signature header',
        request: requestOf({ url: v3Url, body: v3Body }),
        code: 'missing_signature',
      },
      {
        name: 'an empty v3 header',
        request: requestOf({ url: v3Url, body: v3Body, headers: v3Headers('  ', String(v3Ts)) }),
        code: 'missing_signature',
      },
      {
        name: 'v1 with a tampered body',
        request: requestOf({
          body: `${v3Body} `,
          headers: { 'X-HubSpot-Signature': v1Sig, 'X-HubSpot-Signature-Version': 'v1' },
        }),
        code: 'invalid_signature',
      },
      {
        name: 'v1 signed with another secret',
        request: requestOf({
          body: v3Body,
          headers: {
            'X-HubSpot-Signature': sdkLegacy('other', 'v1', 'POST', v3Url, v3Body),
            'X-HubSpot-Signature-Version': 'v1',
          },
        }),
        code: 'invalid_signature',
      },
      {
        name: 'a v1 signature declared as v2',
        request: requestOf({
          body: v3Body,
          headers: { 'X-HubSpot-Signature': v1Sig, 'X-HubSpot-Signature-Version': 'v2' },
        }),
        code: 'invalid_signature',
      },
      {
        name: 'an unsupported signature version',
        request: requestOf({
          body: v3Body,
          headers: { 'X-HubSpot-Signature': v1Sig, 'X-HubSpot-Signature-Version': 'v4' },
        }),
        code: 'invalid_signature',
      },
    ])('rejects $name with $code', ({ request, code }) => {
      expect(outcome(request)).toBe(code);
    });

    it('agrees with the SDK on the replay window edges, except that it also refuses the future', () => {
      const body = SDK_V1_BODY;
      const at = (offset: number) => {
        const timestamp = NOW.getTime() + offset;
        const signature = sdkV3(SDK_SECRET, 'POST', URL_BASE, body, timestamp);
        return {
          ours: outcome(requestOf({ body, headers: v3Headers(signature, String(timestamp)) })),
          sdk: sdkVerdict({
            signature,
            clientSecret: SDK_SECRET,
            requestBody: body,
            url: URL_BASE,
            signatureVersion: 'v3',
            timestamp,
          }),
        };
      };
      expect(at(-MAX_AGE_MS)).toEqual({ ours: 'ok', sdk: 'accepts' });
      expect(at(-MAX_AGE_MS - 1)).toEqual({ ours: 'stale_timestamp', sdk: 'throws' });
      expect(at(MAX_CLOCK_SKEW_MS)).toEqual({ ours: 'ok', sdk: 'accepts' });
      // The SDK has no future bound; ours is documented in the README.
      expect(at(MAX_CLOCK_SKEW_MS + 1)).toEqual({ ours: 'stale_timestamp', sdk: 'accepts' });
    });

    it('signs the URI with only the listed encodings decoded, and also accepts the URI as sent', () => {
      const url = `${URL_BASE}?a=%3A%2f%3F%40%21%24%27%28%29%2A%2C%3B&keep=%3D%26%20%25%253A+`;
      expect(decodeV3Uri(url)).toBe(`${URL_BASE}?a=:/?@!$'()*,;&keep=%3D%26%20%25%253A+`);
      expect(v3SignedUris(url)).toEqual([decodeV3Uri(url), url]);
      expect(v3SignedUris(URL_BASE)).toEqual([URL_BASE]);
      const timestamp = NOW.getTime();
      for (const signedUrl of [decodeV3Uri(url), url]) {
        const signature = sdkV3(SDK_SECRET, 'POST', signedUrl, SDK_V1_BODY, timestamp);
        expect(
          outcome(requestOf({ url, body: SDK_V1_BODY, headers: v3Headers(signature, String(timestamp)) })),
        ).toBe('ok');
      }
    });

    const urlArb = fc
      .array(
        fc.constantFrom(
          'a',
          '=',
          '&',
          '%3A',
          '%2F',
          '%3f',
          '%40',
          '%21',
          '%2c',
          '%3B',
          '%20',
          '%25',
          '%253A',
          '+',
          '9',
        ),
        { maxLength: 12 },
      )
      .map((parts) => (parts.length === 0 ? URL_BASE : `${URL_BASE}?${parts.join('')}`));
    const bodyArb = fc.string({ unit: 'grapheme', maxLength: 200 });

    it('property: v1/v2 verdicts equal the SDK isValid for genuine, forged and tampered signatures', () => {
      fc.assert(
        fc.property(
          fc.record({
            version: fc.constantFrom('v1' as const, 'v2' as const),
            method: fc.constantFrom('POST', 'GET', 'PUT'),
            url: urlArb,
            body: bodyArb,
            signer: fc.constantFrom(SDK_SECRET, 'another-secret'),
            signedVersion: fc.constantFrom('v1' as const, 'v2' as const),
            mutate: fc.option(fc.nat(), { nil: undefined }),
          }),
          ({ version, method, url, body, signer, signedVersion, mutate }) => {
            let signature = sdkLegacy(signer, signedVersion, method, url, body);
            if (mutate !== undefined) {
              const at = mutate % signature.length;
              signature = `${signature.slice(0, at)}${signature[at] === '0' ? '1' : '0'}${signature.slice(at + 1)}`;
            }
            const sdk = sdkVerdict({
              signature,
              clientSecret: SDK_SECRET,
              requestBody: body,
              url,
              method,
              signatureVersion: version,
            });
            const ours = outcome(
              requestOf({
                method,
                url,
                body,
                headers: { 'X-HubSpot-Signature': signature, 'X-HubSpot-Signature-Version': version },
              }),
            );
            expect(ours === 'ok').toBe(sdk === 'accepts');
            if (ours !== 'ok') expect(ours).toBe('invalid_signature');
          },
        ),
        { numRuns: 300 },
      );
    });

    it('property: v3 within the window is accepted exactly when the SDK accepts the decoded or the sent URI', () => {
      fc.assert(
        fc.property(
          fc.record({
            method: fc.constantFrom('POST', 'PUT'),
            url: urlArb,
            body: bodyArb,
            age: fc.integer({ min: -MAX_CLOCK_SKEW_MS, max: MAX_AGE_MS }),
            signer: fc.constantFrom(SDK_SECRET, SDK_SECRET, 'another-secret'),
            signedUri: fc.constantFrom('decoded', 'sent', 'other'),
            signedBody: fc.option(bodyArb, { nil: undefined }),
          }),
          ({ method, url, body, age, signer, signedUri, signedBody }) => {
            const timestamp = NOW.getTime() - age;
            const uri =
              signedUri === 'decoded' ? docsDecode(url) : signedUri === 'sent' ? url : `${URL_BASE}/other`;
            const signature = sdkV3(signer, method, uri, signedBody ?? body, timestamp);
            const sdkOptions = {
              signature,
              clientSecret: SDK_SECRET,
              requestBody: body,
              method,
              signatureVersion: 'v3',
              timestamp,
            };
            const sdk = [
              sdkVerdict({ ...sdkOptions, url: docsDecode(url) }),
              sdkVerdict({ ...sdkOptions, url }),
            ];
            const ours = outcome(
              requestOf({ method, url, body, headers: v3Headers(signature, String(timestamp)) }),
            );
            expect(ours === 'ok').toBe(sdk.includes('accepts'));
            if (ours !== 'ok') expect(ours).toBe('invalid_signature');
          },
        ),
        { numRuns: 300 },
      );
    });

    it('property: v3 older than 5 minutes is stale for us and makes the SDK throw', () => {
      fc.assert(
        fc.property(fc.integer({ min: MAX_AGE_MS + 1, max: 10 * 24 * 3600 * 1000 }), bodyArb, (age, body) => {
          const timestamp = NOW.getTime() - age;
          const signature = sdkV3(SDK_SECRET, 'POST', URL_BASE, body, timestamp);
          expect(outcome(requestOf({ body, headers: v3Headers(signature, String(timestamp)) }))).toBe(
            'stale_timestamp',
          );
          expect(
            sdkVerdict({
              signature,
              clientSecret: SDK_SECRET,
              requestBody: body,
              url: URL_BASE,
              signatureVersion: 'v3',
              timestamp,
            }),
          ).toBe('throws');
        }),
        { numRuns: 100 },
      );
    });
  });

  describe('robustness through the pipeline', () => {
    const harness = () => pipelineHarness(hubspot, { secrets: SECRETS, now: () => NOW });
    const clientOrOk = (status: number) =>
      (status >= 200 && status < 300) || [400, 401, 413].includes(status);

    const TOPICS = [
      'contact.creation',
      'contact.propertyChange',
      'contact.merge',
      'contact.deletion',
      'contact.privacyDeletion',
      'contact.restore',
      'company.creation',
      'contact.associationChange',
    ];
    const PROPERTIES = [
      'email',
      'phone',
      'mobilephone',
      'firstname',
      'city',
      'hs_language',
      'hs_email_optout',
      'hs_lead_status',
    ];
    const idArb = fc.oneof(
      { arbitrary: fc.nat(), weight: 9 },
      { arbitrary: fc.constant(12345678901234567890n), weight: 1 },
    );
    /** Events in HubSpot's real shape, with random values: every one of them must be translatable. */
    const wellFormedFields = {
      eventId: idArb,
      subscriptionId: fc.nat({ max: 99999 }),
      portalId: fc.constant(62515),
      occurredAt: fc.nat({ max: 2_000_000_000_000 }),
      subscriptionType: fc.constantFrom(...TOPICS),
      attemptNumber: fc.nat({ max: 9 }),
      objectId: idArb,
      propertyName: fc.constantFrom(...PROPERTIES),
      propertyValue: fc.oneof(
        fc.string({ maxLength: 30 }),
        fc.constantFrom(
          'A@B.CO',
          ' new@example.com',
          '(212) 555-4240',
          '+44 20 7946 0958',
          'true',
          'false',
          '',
        ),
        fc.constant(null),
      ),
      primaryObjectId: idArb,
      newObjectId: fc.option(idArb, { nil: undefined }),
      mergedObjectIds: fc.array(idArb, { maxLength: 3 }),
      changeSource: fc.constantFrom('CRM', 'CRM_UI', 'API', 'IMPORT'),
    };
    const wellFormedArb = fc.record(wellFormedFields, {
      requiredKeys: [
        'eventId',
        'subscriptionId',
        'occurredAt',
        'subscriptionType',
        'objectId',
        'propertyName',
      ],
    });
    const garbage = fc.oneof(
      fc.string({ maxLength: 4 }),
      fc.constantFrom(-1, 1.5, 9e15, null, true, '__proto__', 'constructor', ''),
      fc.object({ maxDepth: 1 }),
    );
    /** The same events with any field sometimes replaced by garbage or dropped. */
    const noisyArb = fc.record(
      Object.fromEntries(
        Object.entries(wellFormedFields).map(([key, arb]) => [
          key,
          fc.oneof({ arbitrary: arb as fc.Arbitrary<unknown>, weight: 6 }, { arbitrary: garbage, weight: 1 }),
        ]),
      ),
      { requiredKeys: [] },
    );
    // BigInt values are written as bare JSON integers (too large for a JS number) to exercise exact ids.
    const toJson = (value: unknown) =>
      JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `@@${v}@@` : v)).replace(
        /"@@(\d+)@@"/g,
        '$1',
      );

    it('property: random bodies and headers never yield a 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 300 }),
          fc.dictionary(
            fc.constantFrom(
              'x-hubspot-signature-v3',
              'x-hubspot-request-timestamp',
              'x-hubspot-signature',
              'x-hubspot-signature-version',
              'content-type',
            ),
            fc.oneof(
              fc.string({ maxLength: 50 }),
              fc.constantFrom('v1', 'v2', '1564113603000', 'application/json'),
            ),
          ),
          async (bytes, headers) => {
            const response = await harness().send(requestOf({ body: Buffer.from(bytes), headers }));
            expect(clientOrOk(response.statusCode), response.body).toBe(true);
            expect(response.statusCode).not.toBe(200);
          },
        ),
        { numRuns: 200 },
      );
    });

    it('property: correctly signed arbitrary JSON is answered 200 or 400, never 401 or 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(fc.jsonValue(), fc.array(fc.jsonValue(), { maxLength: 4 })),
          async (value) => {
            const response = await harness().send(signedV3(JSON.stringify(value) ?? 'null'));
            expect([200, 400], response.body).toContain(response.statusCode);
          },
        ),
        { numRuns: 200 },
      );
    });

    it('property: correctly signed well-formed batches are always 200, with at most one valid event per element', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(wellFormedArb, { maxLength: 6 }), async (events) => {
          const h = harness();
          const response = await h.send(signedV3(toJson(events)));
          expect(response.statusCode, response.body).toBe(200);
          expect(h.publisher.events.length).toBeLessThanOrEqual(events.length);
          for (const event of h.publisher.events) {
            expect(event.source).toBe('omnihub.hubspot');
            expect(event.subject).toMatch(/^hubspot:\d+$/);
            expect(event.identities).toContainEqual({
              type: 'external',
              system: 'hubspot',
              value: event.subject?.slice('hubspot:'.length),
            });
          }
        }),
        { numRuns: 300 },
      );
    });

    it('property: correctly signed batches with garbage fields are answered 200 or 400, and a 400 publishes nothing', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(noisyArb, { maxLength: 6 }), async (events) => {
          const h = harness();
          const response = await h.send(signedV3(toJson(events)));
          expect([200, 400], response.body).toContain(response.statusCode);
          if (response.statusCode === 400) expect(h.publisher.events).toEqual([]);
        }),
        { numRuns: 300 },
      );
    });

    it('property: correctly signed mutations of a real batch (cut, insert, replace) are answered 200 or 400', async () => {
      const original = Buffer.from(
        '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321},{"eventId":2,"subscriptionId":12346,"portalId":62515,"appId":54321,"occurredAt":1564113601000,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":123,"propertyName":"email","propertyValue":"new@example.com","changeSource":"CRM_UI"},{"eventId":3,"subscriptionId":12347,"portalId":62515,"occurredAt":1564113602000,"subscriptionType":"contact.merge","objectId":456,"primaryObjectId":456,"mergedObjectIds":[123],"newObjectId":456}]',
      );
      const mutation = fc.record({
        at: fc.nat(),
        cut: fc.nat({ max: 20 }),
        insert: fc.uint8Array({ maxLength: 8 }),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
          let body = original;
          for (const { at, cut, insert } of mutations) {
            const position = at % (body.length + 1);
            body = Buffer.concat([
              body.subarray(0, position),
              Buffer.from(insert),
              body.subarray(position + cut),
            ]);
          }
          const response = await harness().send(signedV3(body));
          expect([200, 400], response.body).toContain(response.statusCode);
        }),
        { numRuns: 300 },
      );
    });

    it('answers 413 above the 1 MiB default, before verifying', async () => {
      const response = await harness().send(signedV3(`[${' '.repeat(1024 * 1024)}]`));
      expect(response.statusCode).toBe(413);
    });

    it('answers 400 to a correctly signed body that is not JSON', async () => {
      const response = await harness().send(signedV3('eventId=1'));
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body ?? '{}')).toMatchObject({ error: 'malformed_body' });
    });
  });

  describe('translation', () => {
    it.each([
      ['email', ' New@Example.COM ', { email: 'new@example.com' }],
      ['email', 'not-an-email', undefined],
      ['phone', '(212) 555-4240', { phone: '+12125554240' }],
      ['mobilephone', '+44 20 7946 0958', { phone: '+442079460958' }],
      ['phone', '12', undefined],
      ['firstname', '  Ann ', { firstName: 'Ann' }],
      ['firstname', '   ', undefined],
      ['lastname', 'Norman', { lastName: 'Norman' }],
      ['company', 'Acme Inc.', { company: 'Acme Inc.' }],
      ['address', '1 Main St', { address: { line1: '1 Main St' } }],
      ['city', 'Ottawa', { address: { city: 'Ottawa' } }],
      ['state', 'ON', { address: { region: 'ON' } }],
      ['zip', 'K1P 1J1', { address: { postalCode: 'K1P 1J1' } }],
      ['country', 'Canada', { address: { country: 'Canada' } }],
      ['hs_language', 'fr-ca', { locale: 'fr-ca' }],
      ['hs_lead_status', 'OPEN', undefined],
      ['__proto__', 'x', undefined],
      ['constructor', 'x', undefined],
    ])('property %s = %j -> traits %j', (name, value, traits) => {
      expect(traitsOfProperty(name, value)).toEqual(traits);
    });

    it.each([
      ['true', { email: { status: 'unsubscribed', reason: 'hs_email_optout' } }],
      [' TRUE ', { email: { status: 'unsubscribed', reason: 'hs_email_optout' } }],
      ['false', undefined],
      ['', undefined],
      ['yes', undefined],
    ])('hs_email_optout = %j -> consent %j', (value, consent) => {
      expect(consentOfProperty('hs_email_optout', value)).toEqual(consent);
      expect(consentOfProperty('email', value)).toBeUndefined();
    });

    const change = (propertyName: string, propertyValue: unknown) =>
      ContactPropertyChange.parse({
        eventId: 2,
        subscriptionId: 12346,
        occurredAt: 1564113601000,
        subscriptionType: 'contact.propertyChange',
        objectId: 123,
        propertyName,
        propertyValue,
      });

    it('publishes a phone change with the phone as an identity beside the external id', () => {
      const [event] = toCustomerChanged(change('mobilephone', '212.555.4240'));
      expect(event).toMatchObject({
        type: 'customer.upserted',
        occurredAt: '2019-07-26T04:00:01.000Z',
        identities: [
          { type: 'phone', value: '+12125554240' },
          { type: 'external', system: 'hubspot', value: '123' },
        ],
        data: { system: 'hubspot', externalId: '123', traits: { phone: '+12125554240' } },
      });
    });

    it.each([
      ['a cleared (null) value', 'email', null],
      ['a missing value', 'email', undefined],
      ['an unmapped property', 'hs_lead_status', 'OPEN'],
      ['an opt-out set to false', 'hs_email_optout', 'false'],
    ])('publishes nothing for %s', (_case, name, value) => {
      expect(toCustomerChanged(change(name, value))).toEqual([]);
    });

    const merge = (fields: Record<string, unknown>) =>
      ContactMerge.parse({
        eventId: 3,
        subscriptionId: 12347,
        occurredAt: 1564113602000,
        subscriptionType: 'contact.merge',
        ...fields,
      });

    it.each([
      [{ objectId: 456, primaryObjectId: 456, mergedObjectIds: [123], newObjectId: 456 }, '456', ['123']],
      [
        { objectId: 456, primaryObjectId: 456, mergedObjectIds: [123, 124], newObjectId: 901 },
        '901',
        ['123', '124', '456'],
      ],
      [{ objectId: 456, primaryObjectId: 456, mergedObjectIds: [123, 456, 123] }, '456', ['123']],
      [{ objectId: 456, mergedObjectIds: [123] }, '456', ['123']],
      [
        { objectId: '12345678901234567890', mergedObjectIds: ['12345678901234567891'] },
        '12345678901234567890',
        ['12345678901234567891'],
      ],
    ])('merge %j -> survivor %s, merged %j', (fields, survivorId, mergedIds) => {
      const [event] = toCustomersMerged(merge(fields));
      expect(event?.data).toEqual({ system: 'hubspot', survivorId, mergedIds });
      expect(
        event?.identities.map((identity) => (identity.type === 'external' ? identity.value : '')),
      ).toEqual([survivorId, ...mergedIds]);
    });

    it('publishes no merge when nothing but the survivor is involved', () => {
      expect(toCustomersMerged(merge({ objectId: 456, primaryObjectId: 456, mergedObjectIds: [] }))).toEqual(
        [],
      );
    });
  });

  describe('batch parsing', () => {
    it.each([
      ['{"a":12345678901234567890}', { a: '12345678901234567890' }],
      [
        '[9007199254740993,-9007199254740993,9007199254740991]',
        ['9007199254740993', '-9007199254740993', 9007199254740991],
      ],
      [
        '{"s":"12345678901234567890","t":"a\\"12345678901234567890"}',
        { s: '12345678901234567890', t: 'a"12345678901234567890' },
      ],
    ])('keeps the digits of integers too large for a JS number: %s', (text, parsed) => {
      expect(JSON.parse(quoteUnsafeIntegers(text))).toEqual(parsed);
    });

    it.each([
      [
        '[1.2345678901234567e25,12345678901234567.5,-1E+30]',
        '[1.2345678901234567e25,12345678901234567.5,-1E+30]',
      ],
      ['{"n":9007199254740991}', '{"n":9007199254740991}'],
      ['{"n":9007199254740992, "s":"9007199254740992"}', '{"n":"9007199254740992", "s":"9007199254740992"}'],
    ])('quotes only bare integers beyond 2^53 - 1: %s', (text, quoted) => {
      expect(quoteUnsafeIntegers(text)).toBe(quoted);
    });

    it('property: on any JSON, only integers beyond 2^53 - 1 change (into their digit strings)', () => {
      const unsafeToDigits = (_key: string, value: unknown) =>
        typeof value === 'number' &&
        Number.isInteger(value) &&
        !Number.isSafeInteger(value) &&
        !/e/.test(String(value))
          ? String(value)
          : value;
      fc.assert(
        fc.property(fc.jsonValue(), fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n }), (value, big) => {
          const digits = big.toString();
          const text = `[${JSON.stringify(value)},${JSON.stringify(digits)},${digits}]`;
          expect(JSON.parse(quoteUnsafeIntegers(text))).toEqual([
            JSON.parse(JSON.stringify(value), unsafeToDigits),
            digits,
            digits,
          ]);
        }),
        { numRuns: 300 },
      );
    });

    it('keys each element by subscriptionId:eventId, exactly, even beyond 2^53', () => {
      const body =
        '[{"eventId":9007199254740993,"subscriptionId":12345,"subscriptionType":"contact.creation","objectId":1,"occurredAt":1},{"eventId":"7","subscriptionId":1,"subscriptionType":"contact.deletion"}]';
      const deliveries = parseHubSpotBatch(requestOf({ body }));
      expect(deliveries.map(({ deliveryId, topic }) => ({ deliveryId, topic }))).toEqual([
        { deliveryId: '12345:9007199254740993', topic: 'contact.creation' },
        { deliveryId: '1:7', topic: 'contact.deletion' },
      ]);
    });

    it.each([
      {
        name: 'only eventType (the documented example)',
        fields: { eventType: 'contact.creation' },
        topic: 'contact.creation',
      },
      {
        name: 'both, subscriptionType first',
        fields: { subscriptionType: 'contact.deletion', eventType: 'contact.creation' },
        topic: 'contact.deletion',
      },
    ])('reads the topic from subscriptionType, else eventType: $name', ({ fields, topic }) => {
      const body = JSON.stringify([{ eventId: 1, subscriptionId: 2, objectId: 3, occurredAt: 1, ...fields }]);
      expect(parseHubSpotBatch(requestOf({ body })).map((delivery) => delivery.topic)).toEqual([topic]);
    });

    it.each([
      ['{"eventId":1}', /JSON array of events, got an object/],
      ['null', /got null/],
    ])('rejects %s with a message saying what is wrong', (body, message) => {
      expect(() => parseHubSpotBatch(requestOf({ body }))).toThrow(message);
    });

    it.each([
      ['[1]', /element 0 is not a HubSpot event/, /^[0-9a-f]{16}#0$/],
      ['[{"eventId":1,"subscriptionId":2}]', /element 0 .*subscriptionType/, /^2:1$/],
      [
        '[{"eventId":1.5,"subscriptionId":2,"subscriptionType":"contact.creation"}]',
        /element 0 .*eventId/,
        /^[0-9a-f]{16}#0$/,
      ],
    ])('marks the element of %s unreadable, saying what is wrong', (body, message, deliveryId) => {
      const [delivery] = parseHubSpotBatch(requestOf({ body }));
      expect(delivery?.unreadable).toMatch(message);
      expect(delivery?.deliveryId).toMatch(deliveryId);
    });

    it('publishes the exact external id of an object id beyond 2^53', async () => {
      const h = pipelineHarness(hubspot, { secrets: SECRETS, now: () => NOW });
      const body =
        '[{"eventId":1,"subscriptionId":2,"occurredAt":1564113600000,"subscriptionType":"contact.deletion","objectId":12345678901234567890}]';
      const response = await h.send(signedV3(body));
      expect(response.statusCode).toBe(200);
      expect(h.publisher.events[0]?.data).toEqual({ system: 'hubspot', externalId: '12345678901234567890' });
    });
  });
});
