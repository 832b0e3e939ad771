/**
 * Twilio Programmable Messaging webhook parameters (incoming message and status callback), as the
 * flat string map Twilio posts. Lenient on purpose: Twilio adds parameters without notice, so unknown
 * keys are accepted (and stripped from the parsed value) and only the fields the translators read
 * are declared.
 */
import * as z from 'zod/mini';
import '../../core/zod-messages.ts';

// zod schemas are immutable, so a leaf used by many fields is built once (each instance costs cold
// start) and shared.
const NonEmptyText = z.string().check(z.minLength(1));
const Sid = NonEmptyText;
const OptionalText = z.optional(z.string());

/**
 * An incoming message (`SmsStatus=received`), e.g.
 * `MessageSid=SM…&From=%2B14155550100&To=%2B14155550199&Body=STOP&OptOutType=STOP&…`.
 */
export const IncomingMessage = z.object({
  MessageSid: Sid,
  AccountSid: OptionalText,
  MessagingServiceSid: OptionalText,
  /** The person who wrote (E.164; `whatsapp:+…` and similar for other channels). */
  From: NonEmptyText,
  /** Our number, short code or sender that received it. */
  To: NonEmptyText,
  /** Absent or empty for a media-only MMS. */
  Body: z._default(z.string(), ''),
  SmsStatus: OptionalText,
  /** `STOP`, `START` or `HELP`: sent only by Messaging Services with Advanced Opt-Out enabled. */
  OptOutType: OptionalText,
});
export type IncomingMessage = z.infer<typeof IncomingMessage>;

/**
 * A message status callback, e.g.
 * `MessageSid=SM…&MessageStatus=undelivered&To=%2B14155550100&ErrorCode=30003&…`.
 */
export const StatusCallback = z.object({
  MessageSid: Sid,
  AccountSid: OptionalText,
  /** queued, sending, sent, delivered, undelivered, failed, read, accepted, scheduled, canceled, … */
  MessageStatus: NonEmptyText,
  /** The recipient of our message: the person. */
  To: OptionalText,
  From: OptionalText,
  /** Twilio error code (e.g. 30003 unreachable handset) on undelivered/failed. */
  ErrorCode: OptionalText,
});
export type StatusCallback = z.infer<typeof StatusCallback>;
