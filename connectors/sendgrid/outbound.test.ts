/**
 * SendGrid outbound, asserted exactly: the profile -> the record SendGrid is sent -> its HTTP requests,
 * through the real vendor client to the fake SendGrid API (`fake-api.ts`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientFor, optedOut, profileItem, recordFor, stamped } from '../../test/support/sync.ts';
import { FakeSendGrid } from './fake-api.ts';
import { sendgridOutbound } from './outbound.ts';

const NOW = new Date('2025-05-01T12:00:00.000Z');

describe('Outbound: sendgrid', () => {
  const fake = new FakeSendGrid('SG.key');
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());
  const client = () => clientFor(sendgridOutbound, fake.url, { SENDGRID_API_KEY: 'SG.key' });

  it('upserts the marketing contact with names, phone and address', async () => {
    const record = recordFor('sendgrid', sendgridOutbound, profileItem());
    const result = await sendgridOutbound.deliver(record, {
      client: client(),
      idempotencyKey: 'k',
      options: { listIds: ['list-1'], customFields: { orderCount: 'e1_N' } },
      now: NOW,
    });
    expect(fake.requests.at(-1)).toMatchObject({
      method: 'PUT',
      path: '/v3/marketing/contacts',
      status: 202,
    });
    expect(fake.requests.at(-1)?.body).toEqual({
      list_ids: ['list-1'],
      contacts: [
        {
          email: 'ada@example.com',
          first_name: 'Ada',
          last_name: 'Lovelace',
          phone_number: '+14155550100',
          address_line_1: '1 Analytical Way',
          city: 'London',
          country: 'GB',
          custom_fields: { e1_N: 2 },
        },
      ],
    });
    expect(result).toEqual({ calls: 1 });
  });

  it('an opted-out person is suppressed globally and per group, and never upserted as a marketing contact', async () => {
    const before = fake.requests.length;
    const record = recordFor('sendgrid', sendgridOutbound, optedOut);
    const result = await sendgridOutbound.deliver(record, {
      client: client(),
      idempotencyKey: 'k',
      options: {},
      now: NOW,
    });
    const sent = fake.requests.slice(before);
    expect(sent.map((request) => `${request.method} ${request.path}`)).toEqual([
      'POST /v3/asm/suppressions/global',
      'POST /v3/asm/groups/42/suppressions',
    ]);
    expect(sent[0]?.body).toEqual({ recipient_emails: ['ada@example.com'] });
    expect(result).toEqual({ calls: 2 });
    expect(fake.globalSuppressions.has('ada@example.com')).toBe(true);
  });

  it('an SMS opt-out keeps the phone number out of SendGrid', async () => {
    const record = recordFor(
      'sendgrid',
      sendgridOutbound,
      profileItem({ consent: { sms: stamped({ status: 'unsubscribed' as const }, 'twilio') } }),
    );
    await sendgridOutbound.deliver(record, { client: client(), idempotencyKey: 'k', options: {}, now: NOW });
    const contact = (fake.requests.at(-1)?.body as { contacts: Record<string, unknown>[] } | undefined)
      ?.contacts[0];
    expect(contact).not.toHaveProperty('phone_number');
    expect(contact).toMatchObject({ email: 'ada@example.com', first_name: 'Ada' });
  });
});
