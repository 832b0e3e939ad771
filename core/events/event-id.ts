/**
 * Event ids, apart from the envelope's schema so that ingest, which builds envelopes but never parses
 * one, does not construct the Envelope schema at cold start.
 */
import { createHash } from 'node:crypto';

/**
 * A deterministic event id: the same parts always yield the same id, so downstream consumers can
 * dedupe even if a redelivery slipped past ingest idempotency.
 */
export function deterministicEventId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  // Laid out as a UUID (version nibble 5-like) so it reads like an ordinary event id.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** What a translated event says, as opposed to when it was received or which request carried it. */
export interface EventContent {
  readonly type: string;
  readonly occurredAt: string;
  readonly subject?: string | undefined;
  readonly identities: unknown;
  readonly data: unknown;
}

/**
 * The id of a translated event: its delivery, its position in the delivery, and its content. A
 * redelivery, a replay or a re-translation by an unchanged translator yields the same id (consumers
 * ignore it); a fixed translator's different event gets a new id, which the profile writer applies.
 * Receive time and correlation id are not content: they differ between deliveries of the same thing.
 *
 * @example
 * translatedEventId('shopify', 'orders/create:3f0c…', 0, { type: 'order.placed', occurredAt, identities, data });
 */
export function translatedEventId(
  connector: string,
  deliveryId: string,
  position: number,
  content: EventContent,
): string {
  const digest = createHash('sha256')
    .update(
      canonicalJson([
        content.type,
        content.occurredAt,
        content.subject ?? null,
        content.identities,
        content.data,
      ]),
    )
    .digest('hex');
  return deterministicEventId(connector, deliveryId, String(position), content.type, digest);
}

/**
 * What a delivery published, as one digest of its events' ids (which cover their content): the
 * delivery ledger keeps it, so a re-translation knows an unchanged result without publishing it.
 */
export function publishedDigest(eventIds: readonly string[]): string {
  return createHash('sha256').update(eventIds.join('\n')).digest('hex').slice(0, 32);
}

/** JSON with object keys sorted, so equal content always hashes alike. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(inner).sort()) sorted[key] = (inner as Record<string, unknown>)[key];
    return sorted;
  });
}
