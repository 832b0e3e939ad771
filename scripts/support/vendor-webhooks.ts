/**
 * Signs webhooks the way each vendor does, for the demo, the benchmarks and end-to-end tests: the
 * sending side of the five schemes our connectors verify (see ../shared/vendors/README.md). Written
 * from the vendors' documented algorithms with node:crypto, independently of `connectors/<id>/verify.ts`
 * (the verifiers are checked against the vendors' own SDKs in the connector tests).
 *
 * @example
 * const keys = generateWebhookKeys('https://hooks.example.com');
 * const request = signWebhook({ connector: 'shopify', body, headers: { 'X-Shopify-Topic': 'orders/create' } }, keys);
 * await fetch(`${hubUrl}${request.path}`, { method: 'POST', headers: request.headers, body: request.body });
 */
import { createHmac, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

export type VendorId = 'shopify' | 'hubspot' | 'square' | 'sendgrid' | 'twilio';

export interface UnsignedWebhook {
  readonly connector: VendorId;
  /** The exact bytes to send (JSON, or form-encoded for Twilio). */
  readonly body: string;
  /** Raw query string without `?`. */
  readonly query?: string;
  /** Extra headers (topic, webhook id, ...); the signature headers are added. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface WebhookKeys {
  /** What the hub has as OMNIHUB_PUBLIC_URL: the URL-signed schemes sign `publicUrl + path + ?query`. */
  readonly publicUrl: string;
  /** The hub's secrets by env name (SHOPIFY_WEBHOOK_SECRET, ... SENDGRID_WEBHOOK_PUBLIC_KEY). */
  readonly secrets: Readonly<Record<string, string>>;
  /** The private half of SENDGRID_WEBHOOK_PUBLIC_KEY. */
  readonly sendgridPrivateKey: KeyObject;
}

export interface SignedWebhook {
  /** `/webhooks/<connector>` plus `?query` when there is one. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Fresh random secrets for all five connectors and a P-256 key pair for SendGrid. */
export function generateWebhookKeys(publicUrl: string): WebhookKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const secret = () => randomBytes(24).toString('hex');
  return {
    publicUrl,
    secrets: {
      SHOPIFY_WEBHOOK_SECRET: secret(),
      HUBSPOT_CLIENT_SECRET: secret(),
      SQUARE_SIGNATURE_KEY: secret(),
      TWILIO_AUTH_TOKEN: secret(),
      // SendGrid shows the public key as base64 DER (SubjectPublicKeyInfo).
      SENDGRID_WEBHOOK_PUBLIC_KEY: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    },
    sendgridPrivateKey: privateKey,
  };
}

function secretOf(keys: WebhookKeys, name: string): string {
  const value = keys.secrets[name];
  if (!value) throw new Error(`no ${name} to sign with`);
  return value;
}

/** Twilio's form-parameter string: keys sorted, each key followed by its value(s). */
function twilioParameters(body: string): string {
  const params = new URLSearchParams(body);
  return [...new Set(params.keys())]
    .sort()
    .map((key) =>
      params
        .getAll(key)
        .map((value) => key + value)
        .join(''),
    )
    .join('');
}

/** The request a vendor would send, with its signature headers, signed at `now`. */
export function signWebhook(webhook: UnsignedWebhook, keys: WebhookKeys, now = new Date()): SignedWebhook {
  const path = `/webhooks/${webhook.connector}${webhook.query ? `?${webhook.query}` : ''}`;
  const url = `${keys.publicUrl.replace(/\/$/, '')}${path}`;
  const body = webhook.body;
  // Lower-cased names, so a caller's `Content-Type` and ours never both go out.
  const headers: Record<string, string> = Object.fromEntries(
    Object.entries(webhook.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const hmac = (algorithm: string, key: string, ...parts: string[]) => {
    const mac = createHmac(algorithm, key);
    for (const part of parts) mac.update(part, 'utf8');
    return mac.digest('base64');
  };
  switch (webhook.connector) {
    case 'shopify':
      headers['content-type'] ??= 'application/json';
      headers['x-shopify-hmac-sha256'] = hmac('sha256', secretOf(keys, 'SHOPIFY_WEBHOOK_SECRET'), body);
      break;
    case 'hubspot': {
      const timestamp = String(now.getTime());
      headers['content-type'] ??= 'application/json';
      headers['x-hubspot-request-timestamp'] = timestamp;
      headers['x-hubspot-signature-v3'] = hmac(
        'sha256',
        secretOf(keys, 'HUBSPOT_CLIENT_SECRET'),
        'POST',
        url,
        body,
        timestamp,
      );
      break;
    }
    case 'square':
      headers['content-type'] ??= 'application/json';
      headers['x-square-hmacsha256-signature'] = hmac(
        'sha256',
        secretOf(keys, 'SQUARE_SIGNATURE_KEY'),
        url,
        body,
      );
      break;
    case 'sendgrid': {
      const timestamp = String(Math.floor(now.getTime() / 1000));
      headers['content-type'] ??= 'application/json';
      headers['x-twilio-email-event-webhook-timestamp'] = timestamp;
      headers['x-twilio-email-event-webhook-signature'] = sign(
        'sha256',
        Buffer.from(timestamp + body, 'utf8'),
        keys.sendgridPrivateKey,
      ).toString('base64');
      break;
    }
    case 'twilio':
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
      headers['x-twilio-signature'] = hmac(
        'sha1',
        secretOf(keys, 'TWILIO_AUTH_TOKEN'),
        url,
        twilioParameters(body),
      );
      break;
  }
  return { path, headers, body };
}
