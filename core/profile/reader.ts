/**
 * Read side of the profile store: what the profile API, the sync destinations and the CLI see.
 *
 * Reads never write. A merged profile is followed through its redirects to the live end of the chain
 * (an interrupted fold is completed by the next writer, not by a reader: until then a redirect to a
 * survivor that does not exist yet reads as a merge in progress, not as an unknown profile), and the
 * stored item is rendered as the public profile document.
 */
import { RetryableError } from '../errors.ts';
import type { Identity } from '../identity/identity.ts';
import { identitiesFromKeys, identityKey } from '../identity/identity.ts';
import type { ConsentStatus, MergeRecord, Stats } from './model.ts';
import type { ProfileItem, ProfileStore, TimelineEntry } from './store.ts';

const MAX_REDIRECTS = 16;

/**
 * 503 `merge_in_progress`: the profile was merged into a survivor that a writer is still creating
 * (see `#recreateSurvivor` in writer.ts); retry shortly. Readers never write, so they cannot finish
 * the merge themselves.
 */
export class MergeInProgressError extends RetryableError {
  override readonly name = 'MergeInProgressError';
  constructor(readonly profileId: string) {
    super(`profile ${profileId} is being merged; retry shortly`, 503, 'merge_in_progress');
  }
}

/** A consent channel as the API shows it. */
export interface ConsentView {
  readonly status: ConsentStatus;
  readonly reason?: string;
  /** Connector that reported it. */
  readonly source?: string;
  /** Vendor time of the report. */
  readonly at?: string;
}

/** The public profile document (`GET /profiles/{id}`). */
export interface ProfileView {
  readonly profileId: string;
  readonly identities: readonly Identity[];
  /** Trait name -> value (`firstName`, `address.city`, ...). */
  readonly traits: Readonly<Record<string, unknown>>;
  /** Trait name -> where and when its value came from. */
  readonly traitSources: Readonly<Record<string, { readonly source: string; readonly at: string }>>;
  /** `email` and `sms` always; scoped entries (`email/group:42`) when a vendor reported them. */
  readonly consent: Readonly<Record<string, ConsentView>> & {
    readonly email: ConsentView;
    readonly sms: ConsentView;
  };
  readonly stats: Stats;
  readonly loyalty?: {
    readonly accountId: string;
    readonly balance: number;
    readonly lifetimePoints?: number;
  };
  readonly mergedFrom: readonly string[];
  readonly mergeHistory: readonly MergeRecord[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function toProfileView(item: ProfileItem): ProfileView {
  const traits: Record<string, unknown> = {};
  const traitSources: Record<string, { source: string; at: string }> = {};
  for (const [name, stamped] of Object.entries(item.traits)) {
    traits[name] = stamped.value;
    traitSources[name] = { source: stamped.source, at: stamped.at };
  }
  const consent: Record<string, ConsentView> = {
    email: { status: 'unknown' },
    sms: { status: 'unknown' },
  };
  for (const [channel, stamped] of Object.entries(item.consent)) {
    consent[channel] = {
      status: stamped.value.status,
      ...(stamped.value.reason ? { reason: stamped.value.reason } : {}),
      source: stamped.source,
      at: stamped.at,
    };
  }
  return {
    profileId: item.profileId,
    identities: identitiesFromKeys(item.identities),
    traits,
    traitSources,
    consent: consent as ProfileView['consent'],
    stats: item.stats,
    ...(item.loyalty ? { loyalty: item.loyalty.value } : {}),
    mergedFrom: item.mergedFrom,
    mergeHistory: item.mergeHistory,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}

export class ProfileReader {
  constructor(private readonly store: ProfileStore) {}

  /**
   * The live profile an id leads to (itself, or the survivor it was merged into); undefined if none.
   * Throws {@link MergeInProgressError} when a redirect leads to a survivor that does not exist yet:
   * the person exists (in the redirect), a writer is completing the merge, and the answer will be
   * there shortly. Saying "no such profile" then would make the API answer 404 for a known person,
   * and a sync consumer drop the change it was about to push (`profile_gone`) instead of retrying.
   */
  async get(profileId: string): Promise<ProfileItem | undefined> {
    let item = await this.store.getProfile(profileId);
    for (let hops = 0; item?.status === 'merged' && item.mergedInto; hops++) {
      if (hops >= MAX_REDIRECTS) throw new Error(`redirect chain from ${profileId} is too long`);
      item = await this.store.getProfile(item.mergedInto);
      if (!item) throw new MergeInProgressError(profileId);
    }
    return item?.status === 'live' ? item : undefined;
  }

  /** The live profile that owns an identity, if any. */
  async findByIdentity(identity: Identity): Promise<ProfileItem | undefined> {
    const key = identityKey(identity);
    const owner = (await this.store.getPointers([key])).get(key);
    return owner === undefined ? undefined : this.get(owner);
  }

  /**
   * The timeline of a live profile and of every profile merged into it, newest first. The cursor is
   * opaque to callers: the sort key of the last entry returned on each merged-in profile's partition.
   */
  async timeline(
    profile: ProfileItem,
    options: { readonly limit: number; readonly cursor?: TimelineCursor },
  ): Promise<{ entries: TimelineEntry[]; cursor?: TimelineCursor }> {
    const partitions = [profile.profileId, ...profile.mergedFrom];
    const pages = await Promise.all(
      partitions
        .filter((id) => options.cursor?.[id] !== DONE)
        .map(async (id) => {
          const before = options.cursor?.[id];
          const page = await this.store.queryTimeline(id, {
            limit: options.limit,
            ...(before ? { before } : {}),
          });
          return { id, ...page };
        }),
    );
    // k-way merge, newest first. A partition with more entries than its page holds may still hide
    // entries just older than its last one, so nothing older than that may be taken yet.
    const sortKey = (entry: TimelineEntry) => `T#${entry.occurredAt}#${entry.eventId}`;
    const floor = pages
      .filter((page) => page.next !== undefined)
      .map((page) => page.next as string)
      .reduce((highest, key) => (key > highest ? key : highest), '');
    const candidates = pages
      .flatMap((page) => page.entries.map((entry) => ({ partition: page.id, entry, sk: sortKey(entry) })))
      .filter((candidate) => candidate.sk >= floor);
    candidates.sort((a, b) => (a.sk < b.sk ? 1 : a.sk > b.sk ? -1 : 0));
    // Copies of one event on several partitions share a sort key: a page takes all of them or none,
    // so that the next page does not show the event again.
    let end = Math.min(options.limit, candidates.length);
    while (end > 0 && end < candidates.length && candidates[end]?.sk === candidates[end - 1]?.sk) end += 1;
    const taken = candidates.slice(0, end);
    const next: Record<string, string> = { ...options.cursor };
    let more = false;
    for (const page of pages) {
      const mine = taken.filter((candidate) => candidate.partition === page.id);
      const last = mine.at(-1);
      if (last) next[page.id] = last.sk;
      const exhausted = mine.length === page.entries.length && page.next === undefined;
      if (exhausted) next[page.id] = DONE;
      else more = true;
    }
    // An event re-delivered after a merge can sit on both the merged and the surviving partition:
    // show it once.
    const seen = new Set<string>();
    const entries: TimelineEntry[] = [];
    for (const { entry } of taken) {
      if (seen.has(entry.eventId)) continue;
      seen.add(entry.eventId);
      entries.push(entry);
    }
    return { entries, ...(more ? { cursor: next } : {}) };
  }
}

/** Where each partition's page stopped; `DONE` for partitions with nothing left. */
export type TimelineCursor = Readonly<Record<string, string>>;
const DONE = '-';
