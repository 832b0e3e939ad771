/**
 * The Lambda entry of Shopify's sync consumer (`sync-shopify`, see core/sync/consumer.ts): keeps Shopify
 * in step with the unified profile. It imports the outbound part alone, not the definition in
 * `index.ts`, so the inbound schemas and translators stay out of this bundle.
 */
import { syncHandler } from '../../core/sync/consumer.ts';
import { shopifyOutbound } from './outbound.ts';

export const handler = syncHandler('shopify', shopifyOutbound);
