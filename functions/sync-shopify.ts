/** Consumer: keeps shopify in step with the unified profile (see core/sync/consumer.ts). */
import { shopifyOutbound } from '../connectors/shopify/outbound.ts';
import { syncHandler } from '../core/sync/consumer.ts';

export const handler = syncHandler('shopify', shopifyOutbound);
