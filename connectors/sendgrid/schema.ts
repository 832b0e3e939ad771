/**
 * Zod schemas for SendGrid Event Webhook events
 * (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event).
 *
 * Lenient on purpose: unknown keys are kept (SendGrid adds fields such as `sg_machine_open` or
 * `bounce_classification` without notice) and only the fields we translate are required. A body is a
 * JSON array of these events; every element is validated on its own, against its `event`'s schema.
 */
import * as z from 'zod';

/** Unix seconds, bounded so that a `Date` can always be built from the value (year 9999 at most). */
const UnixSeconds = z.number().int().min(0).max(253_402_300_799);

/** What `parse` needs of every element: its idempotency key and its topic. */
export const BatchElement = z.looseObject({
  sg_event_id: z.string().min(1).describe('Unique per event: the dedupe key'),
  event: z.string().min(1).describe('The event name: delivered, open, click, bounce, ...'),
});
export type BatchElement = z.infer<typeof BatchElement>;

/** Fields every translated event carries. */
const EventBase = z.looseObject({
  email: z.string(),
  timestamp: UnixSeconds.describe('When the event happened (unix seconds)'),
  event: z.string(),
  sg_event_id: z.string().min(1),
});

/** Delivery and engagement events: they belong to one message. */
export const MessageEvent = EventBase.extend({
  sg_message_id: z.string().min(1),
  /** `category` is a string when the message had one category, an array when it had several. */
  category: z.union([z.string(), z.array(z.string())]).optional(),
});
export type MessageEvent = z.infer<typeof MessageEvent>;

export const ClickEvent = MessageEvent.extend({ url: z.string().optional() });
export type ClickEvent = z.infer<typeof ClickEvent>;

/** `type` is `bounce` (the receiving server rejected the address) or `blocked` (it refused the message). */
export const BounceEvent = MessageEvent.extend({
  type: z.string().optional(),
  reason: z.string().optional(),
});
export type BounceEvent = z.infer<typeof BounceEvent>;

/** `reason` says why SendGrid dropped it, e.g. `Bounced Address`, `Unsubscribed Address`. */
export const DroppedEvent = MessageEvent.extend({ reason: z.string().optional() });
export type DroppedEvent = z.infer<typeof DroppedEvent>;

/** `response` is the receiving server's temporary failure, e.g. `400 try again later`. */
export const DeferredEvent = MessageEvent.extend({ response: z.string().optional() });
export type DeferredEvent = z.infer<typeof DeferredEvent>;

/** Global unsubscribe and spam report: about the address, whether or not a message id comes with them. */
export const ConsentEvent = EventBase;
export type ConsentEvent = z.infer<typeof ConsentEvent>;

/** Unsubscribe or resubscribe for one suppression (ASM) group. */
export const GroupConsentEvent = EventBase.extend({
  // Documented as an integer; a numeric string is accepted too rather than failing a whole batch.
  asm_group_id: z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,15}$/)]),
});
export type GroupConsentEvent = z.infer<typeof GroupConsentEvent>;
