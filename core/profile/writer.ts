/**
 * Folds canonical events into unified profiles: resolves identities to one live profile (creating or
 * merging as needed), applies the event, records it on the timeline and announces changes.
 *
 * No multi-item transactions: each step is a conditional single-item write that is safe to repeat.
 * - A merge first marks the younger profile `merged` with a redirect (so readers and writers move to
 *   the survivor), then folds its content into the survivor, then re-points its identities. If the
 *   process stops in between, the next writer that follows the redirect finds the survivor without
 *   the merged id in `mergedFrom` and completes the fold (readers only follow it: reader.ts).
 * - Profile writes are conditional on the version read and on the profile still being live; on
 *   conflict the whole resolution reruns.
 * - Identity pointers are claimed with `attribute_not_exists`, so one identity never belongs to two
 *   live profiles: the loser of a race sees the owner and merges instead.
 * - Redirects never change once written. A redirect whose target no longer exists (the creator of a
 *   new profile dropped it after losing a pointer race, just as a concurrent merge chose it as
 *   survivor) was never folded: the survivor is created again, empty, under its id and with the
 *   `createdAt` the redirect recorded, and the merge completes into it as any interrupted merge does,
 *   so nothing the merged profile held is lost.
 */
import { createHash } from 'node:crypto';
import type { EventPublisher } from '../aws/publisher.ts';
import { RetryableError } from '../errors.ts';
import { deterministicEventId, type Envelope } from '../events/envelope.ts';
import { dataSchemaUri } from '../events/versions.ts';
import type { Identity } from '../identity/identity.ts';
import { identitiesFromKeys, identityKey } from '../identity/identity.ts';
import { retry } from '../retry.ts';
import {
  changedPaths,
  changesStampedBy,
  emptyContent,
  foldEvent,
  type MergeRecord,
  mergeContent,
  orderKey,
  type ProfileContent,
  statsOf,
  withoutIdentity,
} from './model.ts';
import { type ProfileItem, type ProfileStore, VersionConflictError } from './store.ts';

const MAX_ATTEMPTS = 12;
const MAX_REDIRECTS = 16;

/**
 * Internal pointers that let an order's later events (a refund without identities) find the
 * profile: by order id, and by payment id where the vendor refunds a payment (Square refunds name a
 * return order, not the sale's order).
 */
export function orderPointers(event: Envelope): string[] {
  if (!event.type.startsWith('order.')) return [];
  const data = event.data as { orderId?: unknown; paymentId?: unknown };
  const connector = event.origin.connector;
  return [
    ...(typeof data.orderId === 'string' ? [`order:${orderKey(connector, data.orderId)}`] : []),
    ...(typeof data.paymentId === 'string' ? [`payment:${connector}:${data.paymentId}`] : []),
  ];
}

export interface ApplyResult {
  /** The live profile the event was applied to; undefined when it names nobody. */
  readonly profileId?: string;
  readonly changed: boolean;
  readonly merged: readonly string[];
}

interface MergedItem extends ProfileItem {
  readonly mergeReason?: MergeRecord;
  /**
   * The survivor's `createdAt` when the redirect was written, so that a survivor created again (see
   * {@link ProfileWriter.resolve}) sorts exactly where it did: merges pick the older profile, and a
   * writer holding an earlier read of the merged profile must pick the same survivor, or two
   * redirects could lead into each other.
   */
  readonly survivorCreatedAt?: string;
}

class Restart extends Error {}

function shortHash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 26);
}

