/**
 * What ingest keeps of a verified request beside its body, in the raw archive and with a quarantined
 * delivery: enough to translate it again later, and nothing that identifies the sender.
 *
 * Kept: the public URL (with the query string, which URL-signed vendors use), the time it was
 * received, `content-type`, and the connector's own headers, named `x-<connector id>-*` or
 * `<connector id>-*` (Shopify's topic, event id and triggered-at headers are how its deliveries are
 * told apart and dated). Left out: signatures (never checked again: archived deliveries were
 * verified on receipt), authorization, cookies, client addresses and the transport's own headers.
 */
import type { WebhookRequest } from '../connector.ts';

export interface KeptRequest {
  /** The URL the vendor posted to, as the connector saw it (`publicUrl`). */
  readonly url: string;
  /** ISO 8601, as the hub received it. */
  readonly receivedAt: string;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
}

const SIGNATURE_HEADER = /signature|hmac/;

/** Whether a header is kept for a connector: content type and its own headers, except signatures. */
export function isKeptHeader(connectorId: string, name: string): boolean {
  if (name === 'content-type') return true;
  if (SIGNATURE_HEADER.test(name)) return false;
  return name.startsWith(`x-${connectorId}-`) || name.startsWith(`${connectorId}-`);
}

/**
 * @example
 * keptRequestOf('shopify', request).headers; // { 'content-type': 'application/json', 'x-shopify-topic': 'orders/create', ... }
 */
export function keptRequestOf(connectorId: string, request: WebhookRequest): KeptRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined && isKeptHeader(connectorId, name)) headers[name] = value;
  }
  return { url: request.publicUrl, receivedAt: request.receivedAt.toISOString(), headers };
}

/** The request again, as the connector saw it, with `body`: what re-translation runs on. */
export function requestOf(kept: KeptRequest, body: Buffer): WebhookRequest {
  const url = new URL(kept.url);
  const queryAt = kept.url.indexOf('?');
  return {
    method: 'POST',
    path: url.pathname,
    rawQueryString: queryAt === -1 ? '' : kept.url.slice(queryAt + 1),
    headers: { ...kept.headers },
    body,
    publicUrl: kept.url,
    receivedAt: new Date(kept.receivedAt),
  };
}
