/**
 * Event ids, apart from the envelope's schema so that ingest, which builds envelopes but never parses
 * one, does not construct the Envelope schema at cold start.
 */
import { createHash } from 'node:crypto';

/**
 * A deterministic event id: the same vendor delivery (and the same position in it) always yields the
 * same id, so downstream consumers can dedupe even if a redelivery slipped past ingest idempotency.
 */
export function deterministicEventId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  // Laid out as a UUID (version nibble 5-like) so it reads like an ordinary event id.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
