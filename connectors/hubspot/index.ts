/**
 * HubSpot (CRM): contact webhooks from a HubSpot app's webhooks API subscriptions.
 *
 * @example
 * // connectors/index.ts
 * import hubspot from './hubspot/index.ts';
 * export const connectors = { hubspot };
 */
import { defineConnector } from '../../core/connector.ts';
import { parseHubSpotBatch, SYSTEM, topics } from './inbound.ts';
import { hubspotOutbound } from './outbound.ts';
import { verifyHubSpotSignature } from './verify.ts';

export default defineConnector({
  id: SYSTEM,
  name: 'HubSpot',
  category: 'crm',
  secrets: {
    HUBSPOT_CLIENT_SECRET:
      "The HubSpot app's client secret (developer account > Apps > your app > Auth > Client secret); it signs every webhook request",
  },
  inbound: {
    contentTypes: ['application/json'],
    verify: verifyHubSpotSignature,
    parse: parseHubSpotBatch,
    topics,
  },
  outbound: hubspotOutbound,
});
