/**
 * The Lambda entry of HubSpot's sync consumer (`sync-hubspot`, see core/sync/consumer.ts): keeps HubSpot
 * in step with the unified profile. It imports the outbound part alone, not the definition in
 * `index.ts`, so the inbound schemas and translators stay out of this bundle.
 */
import { syncHandler } from '../../core/sync/consumer.ts';
import { hubspotOutbound } from './outbound.ts';

export const handler = syncHandler('hubspot', hubspotOutbound);
