/** Omnihub as a library: the hub construct, its stack, and the topology both are built from. */
export {
  type DeliveryRetry,
  IntegrationHub,
  type IntegrationHubProps,
  TopologyError,
  type WebhookThrottle,
} from './integration-hub.ts';
export { OmnihubStack, type OmnihubStackProps } from './stack.ts';
export type { ConsumerDefinition, IngestRoute, TableDefinition, Topology } from './topology.ts';
export { topology } from './topology.ts';
