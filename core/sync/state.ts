/**
 * What each destination last received for each profile: a hash of the record and the destination's
 * id for the person. It makes deliveries idempotent (a redelivered or echoed event whose record is
 * unchanged causes no call) and bridges the moment between a destination creating a record and the
 * profile writer attaching its id (so a second event does not create a duplicate).
 *
 * Table `sync-state` (topology): pk `<destination>#<profileId>`, TTL `expiresAt`.
 */
import { DynamoDocumentClient } from '../aws/dynamodb.ts';

export interface SyncState {
  /** sha-256 of the canonical JSON of the last record delivered. */
  readonly hash: string;
  readonly externalId?: string;
  readonly syncedAt: string;
}

export interface SyncStateStore {
  get(destination: string, profileId: string): Promise<SyncState | undefined>;
  put(destination: string, profileId: string, state: SyncState): Promise<void>;
}

export interface DynamoSyncStateStoreOptions {
  readonly tableName: string;
  /** @default a {@link DynamoDocumentClient} configured from the environment (no AWS SDK) */
  readonly client?: DynamoDocumentClient;
  /** @default 400 days: a record unchanged for longer is sent once more, which is harmless. */
  readonly retentionDays?: number;
}

export class DynamoSyncStateStore implements SyncStateStore {
  readonly #db: DynamoDocumentClient;
  readonly #table: string;
  readonly #retentionDays: number;

  constructor(options: DynamoSyncStateStoreOptions) {
    this.#db = options.client ?? new DynamoDocumentClient();
    this.#table = options.tableName;
    this.#retentionDays = options.retentionDays ?? 400;
  }

  async get(destination: string, profileId: string): Promise<SyncState | undefined> {
    const result = await this.#db.get({
      TableName: this.#table,
      Key: { pk: `${destination}#${profileId}` },
      ConsistentRead: true,
    });
    if (!result.Item) return undefined;
    const { hash, externalId, syncedAt } = result.Item as Record<string, unknown>;
    return {
      hash: String(hash),
      syncedAt: String(syncedAt),
      ...(typeof externalId === 'string' ? { externalId } : {}),
    };
  }

  async put(destination: string, profileId: string, state: SyncState): Promise<void> {
    const expiresAt = Math.floor(Date.parse(state.syncedAt) / 1000) + this.#retentionDays * 86_400;
    await this.#db.put({
      TableName: this.#table,
      Item: { pk: `${destination}#${profileId}`, ...state, expiresAt },
    });
  }
}

/** An in-memory store for unit tests of the engine. */
export class MemorySyncStateStore implements SyncStateStore {
  readonly states = new Map<string, SyncState>();
  async get(destination: string, profileId: string): Promise<SyncState | undefined> {
    return this.states.get(`${destination}#${profileId}`);
  }
  async put(destination: string, profileId: string, state: SyncState): Promise<void> {
    this.states.set(`${destination}#${profileId}`, state);
  }
}
