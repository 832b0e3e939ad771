import { redactPersonalData } from '../redact.ts';

/** Message attributes a sync dead letter carries: what `omnihub dlq list` shows. */
export const DLQ_ATTRIBUTES = {
  reason: 'omnihub.error',
  status: 'omnihub.status',
  destination: 'omnihub.destination',
  failedAt: 'omnihub.failedAt',
  sourceQueue: 'omnihub.sourceQueueArn',
} as const;

/** The longest reason kept (SQS attribute values may be far longer; a reason needs no more). */
const MAX_REASON_LENGTH = 1000;

/**
 * The reason a dead letter carries, from the error that refused it: vendors quote what they refused
 * ("Email address ana@example.com is invalid"), and the reason is shown to operators and kept for
 * days, so it holds no email or phone number. Redacted before it is cut, so no address is cut short of
 * being recognised.
 *
 * @example
 * deadLetterReason('HTTP 400: INVALID_EMAIL: Email address ana@example.com is invalid');
 * // 'HTTP 400: INVALID_EMAIL: Email address [email] is invalid'
 */
export function deadLetterReason(message: string): string {
  return redactPersonalData(message).slice(0, MAX_REASON_LENGTH);
}
