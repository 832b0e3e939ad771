/** What a consumer makes of a queue message: the envelope of an EventBridge event, or a permanent refusal. */
import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../core/errors.ts';
import { envelopeOfMessage } from '../../core/events/envelope.ts';
import { canonical, email } from '../profile/events.ts';

describe('envelopeOfMessage', () => {
  it('returns the canonical envelope in the detail of an EventBridge event', () => {
    const envelope = canonical('customer.upserted', {
      connector: 'shopify',
      at: '2025-01-01T00:00:00.000Z',
      identities: [email('a@x.io')],
      data: { system: 'shopify', externalId: '1', traits: {} },
    });
    const body = JSON.stringify({ version: '0', 'detail-type': envelope.type, detail: envelope });
    expect(envelopeOfMessage(body)).toEqual(envelope);
  });

  it.each([
    ['not JSON', '{'],
    ['JSON null', 'null'],
    ['no detail', '{"version":"0"}'],
    ['a detail that is not an envelope', '{"detail":{"type":"x"}}'],
  ])('refuses %s for good (the message goes to the DLQ, never retried)', (_, body) => {
    expect(() => envelopeOfMessage(body)).toThrow(PermanentError);
  });
});