export class ProfileWriter {
  constructor(
    private readonly store: ProfileStore,
    private readonly publisher?: EventPublisher,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async apply(event: Envelope): Promise<ApplyResult> {
    if (event.type === 'customer.deleted') return this.#removeIdentity(event);
    const identities = event.identities.map(identityKey);
    const lookup = [...identities, ...orderPointers(event)];
    if (lookup.length === 0) return { changed: false, merged: [] };

    return retry(
      async (attempt) => {
        if (attempt === 1) {
          const known = await this.#applyToKnownPerson(event, identities, lookup);
          if (known) return known;
        }
        return this.#applyOnce(event, identities, lookup);
      },
      {
        attempts: MAX_ATTEMPTS,
        // A few ms, growing linearly: concurrent writers of one person drift apart without delaying a batch.
        backoff: (failures) => 5 * failures,
        retryable: (error) => error instanceof Restart || error instanceof VersionConflictError,
        giveUp: () =>
          new RetryableError(
            `profile for event ${event.id} is under heavy contention; retry`,
            503,
            'profile_contention',
          ),
      },
    );
  }

  /**
   * The common case, cheaply: the event names a person whose profile already holds every one of its
   * identities. One eventually consistent pointer read and one eventually consistent profile read
   * (1 RCU for a profile up to 4 KB) instead of a consistent read of every pointer. A stale read is
   * harmless: the profile write is conditional on the version read, so it fails and the full
   * resolution runs. Undefined when the shortcut does not apply (unknown or new identities, a merge,
   * or an event that would change nothing, which a stale read cannot tell from a real no-op).
   */
  async #applyToKnownPerson(
    event: Envelope,
    identities: string[],
    lookup: string[],
  ): Promise<ApplyResult | undefined> {
    const primary = identities[0];
    if (primary === undefined) return undefined;
    const owner = (await this.store.getPointers([primary], { consistent: false })).get(primary);
    if (owner === undefined) return undefined;
    const profile = await this.store.getProfile(owner, { consistent: false });
    if (profile?.status !== 'live') return undefined;
    const held = new Set(profile.identities);
    if (!identities.every((key) => held.has(key))) return undefined;
    const content = foldEvent(profile, event, identities);
    if (content === profile) return undefined;
    // Order and payment pointers the profile does not hold yet are claimed before the write (as the
    // full resolution does); one owned by someone else sends the event down the full path.
    const orders = new Set(Object.keys(profile.orders).map((key) => `order:${key}`));
    for (const key of lookup) {
      if (held.has(key) || orders.has(key)) continue;
      if ((await this.store.claimPointer(key, profile.profileId)) !== profile.profileId) return undefined;
    }
    return this.#commit(profile, content, event, []);
  }

  async #applyOnce(event: Envelope, identities: string[], lookup: string[]): Promise<ApplyResult> {
    const pointers = await this.store.getPointers(lookup);
    const live = new Map<string, ProfileItem>();
    /** Identity key -> the live profile it leads to (through any redirect). */
    const liveOwner = new Map<string, string>();
    for (const owner of new Set(pointers.values())) {
      const profile = await this.resolve(owner);
      if (profile) {
        live.set(profile.profileId, profile);
        for (const [key, target] of pointers) if (target === owner) liveOwner.set(key, profile.profileId);
      } else {
        // A pointer to a profile that no longer exists (erased, or dropped after losing a race):
        // remove it so the identity can be claimed again.
        for (const [key, target] of pointers)
          if (target === owner) await this.store.deletePointer(key, owner);
        throw new Restart();
      }
    }

