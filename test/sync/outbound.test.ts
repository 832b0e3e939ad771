/**
 * Outbound mappings, asserted exactly: the profile -> each destination's record -> the vendor's HTTP
 * requests, sent through the real vendor client to the fake vendor APIs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubspotOutbound } from '../../connectors/hubspot/outbound.ts';
import { sendgridOutbound } from '../../connectors/sendgrid/outbound.ts';
import { CUSTOMER_SET, EMAIL_CONSENT_UPDATE, shopifyOutbound } from '../../connectors/shopify/outbound.ts';
import { SQUARE_VERSION, squareOutbound } from '../../connectors/square/outbound.ts';
import { toProfileView } from '../../core/profile/reader.ts';
import type { ProfileItem } from '../../core/profile/store.ts';
import { resolveDestination, SyncConfig } from '../../core/sync/config.ts';
import type { OutboundDefinition, SyncRecord } from '../../core/sync/destination.ts';
import { buildSyncRecord } from '../../core/sync/record.ts';
import { PermanentDeliveryError } from '../../core/sync/vendor-client.ts';
import { FakeHubSpot } from '../fakes/hubspot.ts';
import { FakeSendGrid } from '../fakes/sendgrid.ts';
import { FakeShopify } from '../fakes/shopify.ts';
import { FakeSquare } from '../fakes/square.ts';
import { clientFor, profileItem, stamped } from './support.ts';

const NOW = new Date('2025-05-01T12:00:00.000Z');

function recordFor(id: string, outbound: OutboundDefinition, item: ProfileItem, overrides = {}): SyncRecord {
  const config = SyncConfig.parse(overrides);
  return buildSyncRecord(toProfileView(item), resolveDestination(config, id, outbound), config);
}

const optedOut = profileItem({
  consent: {
    email: stamped({ status: 'unsubscribed' as const, reason: 'unsubscribe' }, 'sendgrid'),
    sms: stamped({ status: 'unsubscribed' as const, reason: 'STOP' }, 'twilio'),
    'email/group:42': stamped({ status: 'unsubscribed' as const }, 'sendgrid'),
  },
});

describe('Outbound: hubspot', () => {
  const fake = new FakeHubSpot('hs-token');
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());
  const client = () => clientFor(hubspotOutbound, fake.url, { HUBSPOT_ACCESS_TOKEN: 'hs-token' });

  it('upserts by email with names, phone, address, stats, and returns the new contact id', async () => {
    const record = recordFor('hubspot', hubspotOutbound, profileItem());
    const result = await hubspotOutbound.deliver(record, {
      client: client(),
      idempotencyKey: 'k',
      options: {},
      now: NOW,
    });
    const request = fake.requests.at(-1);
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/crm/v3/objects/contacts/batch/upsert');
    expect(request?.headers.authorization).toBe('Bearer hs-token');
    expect(request?.body).toEqual({
      inputs: [
        {
          idProperty: 'email',
          id: 'ada@example.com',
          properties: {
            firstname: 'Ada',
            lastname: 'Lovelace',
            email: 'ada@example.com',
            phone: '+14155550100',
            address: '1 Analytical Way',
            city: 'London',
            country: 'GB',
            omnihub_order_count: '2',
            omnihub_total_revenue: '199.00',
            omnihub_last_order_at: '2025-04-20T09:00:00.000Z',
          },
        },
      ],
    });
    expect(result).toEqual({ calls: 1, externalId: '1001' });
  });

  it('updates by the stored HubSpot id and writes opt-outs to the consent properties', async () => {
    const record = recordFor('hubspot', hubspotOutbound, optedOut);
    await hubspotOutbound.deliver(record, {
      client: client(),
      externalId: '1001',
      idempotencyKey: 'k',
      options: {},
      now: NOW,
    });
    const input = (fake.requests.at(-1)?.body as { inputs: Record<string, unknown>[] } | undefined)
      ?.inputs[0];
    expect(input).toMatchObject({ idProperty: 'hs_object_id', id: '1001' });
    expect(input?.properties).toMatchObject({
      omnihub_email_consent: 'unsubscribed',
      omnihub_sms_consent: 'unsubscribed',
    });
  });

  it('turns HubSpot VALIDATION_ERROR into a permanent error carrying the reason', async () => {
    const strict = await new FakeHubSpot('hs-token', { properties: ['email', 'firstname'] }).start();
    try {
      const record = recordFor('hubspot', hubspotOutbound, profileItem());
      const attempt = hubspotOutbound.deliver(record, {
        client: clientFor(hubspotOutbound, strict.url, { HUBSPOT_ACCESS_TOKEN: 'hs-token' }),
        idempotencyKey: 'k',
        options: {},
        now: NOW,
      });
      await expect(attempt).rejects.toBeInstanceOf(PermanentDeliveryError);
      await expect(attempt).rejects.toThrow('HTTP 400: VALIDATION_ERROR: Property "lastname" does not exist');
      expect(strict.requests).toHaveLength(1); // a 400 is never retried
    } finally {
      await strict.stop();
    }
  });

  it('a wrong token is a permanent 401', async () => {
    const record = recordFor('hubspot', hubspotOutbound, profileItem());
    const wrong = clientFor(hubspotOutbound, fake.url, { HUBSPOT_ACCESS_TOKEN: 'nope' });
    await expect(
      hubspotOutbound.deliver(record, { client: wrong, idempotencyKey: 'k', options: {}, now: NOW }),
    ).rejects.toThrow('HTTP 401: INVALID_AUTHENTICATION: Authentication credentials not found.');
  });
});

describe('Outbound: shopify', () => {
  const fake = new FakeShopify('shpat-token');
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());
  const client = () =>
    clientFor(shopifyOutbound, fake.apiUrl, {
      SHOPIFY_ADMIN_TOKEN: 'shpat-token',
      SHOPIFY_SHOP_DOMAIN: 'x.myshopify.com',
    });

  it('customerSet by email, then the email and SMS opt-out mutations', async () => {
    const record = recordFor('shopify', shopifyOutbound, optedOut);
    const result = await shopifyOutbound.deliver(record, {
      client: client(),
      idempotencyKey: 'k',
      options: {},
      now: NOW,
    });
    const [set, email, sms] = fake.requests.slice(-3);
    expect(set?.headers['x-shopify-access-token']).toBe('shpat-token');
    expect(set?.body).toEqual({
      query: CUSTOMER_SET,
      variables: {
        identifier: { email: 'ada@example.com' },
        input: { email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', phone: '+14155550100' },
      },
    });
    expect(email?.body).toEqual({
      query: EMAIL_CONSENT_UPDATE,
      variables: {
        input: {
          customerId: 'gid://shopify/Customer/7000000001',
          emailMarketingConsent: { marketingState: 'UNSUBSCRIBED' },
        },
      },
    });
    expect(sms?.body).toMatchObject({
      variables: { input: { smsMarketingConsent: { marketingState: 'UNSUBSCRIBED' } } },
    });
    expect(result).toEqual({ calls: 3, externalId: '7000000001' });
    expect(fake.customers.get('7000000001')).toMatchObject({
      emailMarketingState: 'UNSUBSCRIBED',
      smsMarketingState: 'UNSUBSCRIBED',
    });
  });

  it('userErrors are permanent', async () => {
    const record = recordFor('shopify', shopifyOutbound, profileItem());
    await expect(
      shopifyOutbound.deliver(record, {
        client: client(),
        externalId: '999',
        idempotencyKey: 'k',
        options: {},
        now: NOW,
      }),
    ).rejects.toThrow('NOT_FOUND: Customer does not exist');
  });
});

describe('Outbound: square', () => {
  const fake = new FakeSquare('sq-token');
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());
  const client = () => clientFor(squareOutbound, fake.url, { SQUARE_ACCESS_TOKEN: 'sq-token' });

  it('creates with an idempotency key and the profile id as reference, then updates by id', async () => {
    const record = recordFor('square', squareOutbound, profileItem());
    const created = await squareOutbound.deliver(record, {
      client: client(),
      idempotencyKey: 'key-1',
      options: {},
      now: NOW,
    });
    const create = fake.requests.at(-1);
    expect(create?.headers['square-version']).toBe(SQUARE_VERSION);
    expect(create?.body).toEqual({
      idempotency_key: 'key-1',
      given_name: 'Ada',
      family_name: 'Lovelace',
      email_address: 'ada@example.com',
      phone_number: '+14155550100',
      address: { address_line_1: '1 Analytical Way', locality: 'London', country: 'GB' },
      reference_id: 'p_ada',
    });
    expect(created).toEqual({ calls: 1, externalId: 'SQ0000000001' });

    // A retried creation (same key) gets the same customer back: no duplicate.
    const again = await squareOutbound.deliver(record, {
      client: client(),
      idempotencyKey: 'key-1',
      options: {},
      now: NOW,
    });
    expect(again.externalId).toBe('SQ0000000001');
    expect(fake.customers.size).toBe(1);

    await squareOutbound.deliver(record, {
      client: client(),
      externalId: 'SQ0000000001',
      idempotencyKey: 'key-1',
      options: {},
      now: NOW,
    });
    expect(fake.requests.at(-1)).toMatchObject({ method: 'PUT', path: '/v2/customers/SQ0000000001' });
    expect(fake.requests.at(-1)?.body).not.toHaveProperty('idempotency_key');
  });

  it('leaves out a free-text country Square would refuse', async () => {
    const item = profileItem();
    const record = recordFor('square', squareOutbound, {
      ...item,
      traits: { ...item.traits, 'address.country': stamped('United Kingdom', 'hubspot') },
    });
    await squareOutbound.deliver(record, {
      client: client(),
      idempotencyKey: 'key-2',
      options: {},
      now: NOW,
    });
    expect(fake.requests.at(-1)?.status).toBe(200);
    expect((fake.requests.at(-1)?.body as { address: unknown } | undefined)?.address).toEqual({
      address_line_1: '1 Analytical Way',
      locality: 'London',
    });
  });
});

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

describe('Field ownership', () => {
  const item = profileItem();
  const withCompany = (source: string): ProfileItem => ({
    ...item,
    traits: { ...item.traits, company: stamped('Analytical Engines Ltd', source) },
  });

  it('the owner (HubSpot, by default for company) is never sent the field', () => {
    expect(recordFor('hubspot', hubspotOutbound, withCompany('hubspot')).fields.company).toBeUndefined();
  });

  it('others receive the owner value, not another system value', () => {
    expect(recordFor('square', squareOutbound, withCompany('hubspot')).fields.company).toBe(
      'Analytical Engines Ltd',
    );
    expect(recordFor('square', squareOutbound, withCompany('shopify')).fields.company).toBeUndefined();
  });

  it('overwrite in the configuration lets a destination receive it anyway', () => {
    const record = recordFor('square', squareOutbound, withCompany('shopify'), {
      destinations: { square: { overwrite: ['company'] } },
    });
    expect(record.fields.company).toBe('Analytical Engines Ltd');
  });

  it('fields left out of the configuration are not sent', () => {
    const record = recordFor('square', squareOutbound, item, {
      destinations: { square: { fields: ['email'] } },
    });
    expect(record.fields).toEqual({ email: 'ada@example.com' });
  });
});
