/**
 * The sending side of HubSpot's v3 request signature, for the demo, the benchmarks and end-to-end
 * tests (loaded by `demo/vendor-webhooks.ts` by convention, never by the Lambda handlers), from
 * developers.hubspot.com, "Validating requests": a base64 HMAC-SHA256, keyed with the app's client
 * secret, of `method + URI + body + timestamp`, the URI with a listed set of percent-encodings
 * decoded, the timestamp in milliseconds in `X-HubSpot-Request-Timestamp`. Written from that
 * description with node:crypto, not from `verify.ts`, so that a test of one against the other
 * checks both.
 */
import { createHmac, randomBytes } from 'node:crypto';

const SECRET = 'HUBSPOT_CLIENT_SECRET';

/** The percent-encodings HubSpot's v3 instructions decode in the URI before signing. */
const DECODED: Readonly<Record<string, string>> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

/**
 * A fresh client secret, as the hub is configured with it.
 *
 * @example
 * const { secrets } = generateTestKeys(); // { HUBSPOT_CLIENT_SECRET: '5a…' }
 */
export function generateTestKeys(): { secrets: Record<string, string> } {
  return { secrets: { [SECRET]: randomBytes(24).toString('hex') } };
}

/**
 * The headers HubSpot adds to a webhook POSTed to `request.url` at `now`.
 *
 * @example
 * signRequest({ url: 'https://hooks.example.com/webhooks/hubspot', body }, { secrets }, new Date())
 * // { 'x-hubspot-request-timestamp': '1749556800000', 'x-hubspot-signature-v3': '…' }
 */
export function signRequest(
  request: { readonly url: string; readonly body: string },
  keys: { readonly secrets: Readonly<Record<string, string>> },
  now: Date,
): Record<string, string> {
  const secret = keys.secrets[SECRET];
  if (!secret) throw new Error(`no ${SECRET} to sign with`);
  const timestamp = String(now.getTime());
  const uri = request.url.replace(/%[0-9A-F]{2}/gi, (code) => DECODED[code.toUpperCase()] ?? code);
  const signature = createHmac('sha256', secret)
    .update(`POST${uri}${request.body}${timestamp}`, 'utf8')
    .digest('base64');
  return { 'x-hubspot-request-timestamp': timestamp, 'x-hubspot-signature-v3': signature };
}
