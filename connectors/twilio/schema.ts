/**
 * Twilio Programmable Messaging webhook parameters (incoming message and status callback), as the
 * flat string map Twilio posts. Lenient on purpose: Twilio adds parameters without notice, so unknown
 * keys are kept and only the fields the translators read are declared.
 */
import * as z from 'zod/mini';
import '../../core/zod-messages.ts';

const Sid = z.string().check(z.minLength(1));

/**
 * An incoming message (`SmsStatus=received`), e.g.
 * `MessageSid=SM…&From=%2B14155550100&To=%2B14155550199&Body=STOP&OptOutType=STOP&…`.
 */
export const IncomingMessage = z.looseObject({
  MessageSid: Sid,
  AccountSid: z.optional(z.string()),
  MessagingServiceSid: z.optional(z.string()),
  /** The person who wrote (E.164; `whatsapp:+…` and similar for other channels). */
  From: z.string().check(z.minLength(1)),
  /** Our number, short code or sender that received it. */
  To: z.string().check(z.minLength(1)),
  /** Absent or empty for a media-only MMS. */
  Body: z._default(z.string(), ''),
  SmsStatus: z.optional(z.string()),
  /** `STOP`, `START` or `HELP`: sent only by Messaging Services with Advanced Opt-Out enabled. */
  OptOutType: z.optional(z.string()),
});
export type IncomingMessage = z.infer<typeof IncomingMessage>;

/**
 * A message status callback, e.g.
 * `MessageSid=SM…&MessageStatus=undelivered&To=%2B14155550100&ErrorCode=30003&…`.
 */
export const StatusCallback = z.looseObject({
  MessageSid: Sid,
  AccountSid: z.optional(z.string()),
  /** queued, sending, sent, delivered, undelivered, failed, read, accepted, scheduled, canceled, … */
  MessageStatus: z.string().check(z.minLength(1)),
  /** The recipient of our message: the person. */
  To: z.optional(z.string()),
  From: z.optional(z.string()),
  /** Twilio error code (e.g. 30003 unreachable handset) on undelivered/failed. */
  ErrorCode: z.optional(z.string()),
});
export type StatusCallback = z.infer<typeof StatusCallback>;
