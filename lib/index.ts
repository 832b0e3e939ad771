/** Omnihub as a library: the hub construct, its stack, and the topology both are built from. */

export { type SyncConfig, SyncConfigError, type SyncConfigInput } from '../core/sync/config.ts';
export type { TableDefinition } from '../core/tables.ts';
export { Analytics, type AnalyticsProps } from './analytics.ts';
export {
  type CustomDomain,
  type DeliveryRetry,
  type HubAnalyticsOptions,
  HubSettingsError,
  IntegrationHub,
  type IntegrationHubProps,
  TopologyError,
  type WebhookThrottle,
} from './integration-hub.ts';
export { HubMonitoring, type HubMonitoringProps, type MonitoredHub } from './monitoring.ts';
export { OmnihubStack, type OmnihubStackProps } from './stack.ts';
export type {
  ApiFunctionDefinition,
  ConsumerDefinition,
  IngestRoute,
  Topology,
  TopologyOptions,
  TopologySelection,
} from './topology.ts';
export { createTopology, selectTopology, topology } from './topology.ts';
