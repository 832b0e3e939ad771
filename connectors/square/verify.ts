/**
 * Square webhook signature check.
 *
 * Square signs `notificationUrl + rawBody` with HMAC-SHA256, keyed with the webhook subscription's
 * signature key, and sends it base64-encoded in `x-square-hmacsha256-signature`
 * (developer.squareup.com/docs/webhooks/step3validate; `WebhooksHelper.verifySignature` in the
 * `square` SDK). The URL is the one registered on the subscription, byte for byte: scheme, host,
 * path, trailing slash and query string all count, so `request.publicUrl` must be built from
 * `OMNIHUB_PUBLIC_URL` exactly as it was typed into the Developer Console.
 */

import type { SecretValues, WebhookRequest } from '../../core/connector.ts';
import { ConnectorNotConfiguredError, SignatureError } from '../../core/errors.ts';
import { hmac, requireHeader, safeEqual } from '../../core/ingest/verify.ts';

/** The header carrying the HMAC-SHA256 signature. */
export const SIGNATURE_HEADER = 'x-square-hmacsha256-signature';

/** The secret name: the subscription's signature key (Developer Console > Webhooks > Subscriptions). */
export const SIGNATURE_KEY = 'SQUARE_SIGNATURE_KEY';

/**
 * The base64 signature Square sends for `body` posted to `notificationUrl`.
 *
 * @example
 * squareSignature('key', 'https://hooks.example.com/webhooks/square', Buffer.from('{}'))
 */
export function squareSignature(
  signatureKey: string,
  notificationUrl: string,
  body: Buffer | string,
): string {
  // The URL and the body are hashed as one stream; the body's raw bytes are used as received.
  return hmac('sha256', signatureKey, [notificationUrl, body], 'base64');
}

/**
 * Throws a {@link SignatureError} unless the request carries Square's HMAC-SHA256 signature of
 * `request.publicUrl + request.body`.
 *
 * The deprecated `x-square-signature` header (HMAC-SHA1 over the same string) is deliberately
 * ignored: Square sends it alongside the SHA-256 one, so accepting it as an alternative would add
 * nothing for genuine requests and would let a forger target the weaker algorithm instead.
 *
 * Nothing time-related is signed, so there is no replay window to enforce; a replayed delivery is a
 * duplicate `event_id` and is absorbed by the delivery ledger.
 *
 * @example
 * verifySquareRequest(request, { SQUARE_SIGNATURE_KEY: process.env.SQUARE_SIGNATURE_KEY ?? '' });
 */
export function verifySquareRequest(
  request: WebhookRequest,
  secrets: SecretValues<typeof SIGNATURE_KEY>,
): void {
  const signatureKey = secrets[SIGNATURE_KEY];
  // An empty key would make every HMAC forgeable; refuse to run rather than accept anything signed with ''.
  if (!signatureKey) throw new ConnectorNotConfiguredError('square', [SIGNATURE_KEY]);
  const signature = requireHeader(request.headers, SIGNATURE_HEADER);
  if (!safeEqual(squareSignature(signatureKey, request.publicUrl, request.body), signature)) {
    throw new SignatureError(
      'invalid_signature',
      `the ${SIGNATURE_HEADER} header does not match; check the signature key and that the subscription's notification URL is exactly OMNIHUB_PUBLIC_URL + /webhooks/square`,
    );
  }
}
