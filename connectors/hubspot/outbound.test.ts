/**
 * HubSpot outbound, asserted exactly: the profile -> the record HubSpot is sent -> its HTTP requests,
 * through the real vendor client to the fake HubSpot API (`fake-api.ts`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentDeliveryError } from '../../core/sync/vendor-client.ts';
import { clientFor, optedOut, profileItem, recordFor } from '../../test/support/sync.ts';
import { FakeHubSpot } from './fake-api.ts';
import { hubspotOutbound } from './outbound.ts';

const NOW = new Date('2025-05-01T12:00:00.000Z');

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
