/**
 * Webhooks signed the way each vendor signs them, for the demo, the benchmarks and end-to-end tests.
 *
 * The signing itself is each connector's: `connectors/<id>/signer.ts`, found by convention for every
 * connector in the registry (`connectors/index.ts`), so adding a connector adds its signer to its
 * own folder and nothing here. The signers are loaded once, when this module is first imported; the
 * Lambda handlers never import them. This module adds what every vendor shares: the route and the
 * URL the vendor signs, header names in lower case, and the connector's content type unless the
 * caller gave one.
 *
 * @example
 * const keys = generateWebhookKeys('https://hooks.example.com');
 * const request = signWebhook({ connector: 'shopify', body, headers: { 'X-Shopify-Topic': 'orders/create' } }, keys);
 * await fetch(`${hubUrl}${request.path}`, { method: 'POST', headers: request.headers, body: request.body });
 */
import type { KeyObject } from 'node:crypto';
import { connectors } from '../connectors/index.ts';

/** A request as the vendor is about to send it: where to, the exact body, its headers (lower-case names). */
export interface VendorRequest {
  /** The URL the vendor posts to, as it knows it (the hub's public URL, path and query). */
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** One vendor's test keys: the hub's secrets, and the private key when the vendor signs with one. */
export interface VendorKeys {
  /** Secret name (the connector's `secrets` key, an env var locally) -> value, as the hub has them. */
  readonly secrets: Readonly<Record<string, string>>;
  /** What only the vendor holds, when the hub verifies with a public key (SendGrid). */
  readonly privateKey?: KeyObject;
}

/** What `connectors/<id>/signer.ts` exports: the vendor's side of the connector's signature scheme. */
export interface ConnectorSigner {
  /** Fresh random secrets for a test hub (and the vendor's private key, if it signs with one). */
  generateTestKeys(): VendorKeys;
  /** The signature headers (lower-case names) the vendor adds to `request`, signed at `now`. */
  signRequest(request: VendorRequest, keys: VendorKeys, now: Date): Record<string, string>;
}

export interface UnsignedWebhook {
  /** The connector's id in the registry; the request goes to `/webhooks/<id>`. */
  readonly connector: string;
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
  /** Every connector's secrets by name (SHOPIFY_WEBHOOK_SECRET, ... SENDGRID_WEBHOOK_PUBLIC_KEY). */
  readonly secrets: Readonly<Record<string, string>>;
  /** By connector id, the private keys of the vendors that sign with one the hub never sees. */
  readonly privateKeys: Readonly<Record<string, KeyObject>>;
}

export interface SignedWebhook {
  /** `/webhooks/<connector>` plus `?query` when there is one. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const SIGNER_EXPORTS = ['generateTestKeys', 'signRequest'] as const;

/** A connector's signer, or why it has none (no `signer.ts`, or one that exports the wrong things). */
async function loadSigner(id: string): Promise<ConnectorSigner | Error> {
  let module: Partial<Record<(typeof SIGNER_EXPORTS)[number], unknown>>;
  try {
    module = (await import(`../connectors/${id}/signer.ts`)) as typeof module;
  } catch (error) {
    return new Error(`connectors/${id}/signer.ts could not be loaded: ${String(error)}`);
  }
  const missing = SIGNER_EXPORTS.filter((name) => typeof module[name] !== 'function');
  if (missing.length > 0) {
    return new Error(`connectors/${id}/signer.ts does not export ${missing.join(' and ')}`);
  }
  return module as ConnectorSigner;
}

const signers: ReadonlyMap<string, ConnectorSigner | Error> = new Map(
  await Promise.all(Object.keys(connectors).map(async (id) => [id, await loadSigner(id)] as const)),
);

/**
 * The signer of a connector in the registry.
 *
 * @throws Error when the id is not in the registry or its folder has no usable `signer.ts`.
 * @example
 * signerOf('shopify').generateTestKeys();
 */
export function signerOf(connector: string): ConnectorSigner {
  const signer = signers.get(connector);
  if (signer === undefined) throw new Error(`${connector} is not a connector of connectors/index.ts`);
  if (signer instanceof Error) throw signer;
  return signer;
}

/** Fresh random secrets for every connector that has a signer, and the private keys some vendors sign with. */
export function generateWebhookKeys(publicUrl: string): WebhookKeys {
  const secrets: Record<string, string> = {};
  const privateKeys: Record<string, KeyObject> = {};
  for (const [id, signer] of signers) {
    if (signer instanceof Error) continue;
    const keys = signer.generateTestKeys();
    Object.assign(secrets, keys.secrets);
    if (keys.privateKey) privateKeys[id] = keys.privateKey;
  }
  return { publicUrl, secrets, privateKeys };
}

/** The request a vendor would send, with its signature headers, signed at `now`. */
export function signWebhook(webhook: UnsignedWebhook, keys: WebhookKeys, now = new Date()): SignedWebhook {
  const signer = signerOf(webhook.connector);
  const path = `/webhooks/${webhook.connector}${webhook.query ? `?${webhook.query}` : ''}`;
  const url = `${keys.publicUrl.replace(/\/$/, '')}${path}`;
  // Lower-cased names, so a caller's `Content-Type` and ours never both go out.
  const headers: Record<string, string> = Object.fromEntries(
    Object.entries(webhook.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const contentType = connectors[webhook.connector]?.inbound.contentTypes[0];
  if (contentType !== undefined) headers['content-type'] ??= contentType;
  const privateKey = keys.privateKeys[webhook.connector];
  const vendorKeys: VendorKeys = privateKey
    ? { secrets: keys.secrets, privateKey }
    : { secrets: keys.secrets };
  Object.assign(headers, signer.signRequest({ url, body: webhook.body, headers }, vendorKeys, now));
  return { path, headers, body: webhook.body };
}
