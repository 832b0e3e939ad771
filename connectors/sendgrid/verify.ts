/**
 * SendGrid signed Event Webhook: ECDSA (P-256, SHA-256) over the bytes of the timestamp header
 * followed by the raw body, checked against the account's public key.
 *
 * Why node:crypto and not the official `@sendgrid/eventwebhook`: the SDK runs pure-JavaScript ECDSA
 * (starkbank-ecdsa), about ten times slower than OpenSSL on a 500-event batch. The SDK is our test
 * oracle instead (`sendgrid.test.ts`). An ECDSA check has no secret to leak through timing, so there is
 * no `safeEqual` here: `crypto.verify` decides.
 */
import { createPublicKey, verify as ecdsaVerify, type KeyObject } from 'node:crypto';
import type { WebhookRequest } from '../../core/connector.ts';
import { RetryableError, SignatureError } from '../../core/errors.ts';
import { requireHeader } from '../../core/ingest/verify.ts';

/** Header carrying the base64 DER ECDSA signature (lower-cased, as the pipeline stores headers). */
export const SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature';
/** Header carrying the signing time in unix seconds; it is part of the signed bytes. */
export const TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp';

/** Env var (not a secret) that overrides the replay window, in seconds; read on every verification. */
export const MAX_AGE_ENV = 'SENDGRID_SIGNATURE_MAX_AGE_SECONDS';
/**
 * Default replay window: 48 h. SendGrid documents no window and retries a failed POST "for up to
 * 24 hours after the event occurs"; whether a retry is re-signed or keeps its first timestamp is
 * unconfirmed, so the window must cover a day of retries either way. Replays inside it are harmless:
 * the delivery ledger remembers every `sg_event_id` for 7 days, far longer than 48 h.
 */
export const DEFAULT_MAX_AGE_SECONDS = 48 * 3600;
/** Largest accepted window: beyond the ledger's 7-day memory a replay could publish twice. */
export const MAX_MAX_AGE_SECONDS = 7 * 24 * 3600;
/** Tolerated clock skew for timestamps from the future. */
export const MAX_FUTURE_SKEW_SECONDS = 300;

/** A DER ECDSA P-256 signature is at most 72 bytes, i.e. 96 base64 characters; SendGrid sends padded base64. */
const BASE64_SIGNATURE = /^[A-Za-z0-9+/]{1,96}={0,2}$/;
const UNIX_SECONDS = /^\d{1,12}$/;
const BASE64_KEY = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parsed public keys by their configured string: parsing DER per request would cost more than verifying. */
const keyCache = new Map<string, KeyObject>();
/** A few entries cover key rotation (old and new) and tests; the cache never grows beyond this. */
const KEY_CACHE_SIZE = 8;

/** Thrown when our own configuration is unusable: a 503, so SendGrid retries while an operator fixes it. */
function misconfigured(message: string): RetryableError {
  return new RetryableError(
    `the sendgrid connector is misconfigured: ${message}`,
    503,
    'connector_misconfigured',
  );
}

/**
 * The `KeyObject` for a configured public key, parsed once per distinct key string. Accepts what
 * SendGrid shows (base64 DER SPKI) and, for convenience, the same key with PEM armour.
 *
 * @throws RetryableError 503 `connector_misconfigured` when the value is not a P-256 public key.
 * @example
 * const key = sendgridPublicKey(process.env.SENDGRID_WEBHOOK_PUBLIC_KEY ?? '');
 */
export function sendgridPublicKey(configured: string): KeyObject {
  const cached = keyCache.get(configured);
  if (cached) return cached;
  const key = parsePublicKey(configured);
  if (keyCache.size >= KEY_CACHE_SIZE) {
    const oldest = keyCache.keys().next();
    if (!oldest.done) keyCache.delete(oldest.value);
  }
  keyCache.set(configured, key);
  return key;
}

