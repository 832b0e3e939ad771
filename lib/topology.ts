/**
 * The one topology: every table, route, bus rule, queue and consumer of the hub, declared once.
 *
 * The CDK construct (`lib/integration-hub.ts`) builds AWS resources from it; the local hub
 * (`local/`) wires its emulators from it. There is no second list of routes, rules or queues.
 */

import { connectors } from '../connectors/index.ts';
import type { ConnectorDefinition } from '../core/connector.ts';
import { RAW_STREAM_PREFIX_ENV } from '../core/ingest/raw-archive.ts';
import { RAW_RETENTION_ENV } from '../core/ingest/retention.ts';
import { PROFILE_API, type ProfileApiFunction } from '../core/profile/api.ts';
import {
  redeliveryPolicyOf,
  resolveDestination,
  resolveSyncConfig,
  SYNC_CONFIG_ENV,
  type SyncConfig,
  type SyncConfigInput,
} from '../core/sync/config.ts';
import { maxReceiveCountFor } from '../core/sync/redelivery.ts';
import {
  idempotencyTable,
  profileTable,
  quarantineTable,
  syncStateTable,
  type TableDefinition,
} from '../core/tables.ts';

/** Names of the environment variables through which functions find their resources. */
export const ENV = {
  busName: 'OMNIHUB_BUS_NAME',
  publicUrl: 'OMNIHUB_PUBLIC_URL',
  secretArn: 'OMNIHUB_SECRET_ARN',
  rawStreamPrefix: RAW_STREAM_PREFIX_ENV,
  rawRetentionDays: RAW_RETENTION_ENV,
} as const;

/**
 * The raw archive's streams of a bus are `<bus name>-raw-<connector id>`: one Firehose Direct PUT
 * stream per connector, named alike in AWS (`omnihub-prod-raw-shopify`) and locally.
 */
export function rawStreamPrefix(busName: string): string {
  return `${busName}-raw-`;
}

/** `put`: new items only (PutItem), for a function that records and never reads back (ingest's quarantine). */
export type TableAccess = 'read' | 'readwrite' | 'put';

/** What a function may touch: the topology grants exactly this and nothing else. */
export interface FunctionAccess {
  /** Table ids and the access needed. */
  readonly tables?: Readonly<Record<string, TableAccess>>;
  /** Whether it may PutEvents on the bus. */
  readonly publishes?: boolean;
  /**
   * The connector whose raw archive stream it may put records on (ingest: every verified delivery
   * as received, `core/ingest/raw-archive.ts`).
   */
  readonly archivesRaw?: string;
}

export interface FunctionDefinition extends FunctionAccess {
  /**
   * Lambda entry module, relative to the repository root (the compiled package resolves it to the `.js`
   * in `dist/`, lib/bundling.ts), or an absolute path for a function of your own; exports `handler`.
   */
  readonly entry: string;
  /** @default 256 */
  readonly memoryMiB?: number;
  /** @default 10 */
  readonly timeoutSeconds?: number;
  /**
   * The connector whose Secrets Manager secret the function reads (`OMNIHUB_SECRET_ARN` in AWS), and
   * the names it needs from it.
   */
  readonly secret?: { readonly connector: string; readonly names: readonly string[] };
  /** Extra environment variables (in AWS; the local hub runs every function in one environment). */
  readonly environment?: Readonly<Record<string, string>>;
}

/** An event pattern in EventBridge syntax. */
export type EventPattern = Readonly<Record<string, unknown>>;

export interface QueueDefinition {
  /** How long an unconsumed message is kept. @default 4 days (SQS's default) */
  readonly retentionSeconds?: number;
  /** @default 6 × the consumer's timeout (AWS's advice for SQS event sources) */
  readonly visibilityTimeoutSeconds?: number;
  /** Receives before a message moves to the DLQ. @default 5 */
  readonly maxReceiveCount?: number;
  /** @default 10 */
  readonly batchSize?: number;
  /** @default 1 */
  readonly maxBatchingWindowSeconds?: number;
}

/** A consumer of canonical events: bus rule -> SQS queue (+DLQ) -> Lambda with partial batch failures. */
export interface ConsumerDefinition extends FunctionDefinition {
  readonly id: string;
  readonly description: string;
  /** The EventBridge rule's pattern, matched against the full EventBridge event. */
  readonly pattern: EventPattern;
  readonly queue?: QueueDefinition;
  /** The function sends refused messages to its own DLQ (with the reason) and may look its queues up. */
  readonly deadLettersItself?: boolean;
  /** Set on sync consumers: the connector whose system they push profile changes to. */
  readonly destination?: string;
}

/** A route of the hub's own HTTP API, in API Gateway route-key syntax (`{name}` path parameters). */
export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
}

