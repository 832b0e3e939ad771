/**
 * The sync engine: one canonical profile event in, at most one delivery to one destination out.
 *
 * 1. Take only what concerns this destination: configured event types, never a change the
 *    destination caused itself (the bus rule already excludes those; this is defence in depth), and
 *    for `profile.updated` only changes that touch a field it receives or a consent.
 * 2. Read the whole current profile (read-only) and reduce it to the destination's record: fields,
 *    ownership, consent. Whole-profile records make deliveries order-insensitive: a late or
 *    redelivered event sends the current truth, never a stale delta.
 * 3. Skip when the record equals what this destination last received (echoes, identity-only changes,
 *    redeliveries). Otherwise deliver, write back a new external id as a `customer.linked` event
 *    (its origin is the destination, so the resulting profile change is not sent back there), and
 *    remember what was delivered.
 */
import { createHash } from 'node:crypto';
import type { EventPublisher } from '../aws/publisher.ts';
import { RetryableError } from '../errors.ts';
import { deterministicEventId, type Envelope } from '../events/envelope.ts';
import { dataSchemaUri } from '../events/versions.ts';
import { identitiesFromKeys } from '../identity/identity.ts';
import { canonicalJson } from '../profile/model.ts';
import { toProfileView } from '../profile/reader.ts';
import type { ProfileItem } from '../profile/store.ts';
import type { ResolvedDestination, SyncConfig } from './config.ts';
import type { OutboundDefinition, SyncRecord } from './destination.ts';
import { buildSyncRecord, externalIdOf, isRelevant } from './record.ts';
import type { SyncStateStore } from './state.ts';
import type { VendorClient } from './vendor-client.ts';

export type SyncOutcome =
  | {
      readonly status: 'delivered';
      readonly calls: number;
      readonly linked?: string;
      readonly outbox: boolean;
    }
  | { readonly status: 'skipped'; readonly reason: SkipReason };

export type SkipReason =
  | 'disabled'
  | 'event_not_synced'
  | 'own_change'
  | 'irrelevant_change'
  | 'profile_gone'
  | 'unchanged'
  | 'not_configured'
  | 'no_identifier';

export interface SyncEngineOptions {
  readonly destination: ResolvedDestination;
  readonly outbound: OutboundDefinition;
  readonly config: Pick<SyncConfig, 'owners' | 'reportingCurrency'>;
  readonly profiles: { get(profileId: string): Promise<ProfileItem | undefined> };
  readonly state: SyncStateStore;
  readonly publisher: EventPublisher;
  /** Undefined when the destination has no credentials (and no outbox): nothing is sent. */
  readonly client: VendorClient | undefined;
  readonly now?: () => Date;
}

/** sha-256 of the record's canonical JSON. */
export function recordHash(record: SyncRecord): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

/** A key the vendor keeps for its idempotency window: the same profile always creates at most one record. */
export function creationKey(destination: string, profileId: string): string {
  return createHash('sha256').update(`omnihub:create:${destination}:${profileId}`).digest('hex').slice(0, 40);
}

export class SyncEngine {
  readonly #options: SyncEngineOptions;
  readonly #now: () => Date;

  constructor(options: SyncEngineOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
  }

  /** The profile id an event is about (the survivor of a merge), or undefined for other events. */
  static profileIdOf(event: Envelope): string | undefined {
    const data = event.data as { profileId?: unknown; survivor?: unknown };
    if (event.type === 'profile.updated')
      return typeof data.profileId === 'string' ? data.profileId : undefined;
    if (event.type === 'profile.merged') return typeof data.survivor === 'string' ? data.survivor : undefined;
    return undefined;
  }

  async handle(event: Envelope): Promise<SyncOutcome> {
    const { destination, outbound, profiles, state, client } = this.#options;
    const skip = (reason: SkipReason): SyncOutcome => ({ status: 'skipped', reason });
    if (!destination.enabled) return skip('disabled');
    if (!(destination.events as readonly string[]).includes(event.type)) return skip('event_not_synced');
    const profileId = SyncEngine.profileIdOf(event);
    if (!profileId) return skip('event_not_synced');
    if (event.type === 'profile.updated') {
      const data = event.data as { changes?: Record<string, unknown>; causedBy?: { connector?: string } };
      if (data.causedBy?.connector === destination.id) return skip('own_change');
      if (!isRelevant(Object.keys(data.changes ?? {}), destination)) return skip('irrelevant_change');
    }

    const profile = await profiles.get(profileId);
    if (!profile) return skip('profile_gone');
    const view = toProfileView(profile);
    const record = buildSyncRecord(view, destination, this.#options.config);
    const hash = recordHash(record);
    const previous = await state.get(destination.id, view.profileId);
    if (previous?.hash === hash) return skip('unchanged');
    if (!client) return skip('not_configured');

    const knownId = externalIdOf(view, destination.id) ?? previous?.externalId;
    const result = await outbound.deliver(record, {
      client,
      ...(knownId ? { externalId: knownId } : {}),
      idempotencyKey: creationKey(destination.id, view.profileId),
      options: destination.options,
      now: this.#now(),
    });
    if (result.skipped) return skip('no_identifier');
    // The outbox holds what would have been sent; nothing was, so nothing is remembered or linked.
    if (client.outbox) return { status: 'delivered', calls: result.calls, outbox: true };

    const linked = result.externalId && result.externalId !== externalIdOf(view, destination.id);
    if (linked && result.externalId) await this.#link(event, profile, result.externalId);
    await state.put(destination.id, view.profileId, {
      hash,
      syncedAt: this.#now().toISOString(),
      ...((result.externalId ?? knownId) ? { externalId: result.externalId ?? knownId } : {}),
    });
    return {
      status: 'delivered',
      calls: result.calls,
      outbox: false,
      ...(linked && result.externalId ? { linked: result.externalId } : {}),
    };
  }

  /** Publishes `customer.linked`: the profile's identities plus the destination's new id. */
  async #link(cause: Envelope, profile: ProfileItem, externalId: string): Promise<void> {
    const system = this.#options.destination.id;
    const at = this.#now().toISOString();
    const identities = [
      ...identitiesFromKeys(profile.identities),
      { type: 'external' as const, system, value: externalId },
    ];
    const envelope: Envelope = {
      id: deterministicEventId('customer.linked', system, profile.profileId, externalId),
      type: 'customer.linked',
      source: `omnihub.${system}`,
      subject: `${system}:${externalId}`,
      time: at,
      occurredAt: at,
      receivedAt: at,
      schemaVersion: 1,
      dataschema: dataSchemaUri('customer.linked'),
      origin: { connector: system, deliveryId: `sync:${profile.profileId}:${externalId}`, topic: 'sync' },
      identities,
      correlationId: cause.correlationId,
      data: { system, externalId, profileId: profile.profileId },
    };
    const result = await this.#options.publisher.publish([envelope]);
    if (result.failed.size > 0)
      throw new RetryableError(`could not publish customer.linked for ${system}`, 503, 'bus_unavailable');
  }
}
