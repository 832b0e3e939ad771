/**
 * The sending side of Shopify's webhook signature, for the demo, the benchmarks and end-to-end tests
 * (loaded by `demo/vendor-webhooks.ts` by convention, never by the Lambda handlers): a base64
 * HMAC-SHA256 of the raw body, keyed with the app's client secret, in `X-Shopify-Hmac-Sha256`
 * (shopify.dev, "Verify webhooks"). Written from that description with node:crypto, not from
 * `verify.ts`, so that a test of one against the other checks both.
 */
import { createHmac, randomBytes } from 'node:crypto';

const SECRET = 'SHOPIFY_WEBHOOK_SECRET';

/**
 * A fresh client secret, as the hub is configured with it.
 *
 * @example
 * const { secrets } = generateTestKeys(); // { SHOPIFY_WEBHOOK_SECRET: '9f…' }
 */
export function generateTestKeys(): { secrets: Record<string, string> } {
  return { secrets: { [SECRET]: randomBytes(24).toString('hex') } };
}

/**
 * The header Shopify adds to a webhook: the HMAC of the body (nothing else is signed).
 *
 * @example
 * signRequest({ url, body: '{"id":1}' }, { secrets }) // { 'x-shopify-hmac-sha256': '…' }
 */
export function signRequest(
  request: { readonly body: string },
  keys: { readonly secrets: Readonly<Record<string, string>> },
): Record<string, string> {
  const secret = keys.secrets[SECRET];
  if (!secret) throw new Error(`no ${SECRET} to sign with`);
  return {
    'x-shopify-hmac-sha256': createHmac('sha256', secret).update(request.body, 'utf8').digest('base64'),
  };
}
