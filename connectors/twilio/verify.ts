/**
 * Twilio request validation (`X-Twilio-Signature`), agreeing with twilio-node 6.2.0
 * (`lib/webhooks/webhooks.js`: `validateRequest`, `validateRequestWithBody`).
 *
 * - Form requests: base64 HMAC-SHA1, keyed with the auth token, over the full URL (query string
 *   included) followed by every POST parameter as `name + value`, names sorted; a repeated name
 *   contributes each of its distinct values, sorted.
 * - JSON requests: Twilio adds `bodySHA256` (hex SHA-256 of the body) to the URL's query string and
 *   signs the URL alone; the body must then hash to that value.
 *
 * Twilio signs the URL it was configured with, which may or may not spell out the default port, so
 * the same candidate URLs as twilio-node are tried (without and with the port, then the WHATWG-normalised
 * form and its legacy `querystring` re-encoding). Nothing is timestamped: there is no replay window,
 * and redeliveries are caught by the per-delivery dedupe.
 */
import { createHash } from 'node:crypto';
import { parse as parseQueryString, stringify as stringifyQueryString } from 'node:querystring';
import type { SecretValues, WebhookRequest } from '../../core/connector.ts';
import { SignatureError } from '../../core/errors.ts';
import { parseForm } from '../../core/ingest/body.ts';
import { hmac, requireHeader, safeEqual } from '../../core/ingest/verify.ts';

/** The header Twilio puts its signature in. */
export const SIGNATURE_HEADER = 'X-Twilio-Signature';

/** The query parameter that switches Twilio's scheme to "URL only, plus a body hash" (JSON bodies). */
export const BODY_HASH_PARAMETER = 'bodySHA256';

/**
 * The string Twilio appends to the URL for form parameters: names sorted by UTF-16 code units (as
 * `Array.prototype.sort` does), each value as `name + value`; a repeated name adds its distinct values,
 * sorted, exactly as twilio-node's `toFormUrlEncodedParam` does for arrays.
 *
 * @example signedParameters(new Map([['To', ['+1415']], ['Body', ['hi']]])) // 'BodyhiTo+1415'
 */
export function signedParameters(params: ReadonlyMap<string, readonly string[]>): string {
  let data = '';
  for (const name of [...params.keys()].sort()) {
    const values = [...new Set(params.get(name) ?? [])].sort();
    for (const value of values) data += name + value;
  }
  return data;
}

/**
 * The signature Twilio sends for `url` and the already-concatenated parameter string.
 *
 * @example expectedSignature('token', 'https://hooks.example.com/webhooks/twilio', 'Bodyhi')
 */
export function expectedSignature(authToken: string, url: string, parameters: string): string {
  return hmac('sha1', authToken, [Buffer.from(url + parameters, 'utf8')], 'base64');
}

interface UrlParts {
  readonly scheme: string;
  readonly userInfo: string;
  readonly host: string;
  readonly port: string;
  readonly rest: string;
}

/** Splits a URL without normalising it, so the path and query keep the exact characters Twilio signed. */
function splitUrl(url: string): UrlParts | undefined {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (!match) return undefined;
  const [prefix, scheme = '', authority = ''] = match;
  const userInfoEnd = authority.lastIndexOf('@');
  const hostAndPort = authority.slice(userInfoEnd + 1);
  // A colon only starts the port after the closing bracket of an IPv6 literal.
  const portStart = hostAndPort.indexOf(':', hostAndPort.lastIndexOf(']') + 1);
  return {
    scheme,
    userInfo: authority.slice(0, userInfoEnd + 1),
    host: portStart === -1 ? hostAndPort : hostAndPort.slice(0, portStart),
    port: portStart === -1 ? '' : hostAndPort.slice(portStart),
    rest: url.slice(prefix.length),
  };
}

function withDefaultPort(url: string): string {
  const parts = splitUrl(url);
  if (!parts || parts.port) return url;
  const port = parts.scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  return parts.scheme + parts.userInfo + parts.host + port + parts.rest;
}

function withoutPort(url: string): string {
  const parts = splitUrl(url);
  return parts ? parts.scheme + parts.userInfo + parts.host + parts.rest : url;
}

/** The query re-encoded the way Node's legacy `querystring` does (for back ends that signed `%27` for `'`). */
function withLegacyQueryString(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart === -1 || queryStart === url.length - 1) return url;
  return `${url.slice(0, queryStart)}?${stringifyQueryString(parseQueryString(url.slice(queryStart + 1)))}`;
}

/**
 * The URLs a valid signature may have been computed over, in twilio-node's order: the URL as
 * received without and with the default port, then (only if those fail there) the WHATWG-normalised
 * URL without and with the port, each also with a legacy-encoded query string.
 *
 * @example urlCandidates('https://hooks.example.com/webhooks/twilio')
 * // ['https://hooks.example.com/webhooks/twilio', 'https://hooks.example.com:443/webhooks/twilio']
 */
export function urlCandidates(url: string): string[] {
  const candidates = [withoutPort(url), withDefaultPort(url)];
  let normalized: string | undefined;
  try {
    normalized = new URL(url).toString();
  } catch {
    // twilio-node throws here; an unparsable URL simply has no normalised candidates.
  }
  if (normalized !== undefined) {
    const bare = withoutPort(normalized);
    const ported = withDefaultPort(normalized);
    candidates.push(bare, ported, withLegacyQueryString(bare), withLegacyQueryString(ported));
  }
  return [...new Set(candidates)];
}

/** True when the request uses the JSON scheme (a `bodySHA256` query parameter). */
export function usesBodyHash(request: WebhookRequest): boolean {
  return new URLSearchParams(request.rawQueryString).has(BODY_HASH_PARAMETER);
}

/**
 * Verifies `X-Twilio-Signature` over `request.publicUrl` and the raw body.
 * Throws `SignatureError` (`missing_signature` or `invalid_signature`).
 *
 * @example verifyTwilioRequest(request, { TWILIO_AUTH_TOKEN: '…' })
 */
export function verifyTwilioRequest(
  request: WebhookRequest,
  secrets: SecretValues<'TWILIO_AUTH_TOKEN'>,
): void {
  const signature = requireHeader(request.headers, SIGNATURE_HEADER);
  const authToken = secrets.TWILIO_AUTH_TOKEN;
  const bodyHashMode = usesBodyHash(request);
  // In the JSON scheme the body is covered by the hash in the URL, not by parameters.
  const parameters = bodyHashMode ? '' : signedParameters(parseForm(request.body));
  const signed = urlCandidates(request.publicUrl).some((url) =>
    safeEqual(expectedSignature(authToken, url, parameters), signature),
  );
  if (!signed) {
    throw new SignatureError(
      'invalid_signature',
      `the ${SIGNATURE_HEADER} header does not match the URL and body`,
    );
  }
  if (bodyHashMode) {
    const claimed = new URLSearchParams(request.rawQueryString).get(BODY_HASH_PARAMETER) ?? '';
    const actual = createHash('sha256').update(request.body).digest('hex');
    if (!safeEqual(actual, claimed)) {
      throw new SignatureError(
        'invalid_signature',
        `the body does not match the ${BODY_HASH_PARAMETER} query parameter`,
      );
    }
  }
}
