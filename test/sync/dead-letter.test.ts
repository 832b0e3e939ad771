/** The reason a sync dead letter carries: what `omnihub dlq list` shows operators, kept for days. */
import { describe, expect, it } from 'vitest';
import { deadLetterReason } from '../../core/sync/dead-letter.ts';

describe('Sync: dead-letter reasons', () => {
  it.each([
    ['Email address x@example.com is invalid', 'Email address [email] is invalid'],
    [
      'HTTP 400: VALIDATION_ERROR: Property values were not valid: [{"message":"Email address Ana.Lopez@Example.com is invalid"}]',
      'HTTP 400: VALIDATION_ERROR: Property values were not valid: [{"message":"Email address [email] is invalid"}]',
    ],
    [
      'HTTP 400: INVALID_PHONE_NUMBER: +44 20 7946 0958 is not a mobile number',
      'HTTP 400: INVALID_PHONE_NUMBER: [phone] is not a mobile number',
    ],
    [
      'HTTP 422: customer with email bo.x%40ex%C3%A4mple.de exists',
      'HTTP 422: customer with email [email] exists',
    ],
    [
      'HTTP 400: VALIDATION_ERROR: Property "lastname" does not exist',
      'HTTP 400: VALIDATION_ERROR: Property "lastname" does not exist',
    ],
  ])('keeps no personal data: %s', (message, reason) => {
    expect(deadLetterReason(message)).toBe(reason);
  });

  it('redacts before it cuts, so an address at the limit is not cut short of being recognised', () => {
    const message = `${'x'.repeat(990)} ana.lopez@example.com`;
    const reason = deadLetterReason(message);
    expect(reason).toBe(`${'x'.repeat(990)} [email]`);
    expect(deadLetterReason('y'.repeat(5000))).toHaveLength(1000);
  });
});