    let target: ProfileItem;
    let created = false;
    const merged: string[] = [];
    if (live.size === 0) {
      if (identities.length === 0) {
        // e.g. a refund whose order has not arrived yet: let the queue bring it back later.
        throw new RetryableError('event names no known person yet', 503, 'profile_not_found_yet');
      }
      target = this.#newProfile(`p_${shortHash(event.id, identities[0] ?? '')}`);
      await this.store.createProfile(target);
      // A redelivery of this event may have created it first, and a merge may have redirected it since.
      target = (await this.store.getProfile(target.profileId)) ?? target;
      if (target.status !== 'live') throw new Restart();
      created = true;
    } else if (live.size === 1) {
      target = [...live.values()][0] as ProfileItem;
    } else {
      // Each merged profile is recorded with the identity of this event that led to it.
      const linkedBy = (profileId: string) => lookup.find((key) => liveOwner.get(key) === profileId) ?? '';
      target = await this.#mergeAll(
        [...live.values()],
        { eventId: event.id, at: event.occurredAt },
        linkedBy,
        merged,
        event.correlationId,
      );
    }

    for (const key of lookup) {
      const owner = pointers.get(key);
      if (owner === undefined) {
        const winner = await this.store.claimPointer(key, target.profileId);
        if (winner !== target.profileId) {
          // Drop the profile made for this event unless someone already merged into it.
          if (created) await this.store.deleteProfile(target.profileId, { onlyIfVersion: 0 });
          throw new Restart();
        }
      } else if (owner !== target.profileId) {
        await this.store.repointPointer(key, owner, target.profileId);
      }
    }

    // No re-read: pointers are separate items, and the write below is conditional on this version.
    return this.#commit(target, foldEvent(target, event, identities), event, merged);
  }

  /**
   * Writes the folded content (conditional on the version read), announces what changed, and records
   * the event on the timeline.
   *
   * The bus can refuse an announcement after the profile was written; the event then goes back to the
   * queue, and its redelivery folds to nothing. So the timeline entry is written last, as the receipt
   * that the event's announcements went out: a redelivery without one announces again, under the same
   * ids, what the event set and still holds the stamp of (`changesStampedBy`) and the merges it caused
   * that this attempt did not announce. The receipt may sit under a profile merged into this one since.
   * Only a redelivery of an event that set something pays the receipt's read.
   */
  async #commit(
    current: ProfileItem,
    content: ProfileContent,
    event: Envelope,
    merged: string[],
  ): Promise<ApplyResult> {
    // Never into a redirect: its content has been folded into the survivor, and this would be lost.
    if (current.status !== 'live') throw new Restart();
    const written = content !== current;
    let changes = written ? changedPaths(current, content) : changesStampedBy(current, event);
    const changed = written && (Object.keys(changes).length > 0 || merged.length > 0);
    let mergesOwed = content.mergeHistory.filter(
      (record) => record.eventId === event.id && !merged.includes(record.merged),
    );
    if (written) {
      await this.store.putProfile(this.#withContent(current, content), current.version);
    } else if (
      (Object.keys(changes).length > 0 || mergesOwed.length > 0) &&
      (await this.store.hasTimelineEntry(
        [current.profileId, ...current.mergedFrom],
        event.occurredAt,
        event.id,
      ))
    ) {
      changes = {};
      mergesOwed = [];
    }
    if (Object.keys(changes).length > 0) {
      await this.#announce(
        'profile.updated',
        current.profileId,
        event,
        identitiesFromKeys(content.identities),
        {
          profileId: current.profileId,
          changes,
          causedBy: { eventId: event.id, connector: event.origin.connector },
        },
      );
    }
    for (const record of mergesOwed) {
      const loser = await this.store.getProfile(record.merged);
      await this.#announceMerge(current.profileId, loser?.identities ?? [], record, event.correlationId);
    }
    await this.store.putTimeline(current.profileId, {
      eventId: event.id,
      type: event.type,
      occurredAt: event.occurredAt,
      connector: event.origin.connector,
      summary: summarize(event),
    });
    return { profileId: current.profileId, changed, merged };
  }

  /**
   * The live profile behind an id, following merge redirects to the live end of the chain and
   * completing any fold that was interrupted after its redirect was written (folding into the live
   * end, even when the intermediate survivor has itself been merged since). Undefined when the id
   * leads nowhere (erased, or dropped after losing a race).
   */
  async resolve(profileId: string): Promise<ProfileItem | undefined> {
    return retry(() => this.#resolveOnce(profileId), {
      // The first read and up to MAX_ATTEMPTS restarts, at once: each reads the chain afresh.
      attempts: MAX_ATTEMPTS + 1,
      backoff: () => 0,
      retryable: (error) => error instanceof Restart,
    });
  }

  async #resolveOnce(profileId: string): Promise<ProfileItem | undefined> {
    const chain: MergedItem[] = [];
    let item = (await this.store.getProfile(profileId)) as MergedItem | undefined;
    while (item && item.status === 'merged' && item.mergedInto) {
      if (chain.length >= MAX_REDIRECTS) throw new Error(`redirect chain from ${profileId} is too long`);
      chain.push(item);
      item = (await this.store.getProfile(item.mergedInto)) as MergedItem | undefined;
    }
    if (!item) {
      const orphan = chain.at(-1);
      if (orphan?.mergedInto) await this.#recreateSurvivor(orphan.mergedInto, orphan);
      return undefined;
    }
    let live: ProfileItem = item;
    for (const merged of chain) {
      if (live.mergedFrom.includes(merged.profileId)) continue;
      const reason = merged.mergeReason ?? {
        merged: merged.profileId,
        eventId: 'unknown',
        identity: '',
        at: merged.updatedAt,
      };
      await this.#fold(live.profileId, merged, { ...reason, merged: merged.profileId });
      const refreshed = await this.store.getProfile(live.profileId);
      if (refreshed?.status !== 'live') throw new Restart();
      live = refreshed;
    }
    return live;
  }

  /**
   * Creates again, empty, the survivor a redirect leads to when it no longer exists, then restarts the
   * resolution, which completes the merge into it. The redirect was never folded: a fold writes the
   * survivor, and the only deletes are an erasure and a creator dropping its profile at version 0
   * after losing the race for a pointer, which a concurrent merge may have chosen as survivor between
   * writing its redirect and folding. The redirect itself is left as it is: a writer that read it may
   * be folding it right now, and only the survivor's version arbitrates between folds.
   */
  async #recreateSurvivor(survivorId: string, orphan: MergedItem): Promise<never> {
    await this.store.createProfile({
      ...this.#newProfile(survivorId),
      createdAt: orphan.survivorCreatedAt ?? orphan.createdAt,
    });
    throw new Restart();
  }

  async #mergeAll(
    profiles: ProfileItem[],
    reason: Omit<MergeRecord, 'merged' | 'identity'>,
    linkedBy: (profileId: string) => string,
    merged: string[],
    correlationId: string,
  ): Promise<ProfileItem> {
    // The older profile survives; ties by id, so concurrent writers pick the same survivor.
    const [survivor, ...losers] = [...profiles].sort((a, b) =>
      a.createdAt !== b.createdAt ? (a.createdAt < b.createdAt ? -1 : 1) : a.profileId < b.profileId ? -1 : 1,
    );
    if (!survivor) throw new Restart();
    for (const loser of losers) {
      const record: MergeRecord = { merged: loser.profileId, identity: linkedBy(loser.profileId), ...reason };
      const redirect: MergedItem = {
        ...loser,
        status: 'merged',
        mergedInto: survivor.profileId,
        mergeReason: record,
        survivorCreatedAt: survivor.createdAt,
        version: loser.version + 1,
        updatedAt: this.now().toISOString(),
      };
      await this.store.putProfile(redirect, loser.version); // conflict -> Restart via VersionConflictError
      await this.#fold(survivor.profileId, redirect, record, correlationId);
      merged.push(loser.profileId);
    }
    // A concurrent merge may have redirected the survivor itself since the fold: start again from the
    // identities, which lead to where it went.
    const folded = await this.store.getProfile(survivor.profileId);
    if (folded?.status !== 'live') throw new Restart();
    return folded;
  }

  /**
   * Folds a merged profile into its survivor (idempotent), re-points its identities, announces it with
   * the correlation id of the event that linked them (unknown when completing an interrupted fold).
   */
  async #fold(
    survivorId: string,
    loser: ProfileItem,
    record: MergeRecord,
    correlationId?: string,
  ): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const survivor = await this.store.getProfile(survivorId);
      if (survivor?.status !== 'live') throw new Restart();
      if (survivor.mergedFrom.includes(loser.profileId)) break;
      try {
        await this.store.putProfile(
          this.#withContent(survivor, mergeContent(survivor, loser, record)),
          survivor.version,
        );
        await this.#announceMerge(survivorId, loser.identities, record, correlationId);
        break;
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
      }
    }
    for (const key of loser.identities) await this.store.repointPointer(key, loser.profileId, survivorId);
  }

  /** `profile.merged` for a merge into `survivorId`; the id depends on the survivor and the linking event. */
  async #announceMerge(
    survivorId: string,
    mergedIdentities: readonly string[],
    record: MergeRecord,
    correlationId?: string,
  ): Promise<void> {
    await this.#announce(
      'profile.merged',
      survivorId,
      { id: record.eventId, ...(correlationId ? { correlationId } : {}) },
      identitiesFromKeys(mergedIdentities),
      {
        survivor: survivorId,
        merged: record.merged,
        reason: { eventId: record.eventId, identity: record.identity },
      },
    );
  }

  /** A vendor deleted its record: drop that system's identity, keep the person. */
  async #removeIdentity(event: Envelope): Promise<ApplyResult> {
    const data = event.data as { system: string; externalId: string };
    const key = identityKey({ type: 'external', system: data.system, value: data.externalId });
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const owner = (await this.store.getPointers([key])).get(key);
      if (!owner) return { changed: false, merged: [] };
      const profile = await this.resolve(owner);
      if (!profile) {
        await this.store.deletePointer(key, owner);
        return { changed: false, merged: [] };
      }
      const content = withoutIdentity(profile, key);
      try {
        if (content !== profile)
          await this.store.putProfile(this.#withContent(profile, content), profile.version);
      } catch (error) {
        if (error instanceof VersionConflictError) continue;
        throw error;
      }
      await this.store.deletePointer(key, owner);
      await this.store.putTimeline(profile.profileId, {
        eventId: event.id,
        type: event.type,
        occurredAt: event.occurredAt,
        connector: event.origin.connector,
        summary: { system: data.system },
      });
      if (content !== profile) {
        await this.#announce(
          'profile.updated',
          profile.profileId,
          event,
          identitiesFromKeys(content.identities),
          {
            profileId: profile.profileId,
            changes: { identities: content.identities },
            causedBy: { eventId: event.id, connector: event.origin.connector },
          },
        );
      }
      return { profileId: profile.profileId, changed: content !== profile, merged: [] };
    }
    throw new RetryableError('profile under heavy contention; retry', 503, 'profile_contention');
  }

  /**
   * Erases a person: every identity pointer, every merged profile, every timeline entry.
   * `correlationId` (the erasure request's id) is carried by the `profile.erased` it announces.
   */
  async erase(
    profileId: string,
    options: { readonly correlationId?: string } = {},
  ): Promise<{ profileId: string; identities: number; timeline: number } | undefined> {
    const profile = await this.resolve(profileId);
    if (!profile) return undefined;
    // Announced before anything is deleted: once the profile is gone, a retried request finds nothing
    // to erase and could no longer announce it. The id is the same on every attempt.
    const cause = { id: `erase:${profile.profileId}`, correlationId: options.correlationId };
    await this.#announce('profile.erased', profile.profileId, cause, [], { profileId: profile.profileId });
    // Identity pointers, and the order pointers that let refunds find the person (`order:` + the
    // orders map key, see orderPointers).
    const pointers = [...profile.identities, ...Object.keys(profile.orders).map((key) => `order:${key}`)];
    for (const [key, owner] of await this.store.getPointers(pointers)) {
      await this.store.deletePointer(key, owner);
    }
    let timeline = 0;
    // The profiles merged into it first, the survivor last: an erasure cut short (a timeout) leaves the
    // survivor, which a retried request finds and finishes. The other order could leave redirects to
    // a deleted survivor that no request would find again.
    for (const id of [...profile.mergedFrom, profile.profileId]) {
      timeline += await this.store.deleteTimeline(id);
      await this.store.deleteProfile(id);
    }
    return { profileId: profile.profileId, identities: profile.identities.length, timeline };
  }

  #newProfile(profileId: string): ProfileItem {
    const now = this.now().toISOString();
    const content = emptyContent();
    return {
      profileId,
      status: 'live',
      version: 0,
      createdAt: now,
      updatedAt: now,
      ...content,
      stats: statsOf(content),
    };
  }

  #withContent(profile: ProfileItem, content: ReturnType<typeof emptyContent>): ProfileItem {
    return {
      ...profile,
      ...content,
      stats: statsOf(content),
      version: profile.version + 1,
      updatedAt: this.now().toISOString(),
    };
  }

  async #announce(
    type: 'profile.updated' | 'profile.merged' | 'profile.erased',
    profileId: string,
    cause: { id: string; correlationId?: string; occurredAt?: string },
    identities: Identity[],
    data: Record<string, unknown>,
  ): Promise<void> {
    if (!this.publisher) return;
    const at = this.now().toISOString();
    const envelope: Envelope = {
      id: deterministicEventId(type, profileId, cause.id),
      type,
      source: 'omnihub.profiles',
      subject: profileId,
      time: cause.occurredAt ?? at,
      occurredAt: cause.occurredAt ?? at,
      receivedAt: at,
      schemaVersion: 1,
      dataschema: dataSchemaUri(type),
      origin: { connector: 'omnihub', deliveryId: cause.id },
      identities,
      correlationId: cause.correlationId ?? cause.id,
      data,
    };
    const result = await this.publisher.publish([envelope]);
    if (result.failed.size > 0) throw new RetryableError(`could not publish ${type}`, 503, 'bus_unavailable');
  }
}

/** A compact copy of the event for the timeline: no line items, no message text. */
function summarize(event: Envelope): Record<string, unknown> {
  const { lineItems: _items, body: _body, traits, ...rest } = event.data as Record<string, unknown>;
  return traits && typeof traits === 'object' ? { ...rest, traits: Object.keys(traits) } : rest;
}
