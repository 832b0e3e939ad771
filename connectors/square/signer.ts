/**
 * The sending side of Square's webhook signature, for the demo, the benchmarks and end-to-end tests
 * (loaded by `demo/vendor-webhooks.ts` by convention, never by the Lambda handlers): a base64
 * HMAC-SHA256 of the notification URL followed by the raw body, keyed with the subscription's
 * signature key, in `X-Square-HmacSha256-Signature` (developer.squareup.com, "Validate notifications").
 * Written from that description with node:crypto, not from `verify.ts`, so that a test of one
 * against the other checks both.
 */
import { createHmac, randomBytes } from 'node:crypto';

const SECRET = 'SQUARE_SIGNATURE_KEY';

/**
 * A fresh subscription signature key, as the hub is configured with it.
 *
 * @example
 * const { secrets } = generateTestKeys(); // { SQUARE_SIGNATURE_KEY: '3c…' }
 */
export function generateTestKeys(): { secrets: Record<string, string> } {
  return { secrets: { [SECRET]: randomBytes(24).toString('hex') } };
}

/**
 * The header Square adds to a notification posted to `request.url` (the URL exactly as registered).
 *
 * @example
 * signRequest({ url: 'https://hooks.example.com/webhooks/square', body }, { secrets })
 */
export function signRequest(
  request: { readonly url: string; readonly body: string },
  keys: { readonly secrets: Readonly<Record<string, string>> },
): Record<string, string> {
  const secret = keys.secrets[SECRET];
  if (!secret) throw new Error(`no ${SECRET} to sign with`);
  const signature = createHmac('sha256', secret)
    .update(request.url, 'utf8')
    .update(request.body, 'utf8')
    .digest('base64');
  return { 'x-square-hmacsha256-signature': signature };
}