/**
 * A function behind routes of the hub's own API (not webhooks): IAM (SigV4) authorization in AWS;
 * locally the hub serves them on its loopback listener without authorization.
 */
export interface ApiFunctionDefinition extends FunctionDefinition {
  readonly id: string;
  readonly description: string;
  readonly routes: readonly ApiRoute[];
}

/** `POST /webhooks/<connector>` -> the connector's ingest function. */
export interface IngestRoute extends FunctionDefinition {
  readonly connector: ConnectorDefinition;
  readonly method: 'POST';
  readonly path: string;
}

export interface Topology {
  readonly bus: { readonly name: string; readonly archiveRetentionDays: number };
  readonly tables: readonly TableDefinition[];
  readonly ingest: readonly IngestRoute[];
  readonly consumers: readonly ConsumerDefinition[];
  readonly api: readonly ApiFunctionDefinition[];
}

/**
 * The sync consumer of a connector with an outbound part (`sync-<connector>`): one queue per
 * destination, so a failing destination never delays the others. The rule takes the configured
 * profile events, and drops at the bus every `profile.updated` that the destination itself caused
 * (its own webhooks, its echoes, its external-id write-back).
 *
 * A change the destination keeps failing comes back through the queue for `delivery.retryFor`
 * (core/sync/redelivery.ts), and the consumer dead-letters it itself once that runs out; so the
 * queue's redrive allows every receive that takes plus a few (a poison message that crashes the
 * function still reaches the DLQ), and it keeps messages a day longer than `retryFor` (for a backlog
 * before the first receive), never less than SQS's default.
 */
export function syncConsumer(connector: ConnectorDefinition, config: SyncConfig): ConsumerDefinition {
  if (!connector.outbound) throw new Error(`connector ${connector.id} has no outbound part`);
  const destination = resolveDestination(config, connector.id, connector.outbound);
  const redelivery = redeliveryPolicyOf(config.delivery);
  const alternatives: Record<string, unknown>[] = [];
  if (destination.events.includes('profile.updated'))
    alternatives.push({
      'detail-type': ['profile.updated'],
      detail: { data: { causedBy: { connector: [{ 'anything-but': connector.id }] } } },
    });
  if (destination.events.includes('profile.merged')) alternatives.push({ 'detail-type': ['profile.merged'] });
  return {
    id: `sync-${connector.id}`,
    destination: connector.id,
    description: `Keeps ${connector.name} in step with the unified profile (fan-out sync, docs/sync.md).`,
    entry: `connectors/${connector.id}/sync.ts`,
    pattern: { source: ['omnihub.profiles'], $or: alternatives },
    tables: { [profileTable.id]: 'read', [syncStateTable.id]: 'readwrite' },
    publishes: true,
    secret: { connector: connector.id, names: Object.keys(connector.outbound.secrets) },
    deadLettersItself: true,
    environment: { [SYNC_CONFIG_ENV]: JSON.stringify(config) },
    timeoutSeconds: 30,
    queue: {
      batchSize: 10,
      maxReceiveCount: maxReceiveCountFor(redelivery),
      retentionSeconds: Math.max(
        DEFAULTS.queueRetentionSeconds,
        Math.ceil(redelivery.retryForMs / 1000) + 86_400,
      ),
    },
  };
}

/** The sync consumers of every connector with an outbound part, except the destinations turned off. */
function syncConsumers(config: SyncConfig): ConsumerDefinition[] {
  return Object.values(connectors)
    .filter((connector) => connector.outbound && config.destinations[connector.id]?.enabled !== false)
    .map((connector) => syncConsumer(connector, config));
}

/** Default values shared by both runtimes. */
export const DEFAULTS = {
  memoryMiB: 256,
  timeoutSeconds: 10,
  maxReceiveCount: 5,
  batchSize: 10,
  maxBatchingWindowSeconds: 1,
  /** SQS's default retention for consumer queues. */
  queueRetentionSeconds: 4 * 86_400,
  /** 14 days, SQS's maximum: dead letters must outlive the source queue's retention. */
  deadLetterRetentionSeconds: 14 * 86_400,
} as const;

export function ingestRoute(connector: ConnectorDefinition): IngestRoute {
  return {
    connector,
    method: 'POST',
    path: `/webhooks/${connector.id}`,
    entry: `connectors/${connector.id}/handler.ts`,
    tables: { [idempotencyTable.id]: 'readwrite', [quarantineTable.id]: 'put' },
    publishes: true,
    archivesRaw: connector.id,
  };
}

/** How long a consumer's queue keeps a message. */
export function retentionOf(consumer: ConsumerDefinition): number {
  return consumer.queue?.retentionSeconds ?? DEFAULTS.queueRetentionSeconds;
}

