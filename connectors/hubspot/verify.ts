/**
 * HubSpot request signatures, computed over the raw body bytes and (v2, v3) the public URL.
 *
 * - v3 (`X-HubSpot-Signature-v3` + `X-HubSpot-Request-Timestamp`): base64 HMAC-SHA256, keyed with the
 *   app's client secret, of `method + URI + body + timestamp`. The only scheme with replay protection.
 * - v1 (`X-HubSpot-Signature`, `X-HubSpot-Signature-Version: v1`, what the webhooks API sends): hex
 *   SHA-256 (a plain hash, not an HMAC) of `clientSecret + body`.
 * - v2 (same headers, version `v2`, workflow webhook actions and CRM cards): hex SHA-256 of
 *   `clientSecret + method + URI + body`, the URI exactly as requested.
 *
 * The formulas agree with `Signature.getSignature` of `@hubspot/api-client` (the test oracle), which
 * signs whatever URL it is given; the percent-decoding HubSpot's docs ask for (v3 only) is ours to do.
 */
import { createHash } from 'node:crypto';
import type { SecretValues, WebhookRequest } from '../../core/connector.ts';
import { SignatureError } from '../../core/errors.ts';
import { hmac, safeEqual } from '../../core/ingest/verify.ts';

/** The secret this connector declares: the HubSpot app's client secret. */
export type HubSpotSecret = 'HUBSPOT_CLIENT_SECRET';

/** HubSpot's replay window for v3 signatures (its docs and the SDK's `MAX_ALLOWED_TIMESTAMP`). */
export const MAX_AGE_MS = 5 * 60 * 1000;

/**
 * How far in the future a v3 timestamp may be. HubSpot's docs only bound the age; we also refuse
 * timestamps from the future (a replay window must not be extendable by pre-dating), allowing one
 * minute of clock skew between HubSpot's clock and ours. The SDK has no such bound.
 */
export const MAX_CLOCK_SKEW_MS = 60 * 1000;

const HEADER_V3 = 'x-hubspot-signature-v3';
const HEADER_TIMESTAMP = 'x-hubspot-request-timestamp';
const HEADER_LEGACY = 'x-hubspot-signature';
const HEADER_VERSION = 'x-hubspot-signature-version';

/**
 * The percent-encoded characters HubSpot's v3 instructions say to decode in the request URI before
 * signing (developers.hubspot.com, "Validating requests", v3 table). Nothing else is decoded: `%20`,
 * `%25`, `+` stay as they are. Hex digits are case-insensitive in percent-encoding (RFC 3986 §2.1).
 */
const V3_DECODED: Readonly<Record<string, string>> = {
  '3A': ':',
  '2F': '/',
  '3F': '?',
  '40': '@',
  '21': '!',
  '24': '$',
  '27': "'",
  '28': '(',
  '29': ')',
  '2A': '*',
  '2C': ',',
  '3B': ';',
};

/**
 * The URI with HubSpot's v3 list of percent-encodings decoded, in one pass (so `%253A` stays `%253A`).
 *
 * @example
 * decodeV3Uri('https://h.example/webhooks/hubspot?next=https%3A%2F%2Fx.example') // 'https://h.example/webhooks/hubspot?next=https://x.example'
 */
export function decodeV3Uri(uri: string): string {
  return uri.replace(
    /%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi,
    (match, hex: string) => V3_DECODED[hex.toUpperCase()] ?? match,
  );
}

/**
 * The URIs a v3 signature may cover: the decoded form HubSpot's docs describe first, then the URI as
 * received. Which one HubSpot really signs when the URL holds such encodings is not confirmed by any
 * primary source (the SDK decodes nothing), so either is accepted; both need the client secret, and
 * they are identical for URLs without those encodings.
 */
export function v3SignedUris(publicUrl: string): string[] {
  const decoded = decodeV3Uri(publicUrl);
  return decoded === publicUrl ? [publicUrl] : [decoded, publicUrl];
}

/** The v3 signature: base64 HMAC-SHA256 of `method + uri + body + timestamp` keyed with the client secret. */
export function v3Signature(
  clientSecret: string,
  method: string,
  uri: string,
  body: Buffer,
  timestamp: string,
): string {
  return hmac('sha256', clientSecret, [method, uri, body, timestamp], 'base64');
}

/** The v1/v2 signature: hex SHA-256 of `secret + body` (v1) or `secret + method + uri + body` (v2). */
export function legacySignature(
  clientSecret: string,
  version: 'v1' | 'v2',
  method: string,
  uri: string,
  body: Buffer,
): string {
  const hash = createHash('sha256').update(clientSecret);
  if (version === 'v2') hash.update(method).update(uri);
  return hash.update(body).digest('hex');
}

function present(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/**
 * Verifies a HubSpot webhook request. v3 is used whenever its header is present (HubSpot sends v1 or
 * v2 beside it for backwards compatibility; those carry no timestamp, so they are never a fallback
 * for a failed v3 check). Throws {@link SignatureError} when missing, wrong or stale.
 */
export function verifyHubSpotSignature(
  request: WebhookRequest,
  secrets: SecretValues<HubSpotSecret>,
  now: Date,
): void {
  const secret = secrets.HUBSPOT_CLIENT_SECRET;
  const v3 = present(request.headers[HEADER_V3]);
  if (v3 !== undefined) {
    verifyV3(request, secret, v3, now);
    return;
  }
  const legacy = present(request.headers[HEADER_LEGACY]);
  if (legacy === undefined) {
    throw new SignatureError(
      'missing_signature',
      'neither X-HubSpot-Signature-v3 nor X-HubSpot-Signature is present',
    );
  }
  // The SDK defaults to v1 when no version is given; HubSpot always sends the header.
  const version = (present(request.headers[HEADER_VERSION]) ?? 'v1').toLowerCase();
  if (version !== 'v1' && version !== 'v2') {
    throw new SignatureError(
      'invalid_signature',
      'unsupported X-HubSpot-Signature-Version; expected v1 or v2',
    );
  }
  const expected = legacySignature(secret, version, request.method, request.publicUrl, request.body);
  if (!safeEqual(expected, legacy)) {
    throw new SignatureError('invalid_signature', `X-HubSpot-Signature (${version}) does not match`);
  }
}

function verifyV3(request: WebhookRequest, secret: string, signature: string, now: Date): void {
  const timestamp = present(request.headers[HEADER_TIMESTAMP]);
  if (timestamp === undefined) {
    throw new SignatureError('missing_timestamp', 'X-HubSpot-Request-Timestamp is missing');
  }
  if (!/^\d{1,16}$/.test(timestamp)) {
    throw new SignatureError('missing_timestamp', 'X-HubSpot-Request-Timestamp is not a millisecond epoch');
  }
  const age = now.getTime() - Number(timestamp);
  if (age > MAX_AGE_MS) {
    throw new SignatureError('stale_timestamp', `request timestamp is older than ${MAX_AGE_MS / 1000} s`);
  }
  if (-age > MAX_CLOCK_SKEW_MS) {
    throw new SignatureError(
      'stale_timestamp',
      `request timestamp is more than ${MAX_CLOCK_SKEW_MS / 1000} s in the future`,
    );
  }
  // Every candidate is compared (no early exit) so timing does not tell which URI form was tried.
  const matches = v3SignedUris(request.publicUrl).map((uri) =>
    safeEqual(v3Signature(secret, request.method, uri, request.body, timestamp), signature),
  );
  if (!matches.includes(true)) {
    throw new SignatureError('invalid_signature', 'X-HubSpot-Signature-v3 does not match');
  }
}