function parsePublicKey(configured: string): KeyObject {
  const text = configured.trim();
  let key: KeyObject;
  try {
    if (text.startsWith('-----BEGIN')) {
      // Node would derive a public key from a private one; a private key in this setting is a mistake.
      if (!text.startsWith('-----BEGIN PUBLIC KEY-----')) {
        throw misconfigured('SENDGRID_WEBHOOK_PUBLIC_KEY is not a public key');
      }
      key = createPublicKey({ key: text, format: 'pem' });
    } else {
      // SendGrid's UI wraps the key over several lines; whitespace is never part of base64.
      const base64 = text.replace(/\s+/g, '');
      if (!BASE64_KEY.test(base64)) throw misconfigured('SENDGRID_WEBHOOK_PUBLIC_KEY is not base64');
      key = createPublicKey({ key: Buffer.from(base64, 'base64'), format: 'der', type: 'spki' });
    }
  } catch (error) {
    if (error instanceof RetryableError) throw error;
    throw misconfigured('SENDGRID_WEBHOOK_PUBLIC_KEY is not a DER (SPKI) public key');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw misconfigured('SENDGRID_WEBHOOK_PUBLIC_KEY is not an ECDSA P-256 key');
  }
  return key;
}

/**
 * The replay window in seconds, from `SENDGRID_SIGNATURE_MAX_AGE_SECONDS` or the 48 h default.
 *
 * @throws RetryableError 503 `connector_misconfigured` unless the value is an integer in 1..604800.
 * @example
 * signatureMaxAgeSeconds({ SENDGRID_SIGNATURE_MAX_AGE_SECONDS: '3600' }); // 3600
 */
export function signatureMaxAgeSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[MAX_AGE_ENV]?.trim();
  if (raw === undefined || raw === '') return DEFAULT_MAX_AGE_SECONDS;
  const seconds = /^\d{1,7}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(seconds >= 1 && seconds <= MAX_MAX_AGE_SECONDS)) {
    throw misconfigured(`${MAX_AGE_ENV} must be a whole number of seconds from 1 to ${MAX_MAX_AGE_SECONDS}`);
  }
  return seconds;
}

/**
 * Verifies a SendGrid Event Webhook request: configuration first (key, window), then the headers,
 * the timestamp's age (cheap, so stale or junk traffic costs no ECDSA work), then the signature over
 * `timestamp + rawBody` as bytes.
 *
 * @throws SignatureError 401 `missing_signature`, `missing_timestamp` (absent or not unix seconds),
 *   `stale_timestamp` (older than the window or more than 5 min ahead), `invalid_signature`.
 * @throws RetryableError 503 `connector_misconfigured` when the configured key or window is unusable.
 * @example
 * verifySendGridSignature(request, process.env.SENDGRID_WEBHOOK_PUBLIC_KEY ?? '', new Date());
 */
export function verifySendGridSignature(
  request: WebhookRequest,
  publicKey: string,
  now: Date,
  env: NodeJS.ProcessEnv = process.env,
): void {
  const key = sendgridPublicKey(publicKey);
  const maxAgeSeconds = signatureMaxAgeSeconds(env);

  const signature = requireHeader(request.headers, SIGNATURE_HEADER);
  const timestamp = request.headers[TIMESTAMP_HEADER]?.trim() ?? '';
  if (timestamp === '') {
    throw new SignatureError('missing_timestamp', `the ${TIMESTAMP_HEADER} header is missing`);
  }
  if (!UNIX_SECONDS.test(timestamp)) {
    throw new SignatureError(
      'missing_timestamp',
      `the ${TIMESTAMP_HEADER} header is not a unix time in seconds`,
    );
  }

  const ageSeconds = Math.floor(now.getTime() / 1000) - Number(timestamp);
  if (ageSeconds > maxAgeSeconds) {
    throw new SignatureError('stale_timestamp', `the signature is older than ${maxAgeSeconds} seconds`);
  }
  if (ageSeconds < -MAX_FUTURE_SKEW_SECONDS) {
    throw new SignatureError('stale_timestamp', 'the signature timestamp is in the future');
  }

  if (!BASE64_SIGNATURE.test(signature)) {
    throw new SignatureError('invalid_signature', 'the signature is not a base64 ECDSA signature');
  }
  // Bytes, not strings: the body is signed exactly as sent, `\r\n` between events included.
  const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), request.body]);
  let valid: boolean;
  try {
    valid = ecdsaVerify('sha256', signed, key, Buffer.from(signature, 'base64'));
  } catch {
    valid = false; // OpenSSL refusing a malformed DER signature is a bad signature, not our failure
  }
  if (!valid) {
    throw new SignatureError('invalid_signature', 'the signature does not match the body and timestamp');
  }
}
