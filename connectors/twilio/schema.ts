/**
 * Twilio Programmable Messaging webhook parameters (incoming message and status callback), as the
 * flat string map Twilio posts. Lenient on purpose: Twilio adds parameters without notice, so unknown
 * keys are kept and only the fields the translators read are declared.
 */
import * as z from 'zod';

const Sid = z.string().min(1);

/**
 * An incoming message (`SmsStatus=received`), e.g.
 * `MessageSid=SM…&From=%2B14155550100&To=%2B14155550199&Body=STOP&OptOutType=STOP&…`.
 */
export const IncomingMessage = z.looseObject({
  MessageSid: Sid,
  AccountSid: z.string().optional(),
  MessagingServiceSid: z.string().optional(),
  /** The person who wrote (E.164; `whatsapp:+…` and similar for other channels). */
  From: z.string().min(1),
  /** Our number, short code or sender that received it. */
  To: z.string().min(1),
  /** Absent or empty for a media-only MMS. */
  Body: z.string().default(''),
  SmsStatus: z.string().optional(),
  /** `STOP`, `START` or `HELP`: sent only by Messaging Services with Advanced Opt-Out enabled. */
  OptOutType: z.string().optional(),
});
export type IncomingMessage = z.infer<typeof IncomingMessage>;

/**
 * A message status callback, e.g.
 * `MessageSid=SM…&MessageStatus=undelivered&To=%2B14155550100&ErrorCode=30003&…`.
 */
export const StatusCallback = z.looseObject({
  MessageSid: Sid,
  AccountSid: z.string().optional(),
  /** queued, sending, sent, delivered, undelivered, failed, read, accepted, scheduled, canceled, … */
  MessageStatus: z.string().min(1),
  /** The recipient of our message: the person. */
  To: z.string().optional(),
  From: z.string().optional(),
  /** Twilio error code (e.g. 30003 unreachable handset) on undelivered/failed. */
  ErrorCode: z.string().optional(),
});
export type StatusCallback = z.infer<typeof StatusCallback>;
