/**
 * The connector registry: adding a connector is one folder under `connectors/` and one line here.
 */
import type { ConnectorDefinition } from '../core/connector.ts';
import hubspot from './hubspot/index.ts';
import sendgrid from './sendgrid/index.ts';
import shopify from './shopify/index.ts';
import square from './square/index.ts';
import twilio from './twilio/index.ts';

export const connectors: Readonly<Record<string, ConnectorDefinition>> = {
  hubspot,
  sendgrid,
  shopify,
  square,
  twilio,
};
