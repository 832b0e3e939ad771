/**
 * The sending side of Twilio's request signature for form posts, for the demo, the benchmarks and
 * end-to-end tests (loaded by `demo/vendor-webhooks.ts` by convention, never by the Lambda handlers),
 * from twilio.com/docs/usage/security, "Validating signatures from Twilio": take the full URL, append
 * every POST parameter as `name + value` with the names sorted, HMAC-SHA1 it with the auth token and
 * send it base64-encoded in `X-Twilio-Signature`. Written from that description with node:crypto, not
 * from `verify.ts`, so that a test of one against the other checks both.
 */
import { createHmac, randomBytes } from 'node:crypto';

const SECRET = 'TWILIO_AUTH_TOKEN';

/**
 * A fresh auth token, as the hub is configured with it.
 *
 * @example
 * const { secrets } = generateTestKeys(); // { TWILIO_AUTH_TOKEN: 'e1…' }
 */
export function generateTestKeys(): { secrets: Record<string, string> } {
  return { secrets: { [SECRET]: randomBytes(24).toString('hex') } };
}

/** The form's parameters as Twilio appends them to the URL: sorted by name, each `name + value`. */
function signedParameters(body: string): string {
  const params = new URLSearchParams(body);
  return [...new Set(params.keys())]
    .sort()
    .map((name) =>
      params
        .getAll(name)
        .map((value) => name + value)
        .join(''),
    )
    .join('');
}

/**
 * The header Twilio adds to a form-encoded request posted to `request.url`.
 *
 * @example
 * signRequest({ url: 'https://hooks.example.com/webhooks/twilio', body: 'From=%2B1415&Body=hi' }, { secrets })
 */
export function signRequest(
  request: { readonly url: string; readonly body: string },
  keys: { readonly secrets: Readonly<Record<string, string>> },
): Record<string, string> {
  const secret = keys.secrets[SECRET];
  if (!secret) throw new Error(`no ${SECRET} to sign with`);
  const signature = createHmac('sha1', secret)
    .update(request.url + signedParameters(request.body), 'utf8')
    .digest('base64');
  return { 'x-twilio-signature': signature };
}
