/**
 * The sending side of SendGrid's signed Event Webhook, for the demo, the benchmarks and end-to-end
 * tests (loaded by `demo/vendor-webhooks.ts` by convention, never by the Lambda handlers), from
 * twilio.com/docs/sendgrid, "Getting started with the Event Webhook security features": an ECDSA
 * signature (P-256, SHA-256) over the timestamp header's value followed by the raw body, base64 DER in
 * `X-Twilio-Email-Event-Webhook-Signature`, the unix time in seconds in
 * `X-Twilio-Email-Event-Webhook-Timestamp`. SendGrid keeps the private key and shows the account the
 * public key as base64 DER. Written from that description with node:crypto, not from `verify.ts`, so
 * that a test of one against the other checks both.
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

const PUBLIC_KEY = 'SENDGRID_WEBHOOK_PUBLIC_KEY';

/**
 * A fresh P-256 key pair: the public half as SendGrid shows it (base64 DER SubjectPublicKeyInfo),
 * which the hub is configured with, and the private half, which only the sender holds.
 *
 * @example
 * const { secrets, privateKey } = generateTestKeys(); // secrets: { SENDGRID_WEBHOOK_PUBLIC_KEY: 'MFkw…' }
 */
export function generateTestKeys(): { secrets: Record<string, string>; privateKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    secrets: { [PUBLIC_KEY]: publicKey.export({ format: 'der', type: 'spki' }).toString('base64') },
    privateKey,
  };
}

/**
 * The headers SendGrid adds to an Event Webhook post signed at `now`.
 *
 * @example
 * signRequest({ body: '[{"event":"open"}]\r\n' }, { privateKey }, new Date())
 */
export function signRequest(
  request: { readonly body: string },
  keys: { readonly privateKey?: KeyObject },
  now: Date,
): Record<string, string> {
  if (!keys.privateKey) throw new Error('no SendGrid private key to sign with');
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const signature = sign('sha256', Buffer.from(timestamp + request.body, 'utf8'), keys.privateKey);
  return {
    'x-twilio-email-event-webhook-timestamp': timestamp,
    'x-twilio-email-event-webhook-signature': signature.toString('base64'),
  };
}
