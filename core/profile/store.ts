/**
 * The profile table (single-table design; see docs/data-model.md):
 *
 * | item            | pk                    | sk                         |
 * |-----------------|-----------------------|----------------------------|
 * | identity pointer| `ID#<identity key>`   | `ID`                       |
 * | profile         | `P#<profileId>`       | `P`                        |
 * | timeline entry  | `P#<profileId>`       | `T#<occurredAt>#<eventId>` |
 *
 * Every write is a conditional single-item write; there are no transactions (dynalite has none and
 * they cost twice as much). Correctness comes from versions, idempotent steps and redirects.
 */
import { DynamoDocumentClient, isConditionFailed } from '../aws/dynamodb.ts';
import type { ProfileContent, Stats } from './model.ts';

export type ProfileStatus = 'live' | 'merged';

export interface ProfileItem extends ProfileContent {
  readonly profileId: string;
  readonly status: ProfileStatus;
  /** Set when merged: the profile this one now redirects to. */
  readonly mergedInto?: string;
  /** Incremented by every write; writes are conditional on the version read. */
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly stats: Stats;
}

export interface TimelineEntry {
  readonly eventId: string;
  readonly type: string;
  readonly occurredAt: string;
  readonly connector: string;
  readonly summary: Record<string, unknown>;
}

export class VersionConflictError extends Error {
  override readonly name = 'VersionConflictError';
}

/** Attempts of {@link ProfileStore.claimPointer} while the pointer keeps vanishing under it. */
const MAX_CLAIMS = 5;

const pointerKey = (identity: string) => ({ pk: `ID#${identity}`, sk: 'ID' });
const profileKey = (profileId: string) => ({ pk: `P#${profileId}`, sk: 'P' });
const timelineKey = (profileId: string, occurredAt: string, eventId: string) => ({
  pk: `P#${profileId}`,
  sk: `T#${occurredAt}#${eventId}`,
});

export interface ProfileStoreOptions {
  readonly tableName: string;
  /** @default a {@link DynamoDocumentClient} configured from the environment (no AWS SDK) */
  readonly client?: DynamoDocumentClient;
  /** Days a timeline entry is kept (DynamoDB TTL). @default 365 */
  readonly timelineRetentionDays?: number;
}

export class ProfileStore {
  readonly #db: DynamoDocumentClient;
  readonly #table: string;
  readonly #retentionDays: number;

  constructor(options: ProfileStoreOptions) {
    this.#db = options.client ?? new DynamoDocumentClient();
    this.#table = options.tableName;
    this.#retentionDays = options.timelineRetentionDays ?? 365;
  }

