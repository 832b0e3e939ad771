/**
 * Zod schemas for SendGrid Event Webhook events
 * (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event).
 *
 * Lenient on purpose: unknown keys are accepted and stripped from the parsed value (SendGrid adds
 * fields such as `sg_machine_open` or `bounce_classification` without notice) and only the fields we
 * translate are required. A body is a
 * JSON array of these events; every element is validated on its own, against its `event`'s schema.
 */
import * as z from 'zod/mini';
import { described } from '../../core/zod-messages.ts';

// zod schemas are immutable, so a leaf used by many fields is built once (each instance costs cold
// start) and shared.
const NonEmptyText = z.string().check(z.minLength(1));
const OptionalText = z.optional(z.string());

/** What `parse` needs of every element: its idempotency key and its topic. */
export const BatchElement = z.object({
  sg_event_id: z.string().check(z.minLength(1), z.describe('Unique per event: the dedupe key')),
  event: z.string().check(z.minLength(1), z.describe('The event name: delivered, open, click, bounce, ...')),
});
export type BatchElement = z.infer<typeof BatchElement>;

/**
 * Below this a `timestamp` is Unix seconds (the field reference: "the UNIX timestamp"), from it on
 * milliseconds, as in the documented Single Send example (`"timestamp": 1591726752372`). Unambiguous:
 * as seconds it would be after the year 5138, as milliseconds it is after March 1973.
 */
export const MILLISECONDS_FROM = 100_000_000_000;

/**
 * When the event happened: Unix seconds, or milliseconds (see {@link MILLISECONDS_FROM}); a decimal
 * string of either is read too, as in the documented reserved-keys example (`"timestamp": "123456789"`).
 * Bounded so that a `Date` can always be built from the value (year 9999 at most).
 */
const Timestamp = described(
  z.pipe(
    z.union([z.number(), z.string().check(z.regex(/^\d{1,15}$/, 'Unix seconds or milliseconds'))]),
    z.pipe(
      z.transform((value: string | number) => Number(value)),
      z.number().check(z.int(), z.gte(0), z.lte(253_402_300_799_999)),
    ),
  ),
  'When the event happened (Unix seconds, or milliseconds)',
);

/** Fields every translated event carries. */
const EventBase = z.object({
  email: z.string(),
  timestamp: Timestamp,
  event: z.string(),
  sg_event_id: NonEmptyText,
});

/** `category` is a string when the message had one category, an array when it had several. */
const Category = z.optional(z.union([z.string(), z.array(z.string())]));

/** Delivery and engagement events: they belong to one message. */
export const MessageEvent = z.extend(EventBase, { sg_message_id: NonEmptyText, category: Category });
export type MessageEvent = z.infer<typeof MessageEvent>;

/**
 * Bounces and drops are about the address as much as the message: SendGrid documents that "in the
 * event of an asynchronous bounce, the message ID will not be available" (it sends `""`, or no field).
 */
const AddressEvent = z.extend(EventBase, { sg_message_id: OptionalText, category: Category });
/** Any event about a message, with or without its id. */
export type AnyMessageEvent = z.infer<typeof AddressEvent>;

export const ClickEvent = z.extend(MessageEvent, { url: OptionalText });
export type ClickEvent = z.infer<typeof ClickEvent>;

/** `type` is `bounce` (the receiving server rejected the address) or `blocked` (it refused the message). */
export const BounceEvent = z.extend(AddressEvent, {
  type: OptionalText,
  reason: OptionalText,
});
export type BounceEvent = z.infer<typeof BounceEvent>;

/** `reason` says why SendGrid dropped it, e.g. `Bounced Address`, `Unsubscribed Address`. */
export const DroppedEvent = z.extend(AddressEvent, { reason: OptionalText });
export type DroppedEvent = z.infer<typeof DroppedEvent>;

/** `response` is the receiving server's temporary failure, e.g. `400 try again later`. */
export const DeferredEvent = z.extend(MessageEvent, { response: OptionalText });
export type DeferredEvent = z.infer<typeof DeferredEvent>;

/** Global unsubscribe and spam report: about the address, whether or not a message id comes with them. */
export const ConsentEvent = EventBase;
export type ConsentEvent = z.infer<typeof ConsentEvent>;

/** Unsubscribe or resubscribe for one suppression (ASM) group. */
export const GroupConsentEvent = z.extend(EventBase, {
  // Documented as an integer; a numeric string is accepted too rather than failing a whole batch.
  asm_group_id: z.union([
    z.number().check(z.int(), z.nonnegative()),
    z.string().check(z.regex(/^\d{1,15}$/)),
  ]),
});
export type GroupConsentEvent = z.infer<typeof GroupConsentEvent>;