/** The queue's visibility timeout, from the consumer's own timeout when not given. */
export function visibilityTimeoutOf(consumer: ConsumerDefinition): number {
  return consumer.queue?.visibilityTimeoutSeconds ?? 6 * (consumer.timeoutSeconds ?? DEFAULTS.timeoutSeconds);
}

/** The profile API's routes (declared in core/profile/api.ts) that one of its two functions serves. */
function profileRoutesServedBy(served: ProfileApiFunction): ApiRoute[] {
  return Object.values(PROFILE_API)
    .filter((route) => route.servedBy === served)
    .map(({ method, path }) => ({ method, path }));
}

/**
 * The topology with the default sync configuration (core/sync/config.ts); {@link createTopology} builds
 * it with another. Nothing here reads a file or the environment.
 */
export const topology: Topology = {
  bus: { name: 'omnihub', archiveRetentionDays: 30 },
  tables: [idempotencyTable, profileTable, syncStateTable, quarantineTable],
  ingest: Object.values(connectors).map(ingestRoute),
  consumers: [
    {
      id: 'profile-writer',
      description:
        'Resolves identities and folds every person-bearing canonical event into the unified profile.',
      entry: 'functions/profile-writer.ts',
      pattern: {
        source: [{ prefix: 'omnihub.' }],
        'detail-type': [{ 'anything-but': { prefix: 'profile.' } }],
      },
      tables: { [profileTable.id]: 'readwrite' },
      publishes: true,
      timeoutSeconds: 30,
      queue: { batchSize: 10, maxReceiveCount: 5 },
    },
    ...syncConsumers(resolveSyncConfig({}, 'the default sync configuration')),
  ],
  api: [
    {
      id: 'profile-api',
      description: 'Profile API (read): a profile by id or identity, and its timeline.',
      entry: 'functions/profile-api.ts',
      tables: { [profileTable.id]: 'read' },
      routes: profileRoutesServedBy('read'),
    },
    {
      id: 'profile-erasure',
      description: 'Profile API (erasure): deletes a person and announces profile.erased.',
      entry: 'functions/profile-api.ts',
      tables: { [profileTable.id]: 'readwrite' },
      publishes: true,
      timeoutSeconds: 30,
      routes: profileRoutesServedBy('erasure'),
    },
  ],
};

export interface TopologyOptions {
  /**
   * Overrides of the fan-out sync configuration (docs/sync.md): which events reach which destination,
   * fields, ownership, rate limits, delivery.
   * @default the defaults of core/sync/config.ts
   */
  readonly sync?: SyncConfigInput;
}

/**
 * The topology with the given sync configuration: the default {@link topology} with its sync consumers
 * (rules, `OMNIHUB_SYNC_CONFIG`, destinations turned off) built from `sync`.
 *
 * @throws SyncConfigError naming the offending path of `sync`.
 * @example
 * createTopology({ sync: { destinations: { shopify: { enabled: false } }, owners: { company: 'hubspot' } } });
 */
export function createTopology(options: TopologyOptions = {}): Topology {
  if (options.sync === undefined) return topology;
  const sync = resolveSyncConfig(options.sync, 'sync');
  return {
    ...topology,
    consumers: [...topology.consumers.filter((consumer) => !consumer.destination), ...syncConsumers(sync)],
  };
}

/** Which connectors receive webhooks and which destinations are synced; omitted means all. */
export interface TopologySelection {
  readonly connectors?: readonly string[];
  readonly destinations?: readonly string[];
}

/**
 * The topology with only the selected webhook connectors and sync destinations.
 *
 * @throws Error naming an id the topology does not have.
 * @example
 * selectTopology(topology, { connectors: ['shopify', 'twilio'], destinations: ['hubspot'] });
 */
export function selectTopology(of: Topology, selection: TopologySelection): Topology {
  const known = (kind: string, ids: readonly string[] | undefined, available: readonly string[]) => {
    const unknown = (ids ?? []).filter((id) => !available.includes(id));
    if (unknown.length > 0) {
      throw new Error(
        `unknown ${kind} ${unknown.join(', ')}; the topology has ${available.join(', ') || 'none'}`,
      );
    }
    return ids === undefined ? undefined : new Set(ids);
  };
  const connectorIds = known(
    'connector',
    selection.connectors,
    of.ingest.map((route) => route.connector.id),
  );
  const destinationIds = known(
    'destination',
    selection.destinations,
    of.consumers.flatMap((consumer) => (consumer.destination ? [consumer.destination] : [])),
  );
  return {
    ...of,
    ingest: connectorIds ? of.ingest.filter((route) => connectorIds.has(route.connector.id)) : of.ingest,
    consumers: destinationIds
      ? of.consumers.filter((consumer) => !consumer.destination || destinationIds.has(consumer.destination))
      : of.consumers,
  };
}