  /**
   * Pointer targets for identity keys. Strongly consistent unless asked otherwise (a claim just made
   * must be seen); an eventually consistent read costs half and suits a guess that a conditional
   * write will check.
   */
  async getPointers(
    identities: readonly string[],
    options: { readonly consistent?: boolean } = {},
  ): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const unique = [...new Set(identities)];
    if (unique.length === 0) return found;
    const { Items } = await this.#db.batchGet({
      TableName: this.#table,
      Keys: unique.map(pointerKey),
      ConsistentRead: options.consistent ?? true,
    });
    for (const item of Items) found.set(String(item.pk).slice(3), String(item.profileId));
    return found;
  }

  /** A profile item; strongly consistent unless asked otherwise (see getPointers). */
  async getProfile(
    profileId: string,
    options: { readonly consistent?: boolean } = {},
  ): Promise<ProfileItem | undefined> {
    const result = await this.#db.get({
      TableName: this.#table,
      Key: profileKey(profileId),
      ConsistentRead: options.consistent ?? true,
    });
    if (!result.Item) return undefined;
    const { pk: _pk, sk: _sk, ...item } = result.Item;
    return item as ProfileItem;
  }

  /** Creates an empty live profile if it does not exist yet (idempotent). */
  async createProfile(profile: ProfileItem): Promise<void> {
    try {
      await this.#db.put({
        TableName: this.#table,
        Item: { ...profileKey(profile.profileId), ...profile },
        ConditionExpression: 'attribute_not_exists(pk)',
      });
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }

  /**
   * Writes a profile if nobody wrote it since `expectedVersion` was read and it is still live: a
   * redirect (`merged`) never changes once written, since its content has been or will be folded
   * into the survivor, and anything written to it afterwards would be lost.
   */
  async putProfile(profile: ProfileItem, expectedVersion: number): Promise<void> {
    try {
      await this.#db.put({
        TableName: this.#table,
        Item: { ...profileKey(profile.profileId), ...profile },
        ConditionExpression: '#version = :expected AND #status = :live',
        ExpressionAttributeNames: { '#version': 'version', '#status': 'status' },
        ExpressionAttributeValues: { ':expected': expectedVersion, ':live': 'live' },
      });
    } catch (error) {
      if (isConditionFailed(error)) throw new VersionConflictError(profile.profileId);
      throw error;
    }
  }

  /**
   * Points an identity at a profile unless it already points somewhere; returns the owner. When the
   * owner's pointer is deleted between the refused write and the read of the owner (it led to a
   * profile that no longer exists), the claim is made again: answering `profileId` there would claim
   * an identity that points elsewhere or nowhere, and what the caller then wrote would be unreachable.
   */
  async claimPointer(identity: string, profileId: string): Promise<string> {
    for (let attempt = 0; attempt < MAX_CLAIMS; attempt++) {
      try {
        await this.#db.put({
          TableName: this.#table,
          Item: { ...pointerKey(identity), profileId },
          ConditionExpression: 'attribute_not_exists(pk)',
        });
        return profileId;
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        const owner = (await this.getPointers([identity])).get(identity);
        if (owner !== undefined) return owner;
      }
    }
    throw new VersionConflictError('an identity pointer keeps changing owner');
  }

  /** Moves a pointer from a merged profile to its survivor (no-op if it moved already). */
  async repointPointer(identity: string, from: string, to: string): Promise<void> {
    try {
      await this.#db.update({
        TableName: this.#table,
        Key: pointerKey(identity),
        UpdateExpression: 'SET profileId = :to',
        ConditionExpression: 'profileId = :from',
        ExpressionAttributeValues: { ':from': from, ':to': to },
      });
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }

  /** Deletes a pointer if it still points at `profileId`. */
  async deletePointer(identity: string, profileId: string): Promise<void> {
    try {
      await this.#db.delete({
        TableName: this.#table,
        Key: pointerKey(identity),
        ConditionExpression: 'profileId = :owner',
        ExpressionAttributeValues: { ':owner': profileId },
      });
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }

  /**
   * Deletes a profile item. With `onlyIfVersion`, only if nobody wrote it since (used to drop a
   * profile created for an event that lost the race for its identity); returns whether it deleted.
   */
  async deleteProfile(profileId: string, options: { onlyIfVersion?: number } = {}): Promise<boolean> {
    try {
      await this.#db.delete({
        TableName: this.#table,
        Key: profileKey(profileId),
        ...(options.onlyIfVersion !== undefined
          ? {
              ConditionExpression: '#version = :expected',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':expected': options.onlyIfVersion },
            }
          : {}),
      });
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  /** Records a timeline entry; the event id in the sort key makes a replay overwrite, not duplicate. */
  async putTimeline(profileId: string, entry: TimelineEntry): Promise<void> {
    const expiresAt = Math.floor(Date.parse(entry.occurredAt) / 1000) + this.#retentionDays * 86_400;
    await this.#db.put({
      TableName: this.#table,
      Item: { ...timelineKey(profileId, entry.occurredAt, entry.eventId), ...entry, expiresAt },
    });
  }

  /**
   * Whether the timeline of any of these profile items holds an entry for this event (one
   * strongly consistent `BatchGetItem` of keys): an event is recorded under the profile that was live
   * when it was applied, which a later merge may have folded into another.
   */
  async hasTimelineEntry(
    profileIds: readonly string[],
    occurredAt: string,
    eventId: string,
  ): Promise<boolean> {
    const { Items } = await this.#db.batchGet({
      TableName: this.#table,
      Keys: [...new Set(profileIds)].map((id) => timelineKey(id, occurredAt, eventId)),
      ConsistentRead: true,
      ProjectionExpression: 'pk',
    });
    return Items.length > 0;
  }

  /**
   * Timeline entries of one profile item, newest first; `before` (a sort key this method returned
   * as `next`) continues strictly after it. `next` is set when the page was full.
   */
  async queryTimeline(
    profileId: string,
    options: { limit: number; before?: string },
  ): Promise<{ entries: TimelineEntry[]; next?: string }> {
    const result = await this.#db.query({
      TableName: this.#table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :t)',
      ExpressionAttributeValues: { ':pk': `P#${profileId}`, ':t': 'T#' },
      ScanIndexForward: false,
      Limit: options.limit,
      ...(options.before ? { ExclusiveStartKey: { pk: `P#${profileId}`, sk: options.before } } : {}),
    });
    const entries = result.Items.map(
      ({ pk: _pk, sk: _sk, expiresAt: _e, ...entry }) => entry as TimelineEntry,
    );
    const last = result.Items.at(-1);
    return { entries, ...(result.LastEvaluatedKey && last ? { next: String(last.sk) } : {}) };
  }

  /** Deletes every timeline entry of a profile item (erasure). */
  async deleteTimeline(profileId: string): Promise<number> {
    let deleted = 0;
    const pages = this.#db.queryPages({
      TableName: this.#table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :t)',
      ExpressionAttributeValues: { ':pk': `P#${profileId}`, ':t': 'T#' },
      ProjectionExpression: 'pk, sk',
    });
    for await (const page of pages) {
      for (const item of page.Items) {
        await this.#db.delete({ TableName: this.#table, Key: { pk: item.pk, sk: item.sk } });
        deleted++;
      }
    }
    return deleted;
  }
}
