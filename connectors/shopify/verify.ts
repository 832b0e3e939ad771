/**
 * Shopify webhook signature: base64 HMAC-SHA256 of the raw body keyed with the app's client secret.
 *
 * Nothing else is signed: no timestamp, no URL, no headers. So there is no replay window to enforce
 * here; replays and retries are absorbed by the per-delivery dedupe (see `inbound.ts`).
 */

import type { SecretValues, WebhookRequest } from '../../core/connector.ts';
import { SignatureError } from '../../core/errors.ts';
import { hmac, safeEqual } from '../../core/ingest/verify.ts';

/** The secret's name: env var locally, key of the connector's Secrets Manager secret in AWS. */
export const SECRET_NAME = 'SHOPIFY_WEBHOOK_SECRET';

/**
 * Where the signature travels. Classic webhooks use `X-Shopify-Hmac-Sha256`; the newer "Events"
 * deliveries use the unprefixed `Shopify-Hmac-Sha256`. When both are present the unprefixed one
 * wins, as in `@shopify/shopify-api` (`detectWebhookType` in `lib/webhooks/validate.ts`).
 */
export const SIGNATURE_HEADERS = ['shopify-hmac-sha256', 'x-shopify-hmac-sha256'] as const;

/** The first non-blank value among the given (lower-case) header names. */
export function firstHeader(
  headers: Readonly<Record<string, string | undefined>>,
  names: readonly string[],
): string | undefined {
  for (const name of names) {
    const value = headers[name]?.trim();
    if (value) return value;
  }
  return undefined;
}

/**
 * Checks the Shopify HMAC over `request.body` in constant time.
 *
 * @throws SignatureError `missing_signature` when neither header is present, `invalid_signature`
 *   when the HMAC does not match (wrong secret, altered body, or a webhook created by hand in the
 *   store's Notifications settings, which is signed with a different key).
 * @example
 * verifyShopifyWebhook(request, { SHOPIFY_WEBHOOK_SECRET: 'shpss_…' });
 */
export function verifyShopifyWebhook(
  request: WebhookRequest,
  secrets: SecretValues<typeof SECRET_NAME>,
): void {
  const signature = firstHeader(request.headers, SIGNATURE_HEADERS);
  if (signature === undefined) {
    throw new SignatureError('missing_signature', 'the X-Shopify-Hmac-Sha256 header is missing');
  }
  const expected = hmac('sha256', secrets[SECRET_NAME], [request.body], 'base64');
  if (!safeEqual(expected, signature)) {
    throw new SignatureError(
      'invalid_signature',
      'the X-Shopify-Hmac-Sha256 signature does not match the body',
    );
  }
}
