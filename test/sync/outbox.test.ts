/**
 * A destination without credentials, on the local hub: what it would have sent goes to the outbox
 * (`$OMNIHUB_OUTBOX_DIR/<destination>.jsonl`, served at `GET /local/outbox/<destination>`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWebhookKeys, signWebhook, type WebhookKeys } from '../../demo/vendor-webhooks.ts';
import { type LocalHub, startLocalHub } from '../../local/hub.ts';

const PUBLIC_URL = 'https://hooks.example.com';
let hub: LocalHub;
let keys: WebhookKeys;

beforeAll(async () => {
  keys = generateWebhookKeys(PUBLIC_URL);
  hub = await startLocalHub({
    port: 0,
    dataDir: ':memory:',
    log: () => {},
    env: { ...keys.secrets, OMNIHUB_PUBLIC_URL: PUBLIC_URL },
  });
});
afterAll(() => hub?.stop());

describe('Local outbox', () => {
  it('shows the requests each unconfigured destination would have sent', async () => {
    const body = JSON.stringify({
      id: 820000000009,
      email: 'grace@example.com',
      first_name: 'Grace',
      last_name: 'Hopper',
      phone: '+14155550123',
      created_at: '2025-04-22T14:30:00-05:00',
      updated_at: '2025-04-22T14:30:00-05:00',
    });
    const signed = signWebhook(
      {
        connector: 'shopify',
        body,
        headers: {
          'X-Shopify-Topic': 'customers/create',
          'X-Shopify-Event-Id': 'ev-outbox-1',
          'X-Shopify-Webhook-Id': 'wh-outbox-1',
        },
      },
      keys,
    );
    expect(
      (await fetch(`${hub.url}${signed.path}`, { method: 'POST', headers: signed.headers, body })).status,
    ).toBe(200);
    await hub.drain();

    const hubspot = (await (await fetch(`${hub.url}/local/outbox/hubspot`)).json()) as {
      count: number;
      requests: { method: string; path: string; body: unknown }[];
    };
    expect(hubspot.count).toBe(1);
    expect(hubspot.requests[0]).toMatchObject({
      destination: 'hubspot',
      method: 'POST',
      path: '/crm/v3/objects/contacts/batch/upsert',
      body: {
        inputs: [
          {
            idProperty: 'email',
            id: 'grace@example.com',
            properties: {
              firstname: 'Grace',
              lastname: 'Hopper',
              email: 'grace@example.com',
              phone: '+14155550123',
            },
          },
        ],
      },
    });
    expect(JSON.stringify(hubspot)).not.toMatch(/authorization|Bearer/i);
    const shopify = (await (await fetch(`${hub.url}/local/outbox/shopify`)).json()) as { count: number };
    expect(shopify.count).toBe(0); // the change came from Shopify: nothing goes back there
    const square = (await (await fetch(`${hub.url}/local/outbox/square`)).json()) as { count: number };
    expect(square.count).toBe(1);

    const bad = await fetch(`${hub.url}/local/outbox/..%2Fetc`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'bad_request' });
  });
});
