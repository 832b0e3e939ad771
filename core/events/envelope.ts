/**
 * The canonical event envelope. Field names follow CloudEvents where one exists (`id`, `source`,
 * `type`, `time`, `subject`, `dataschema`); Omnihub's own fields sit beside them.
 *
 * On the bus an envelope travels as the EventBridge `detail`, with `detail-type` = `type` and
 * `source` = `source`.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { PermanentError } from '../errors.ts';
import { Identity } from '../identity/identity.ts';
import '../zod-messages.ts';

export const EVENT_SOURCE_PREFIX = 'omnihub.';

export const Origin = z
  .object({
    connector: z
      .string()
      .check(z.describe('Connector id that received the vendor delivery, or `omnihub` for hub events')),
    deliveryId: z.string().check(z.describe("The vendor's own delivery/event id (the idempotency key)")),
    topic: z.optional(z.string()).check(z.describe("The vendor's topic or event name, e.g. `orders/create`")),
  })
  .check(z.describe('Where the event came from'));

export const Envelope = z.object({
  id: z
    .string()
    .check(
      z.minLength(1),
      z.describe('Event id, deterministic for a given vendor delivery, so redeliveries keep it'),
    ),
  type: z
    .string()
    .check(
      z.describe('Event type, a past-tense business fact: `order.placed`; also the EventBridge detail-type'),
    ),
  source: z.string().check(z.startsWith(EVENT_SOURCE_PREFIX), z.describe('`omnihub.<connector>`')),
  subject: z
    .optional(z.string())
    .check(z.describe('What the event is about, e.g. `shopify:706405506930370084`')),
  time: z.iso.datetime({ offset: true }).check(z.describe('CloudEvents time: equal to occurredAt')),
  occurredAt: z.iso.datetime({ offset: true }).check(z.describe("When it happened, by the vendor's clock")),
  receivedAt: z.iso.datetime({ offset: true }).check(z.describe('When Omnihub received the delivery')),
  schemaVersion: z
    .number()
    .check(z.int(), z.positive(), z.describe('Version of the `data` schema for this type')),
  dataschema: z.string().check(z.describe('URI of the JSON Schema of `data`')),
  origin: Origin,
  identities: z.array(Identity).check(z.describe("The subject's identities, normalised")),
  correlationId: z.string().check(z.describe('Carried from ingest through the bus to profile and sync')),
  data: z.record(z.string(), z.unknown()),
});
export type Envelope = z.infer<typeof Envelope>;

/**
 * A deterministic event id: the same vendor delivery (and the same position in it) always yields the
 * same id, so downstream consumers can dedupe even if a redelivery slipped past ingest idempotency.
 */
export function deterministicEventId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  // Laid out as a UUID (version nibble 5-like) so it reads like an ordinary event id.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The canonical envelope inside a queue message that carries an EventBridge event (a consumer's SQS
 * record body). A body that is not one can never succeed: PermanentError `malformed_record`.
 *
 * @example
 * const envelope = envelopeOfMessage(record.body);
 */
export function envelopeOfMessage(body: string): Envelope {
  let event: { detail?: unknown };
  try {
    event = JSON.parse(body) as { detail?: unknown };
  } catch {
    throw new PermanentError('record body is not JSON', 'malformed_record');
  }
  const parsed = Envelope.safeParse(event?.detail);
  if (!parsed.success)
    throw new PermanentError('record does not carry a canonical event', 'malformed_record');
  return parsed.data;
}
