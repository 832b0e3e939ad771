/**
 * Shopify outbound, asserted exactly: the profile -> the record Shopify is sent -> its HTTP requests,
 * through the real vendor client to the fake Shopify API (`fake-api.ts`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientFor, optedOut, profileItem, recordFor } from '../../test/support/sync.ts';
import { FakeShopify } from './fake-api.ts';
import { CUSTOMER_SET, EMAIL_CONSENT_UPDATE, shopifyOutbound } from './outbound.ts';

const NOW = new Date('2025-05-01T12:00:00.000Z');

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

  it('GraphQL THROTTLED (HTTP 200) is retried after the bucket refills', async () => {
    const shopify = await new FakeShopify('shpat').start();
    try {
      shopify.misbehave({
        status: 200,
        body: {
          errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }],
          extensions: {
            cost: { requestedQueryCost: 10, throttleStatus: { currentlyAvailable: 0, restoreRate: 100 } },
          },
        },
      });
      const throttled = clientFor(shopifyOutbound, shopify.apiUrl, {
        SHOPIFY_ADMIN_TOKEN: 'shpat',
        SHOPIFY_SHOP_DOMAIN: 'x',
      });
      const response = await throttled.request({
        method: 'POST',
        path: '/graphql.json',
        body: {
          query:
            'mutation customerSet($input: CustomerSetInput!) { customerSet(input: $input) { customer { id } } }',
          variables: { input: { email: 'a@example.com' } },
        },
      });
      expect(response.status).toBe(200);
      expect(shopify.requests).toHaveLength(2);
      expect(shopify.customers.size).toBe(1);
    } finally {
      await shopify.stop();
    }
  });
});
