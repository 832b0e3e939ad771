/**
 * The hub's DynamoDB tables: their keys, TTL attribute and the env var that carries each table's name
 * to the functions granted access. Declared here, below everything that reads them: the topology
 * (`lib/topology.ts`) lists them for the CDK stack and the local hub, analytics and tests name them.
 */

export type AttributeType = 'S' | 'N';

export interface TableDefinition {
  /** Logical id; also the table name in the local hub. */
  readonly id: string;
  /** Env var that carries the table name to the functions granted access. */
  readonly envVar: string;
  readonly description: string;
  readonly partitionKey: { readonly name: string; readonly type: AttributeType };
  readonly sortKey?: { readonly name: string; readonly type: AttributeType };
  /** Attribute holding an epoch-seconds expiry (DynamoDB TTL). */
  readonly ttlAttribute?: string;
  readonly globalSecondaryIndexes?: ReadonlyArray<{
    readonly indexName: string;
    readonly partitionKey: { readonly name: string; readonly type: AttributeType };
    readonly sortKey?: { readonly name: string; readonly type: AttributeType };
  }>;
}

export const idempotencyTable: TableDefinition = {
  id: 'idempotency',
  envVar: 'OMNIHUB_IDEMPOTENCY_TABLE',
  description: 'Powertools idempotency records: one per vendor delivery (and per element of a batch).',
  partitionKey: { name: 'id', type: 'S' },
  ttlAttribute: 'expiration',
};

export const profileTable: TableDefinition = {
  id: 'profiles',
  envVar: 'OMNIHUB_PROFILE_TABLE',
  description:
    'Unified profiles, identity pointers, timelines (single-table design, see docs/data-model.md).',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  ttlAttribute: 'expiresAt',
};

export const syncStateTable: TableDefinition = {
  id: 'sync-state',
  envVar: 'OMNIHUB_SYNC_STATE_TABLE',
  description:
    'What each sync destination last received per profile (record hash, its id for the person): idempotent deliveries.',
  partitionKey: { name: 'pk', type: 'S' },
  ttlAttribute: 'expiresAt',
};

export const quarantineTable: TableDefinition = {
  id: 'quarantine',
  envVar: 'OMNIHUB_QUARANTINE_TABLE',
  description:
    'Verified deliveries that failed their schema or translator, with the reason: one item per <connector>#<deliveryId>, kept rawRetentionDays (core/ingest/quarantine.ts).',
  partitionKey: { name: 'pk', type: 'S' },
  ttlAttribute: 'expiresAt',
};
