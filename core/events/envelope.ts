/**
 * The canonical event envelope. Field names follow CloudEvents where one exists (`id`, `source`,
 * `type`, `time`, `subject`, `dataschema`); Omnihub's own fields sit beside them.
 *
 * On the bus an envelope travels as the EventBridge `detail`, with `detail-type` = `type` and
 * `source` = `source`.
 */
import * as z from 'zod/mini';
import { PermanentError } from '../errors.ts';
import { Identity } from '../identity/identity.ts';
import { described } from '../zod-messages.ts';

export { deterministicEventId } from './event-id.ts';

export const EVENT_SOURCE_PREFIX = 'omnihub.';

export const Origin = described(
  z.object({
    connector: described(
      z.string(),
      'Connector id that received the vendor delivery, or `omnihub` for hub events',
    ),
    deliveryId: described(z.string(), "The vendor's own delivery/event id (the idempotency key)"),
    topic: described(z.optional(z.string()), "The vendor's topic or event name, e.g. `orders/create`"),
  }),
  'Where the event came from',
);

export const Envelope = z.object({
  id: described(
    z.string().check(z.minLength(1)),
    "Event id, from the vendor delivery, the event's position in it and its content: a redelivery, a replay or an unchanged re-translation keeps it; a corrected translation gets a new one",
  ),
  type: described(
    z.string(),
    'Event type, a past-tense business fact: `order.placed`; also the EventBridge detail-type',
  ),
  source: described(z.string().check(z.startsWith(EVENT_SOURCE_PREFIX)), '`omnihub.<connector>`'),
  subject: described(z.optional(z.string()), 'What the event is about, e.g. `shopify:706405506930370084`'),
  time: described(z.iso.datetime({ offset: true }), 'CloudEvents time: equal to occurredAt'),
  occurredAt: described(z.iso.datetime({ offset: true }), "When it happened, by the vendor's clock"),
  receivedAt: described(z.iso.datetime({ offset: true }), 'When Omnihub received the delivery'),
  retranslatedAt: described(
    z.optional(z.iso.datetime({ offset: true })),
    'When `omnihub retranslate` translated the archived delivery again and published this corrected event; absent otherwise. Among values with the same occurredAt, the latest translation wins',
  ),
  schemaVersion: described(
    z.number().check(z.int(), z.positive()),
    'Version of the `data` schema for this type',
  ),
  dataschema: described(z.string(), 'URI of the JSON Schema of `data`'),
  origin: Origin,
  identities: described(z.array(Identity), "The subject's identities, normalised"),
  correlationId: described(z.string(), 'Carried from ingest through the bus to profile and sync'),
  data: z.record(z.string(), z.unknown()),
});
export type Envelope = z.infer<typeof Envelope>;

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
