/**
 * Square outbound, asserted exactly: the profile -> the record Square is sent -> its HTTP requests,
 * through the real vendor client to the fake Square API (`fake-api.ts`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientFor, profileItem, recordFor, stamped } from '../../test/support/sync.ts';
import { FakeSquare } from './fake-api.ts';
import { SQUARE_VERSION, squareOutbound } from './outbound.ts';

const NOW = new Date('2025-05-01T12:00:00.000Z');

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
