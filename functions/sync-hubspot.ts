/** Consumer: keeps hubspot in step with the unified profile (see core/sync/consumer.ts). */
import { hubspotOutbound } from '../connectors/hubspot/outbound.ts';
import { syncHandler } from '../core/sync/consumer.ts';

export const handler = syncHandler('hubspot', hubspotOutbound);
