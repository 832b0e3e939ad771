/**
 * Shopify: customers, orders, refunds, checkouts and marketing consent from a store's webhooks.
 * See README.md for registering the webhooks and what each topic becomes.
 */
import { defineConnector } from '../../core/connector.ts';
import { parseShopifyWebhook, SYSTEM, shopifyTopics } from './inbound.ts';
import { shopifyOutbound } from './outbound.ts';
import { SECRET_NAME, verifyShopifyWebhook } from './verify.ts';

/**
 * Large orders (hundreds of lines with tax lines, discount allocations and properties) can pass the
 * default 1 MiB; 4 MiB stays well below Lambda's 6 MB synchronous payload limit.
 */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * The Shopify connector definition.
 *
 * @example
 * // connectors/index.ts
 * import shopify from './shopify/index.ts';
 * export const connectors = { shopify };
 */
export default defineConnector({
  id: SYSTEM,
  name: 'Shopify',
  category: 'ecommerce',
  secrets: {
    [SECRET_NAME]:
      "The app's client secret (Shopify Dev Dashboard or Partner Dashboard > your app > Settings > Client secret; " +
      'for a custom app made in the store admin: Settings > Apps and sales channels > Develop apps > API credentials > ' +
      'API secret key). Webhooks added by hand under Settings > Notifications > Webhooks are signed with the key shown ' +
      'on that page instead.',
  },
  inbound: {
    contentTypes: ['application/json'],
    maxBodyBytes: MAX_BODY_BYTES,
    verify: verifyShopifyWebhook,
    parse: parseShopifyWebhook,
    topics: shopifyTopics,
  },
  outbound: shopifyOutbound,
});
