/**
 * Shopify `customers/create` and `customers/update` webhooks, signed as Shopify signs them and posted
 * to a local hub: how the sync tests change a profile from outside, as a shop would.
 */
import { expect } from 'vitest';
import { signWebhook, type WebhookKeys } from '../../demo/vendor-webhooks.ts';

export interface ShopifyCustomer {
  readonly id: number;
  readonly email: string;
  readonly first: string;
  readonly last: string;
  readonly phone: string;
  /** Shopify's `updated_at`: the time of the change, which orders changes to the same field. */
  readonly updatedAt: string;
}

let webhookCounter = 0;

/** Posts the webhook to the hub and expects it accepted (200). */
export async function postShopifyCustomer(
  hubUrl: string,
  keys: WebhookKeys,
  topic: 'customers/create' | 'customers/update',
  customer: ShopifyCustomer,
): Promise<void> {
  webhookCounter++;
  const body = JSON.stringify({
    id: customer.id,
    email: customer.email,
    first_name: customer.first,
    last_name: customer.last,
    phone: customer.phone,
    state: 'enabled',
    verified_email: true,
    currency: 'USD',
    addresses: [],
    default_address: null,
    created_at: '2025-04-22T14:30:00-05:00',
    updated_at: customer.updatedAt,
    admin_graphql_api_id: `gid://shopify/Customer/${customer.id}`,
  });
  const signed = signWebhook(
    {
      connector: 'shopify',
      body,
      headers: {
        'X-Shopify-Topic': topic,
        'X-Shopify-Shop-Domain': 'omnihub-demo.myshopify.com',
        'X-Shopify-API-Version': '2025-10',
        'X-Shopify-Webhook-Id': `wh-${webhookCounter}`,
        'X-Shopify-Event-Id': `ev-${webhookCounter}`,
        'X-Shopify-Triggered-At': customer.updatedAt,
      },
    },
    keys,
  );
  const response = await fetch(`${hubUrl}${signed.path}`, { method: 'POST', headers: signed.headers, body });
  expect(response.status, await response.text()).toBe(200);
}
