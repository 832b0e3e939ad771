/**
 * The profile writer against dynalite with the real AWS SDK: identity resolution, merges, event-time
 * ordering, consent, stats, erasure, convergence under any order, and concurrency.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PublishResult } from '../../core/aws/put-events.ts';
import type { Envelope } from '../../core/events/envelope.ts';
import { identityKey } from '../../core/identity/identity.ts';
import { canonicalJson } from '../../core/profile/model.ts';
import { type ProfileItem, ProfileStore } from '../../core/profile/store.ts';
import { ProfileWriter } from '../../core/profile/writer.ts';
import { profileTable } from '../../core/tables.ts';
import { startDynalite, type TestDynamo } from '../support/dynamo.ts';
import { RecordingPublisher } from '../support/ingest.ts';
import { canonical, email, external, phone, upsert } from './events.ts';

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo.close());

interface Fixture {
  store: ProfileStore;
  writer: ProfileWriter;
  publisher: RecordingPublisher;
  byIdentity(key: string): Promise<ProfileItem | undefined>;
}

async function fresh(tableName?: string): Promise<Fixture> {
  tableName ??= await dynamo.createTable(profileTable);
  const store = new ProfileStore({ tableName, client: dynamo.documents });
  const publisher = new RecordingPublisher();
  let tick = 0;
  const writer = new ProfileWriter(store, publisher, () => new Date(Date.UTC(2025, 0, 1, 0, 0, tick++)));
  return {
    store,
    writer,
    publisher,
    async byIdentity(key) {
      const owner = (await store.getPointers([key])).get(key);
      return owner ? writer.resolve(owner) : undefined;
    },
  };
}

let f: Fixture;
beforeEach(async () => {
  f = await fresh();
});

/**
 * The store with `after` run once a call of `method` has answered, before the caller sees the answer
 * (or what `after` returns instead): a deterministic way to put another writer's steps between two
 * steps of this one.
 */
function afterCall<M extends 'putProfile' | 'getProfile' | 'getPointers'>(
  store: ProfileStore,
  method: M,
  after: (
    args: Parameters<ProfileStore[M]>,
    result: Awaited<ReturnType<ProfileStore[M]>>,
  ) => Promise<Awaited<ReturnType<ProfileStore[M]>> | undefined>,
): ProfileStore {
  return new Proxy(store, {
    get(target, property) {
      const member = Reflect.get(target, property) as unknown;
      if (typeof member !== 'function') return member;
      if (property !== method) return member.bind(target);
      return async (...args: Parameters<ProfileStore[M]>) => {
        const result = await Reflect.apply(member, target, args);
        return (await after(args, result)) ?? result;
      };
    },
  });
}

describe('Profile writer: identity resolution', () => {
  it('creates a profile for unknown identities and points every identity at it', async () => {
    const result = await f.writer.apply(
      upsert('shopify', '2025-01-01T00:00:00.000Z', [email('a@x.io'), external('shopify', '1')], {
        firstName: 'Ann',
      }),
    );
    const profile = await f.byIdentity('email:a@x.io');
    expect(profile?.profileId).toBe(result.profileId);
    expect((await f.byIdentity('ext:shopify:1'))?.profileId).toBe(result.profileId);
    expect(profile?.identities).toEqual(['email:a@x.io', 'ext:shopify:1']);
    expect(profile?.traits.firstName?.value).toBe('Ann');
  });

  it('attaches new identities to the known profile', async () => {
    const first = await f.writer.apply(upsert('shopify', '2025-01-01T00:00:00.000Z', [email('a@x.io')], {}));
    const second = await f.writer.apply(
      upsert('square', '2025-01-02T00:00:00.000Z', [email('a@x.io'), phone('+14155550100')], {}),
    );
    expect(second.profileId).toBe(first.profileId);
    expect((await f.byIdentity('phone:+14155550100'))?.profileId).toBe(first.profileId);
  });

  it('merges two profiles linked by one event into the older one, with a redirect and a reason', async () => {
    const older = await f.writer.apply(
      upsert('shopify', '2025-01-01T00:00:00.000Z', [email('a@x.io')], { firstName: 'Ann' }),
    );
    const younger = await f.writer.apply(
      upsert('square', '2025-01-02T00:00:00.000Z', [phone('+14155550100')], { lastName: 'Lee' }),
    );
    const link = upsert('hubspot', '2025-01-03T00:00:00.000Z', [email('a@x.io'), phone('+14155550100')], {});
    const result = await f.writer.apply(link);
    expect(result.profileId).toBe(older.profileId);
    expect(result.merged).toEqual([younger.profileId]);

    const survivor = await f.writer.resolve(younger.profileId ?? '');
    expect(survivor?.profileId).toBe(older.profileId);
    expect(survivor?.traits.firstName?.value).toBe('Ann');
    expect(survivor?.traits.lastName?.value).toBe('Lee');
    expect(survivor?.mergedFrom).toEqual([younger.profileId]);
    expect(survivor?.mergeHistory).toEqual([
      {
        merged: younger.profileId,
        eventId: link.id,
        // The identity of the linking event that led to the merged (younger) profile.
        identity: 'phone:+14155550100',
        at: '2025-01-03T00:00:00.000Z',
      },
    ]);
    const stored = await f.store.getProfile(younger.profileId ?? '');
    expect(stored).toMatchObject({ status: 'merged', mergedInto: older.profileId });
    expect(f.publisher.events.filter((e) => e.type === 'profile.merged').map((e) => e.data)).toEqual([
      {
        survivor: older.profileId,
        merged: younger.profileId,
        reason: { eventId: link.id, identity: 'phone:+14155550100' },
      },
    ]);
  });

  it('follows a chain of merges to the one live profile', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push(
        (
          await f.writer.apply(
            upsert('shopify', `2025-01-0${i + 1}T00:00:00.000Z`, [email(`p${i}@x.io`)], {}),
          )
        ).profileId ?? '',
      );
    }
    for (let i = 1; i < 4; i++) {
      await f.writer.apply(
        upsert('hubspot', '2025-02-01T00:00:00.000Z', [email(`p${i - 1}@x.io`), email(`p${i}@x.io`)], {}),
      );
    }
    for (const id of ids) expect((await f.writer.resolve(id))?.profileId).toBe(ids[0]);
    expect((await f.writer.resolve(ids[0] ?? ''))?.mergedFrom).toEqual([...ids.slice(1)].sort());
  });

  it('completes a merge interrupted after the redirect was written', async () => {
    const older = await f.writer.apply(upsert('shopify', '2025-01-01T00:00:00.000Z', [email('a@x.io')], {}));
    const younger = await f.writer.apply(
      upsert('square', '2025-01-02T00:00:00.000Z', [phone('+14155550100')], { lastName: 'Lee' }),
    );
    // Simulate a writer that died right after marking the younger profile merged.
    const loser = (await f.store.getProfile(younger.profileId ?? '')) as ProfileItem;
    await f.store.putProfile(
      { ...loser, status: 'merged', mergedInto: older.profileId, version: loser.version + 1 } as ProfileItem,
      loser.version,
    );
    const survivor = await f.byIdentity('phone:+14155550100');
    expect(survivor?.profileId).toBe(older.profileId);
    expect(survivor?.traits.lastName?.value).toBe('Lee');
    expect(survivor?.mergedFrom).toEqual([younger.profileId]);
  });

  it('completes a merge into a survivor that was dropped before the fold, keeping all the merged profile held', async () => {
    const younger = await f.writer.apply(
      upsert('square', '2025-01-02T00:00:00.000Z', [phone('+14155550100')], { lastName: 'Lee' }),
    );
    // A concurrent writer created an (older) profile for a new person, and a merge chose it as the
    // survivor and wrote the redirect; then the creator lost a pointer race and dropped its profile,
    // still at version 0, before the merge folded into it.
    const dropped = 'p_dropped';
    const empty = (await f.store.getProfile(younger.profileId ?? '')) as ProfileItem;
    await f.store.createProfile({
      ...empty,
      profileId: dropped,
      version: 0,
      createdAt: '2024-12-31T00:00:00.000Z',
      identities: [],
      traits: {},
    });
    const loser = (await f.store.getProfile(younger.profileId ?? '')) as ProfileItem;
    await f.store.putProfile(
      { ...loser, status: 'merged', mergedInto: dropped, version: loser.version + 1 } as ProfileItem,
      loser.version,
    );
    expect(await f.store.deleteProfile(dropped, { onlyIfVersion: 0 })).toBe(true);

    // The redirect stays as written; the survivor is created again and the merge completes into it.
    const survivor = await f.byIdentity('phone:+14155550100');
    expect(survivor).toMatchObject({ profileId: dropped, status: 'live', mergedFrom: [younger.profileId] });
    expect(survivor?.traits.lastName?.value).toBe('Lee');
    expect(await f.store.getProfile(younger.profileId ?? '')).toMatchObject({
      status: 'merged',
      mergedInto: dropped,
    });

    const next = await f.writer.apply(
      upsert('square', '2025-01-03T00:00:00.000Z', [phone('+14155550100')], { firstName: 'Ann' }),
    );
    expect(next.profileId).toBe(dropped);
    const profile = await f.byIdentity('phone:+14155550100');
    expect(Object.keys(profile?.traits ?? {}).sort()).toEqual(['firstName', 'lastName']);
  });

  it('never writes an event into a survivor that a concurrent merge redirected after the fold', async () => {
    const oldest = await f.writer.apply(
      upsert('square', '2025-01-01T00:00:00.000Z', [external('square', 'z')], { city: 'Oslo' }),
    );
    const older = await f.writer.apply(upsert('shopify', '2025-01-01T00:00:00.000Z', [email('a@x.io')], {}));
    const younger = await f.writer.apply(
      upsert('twilio', '2025-01-01T00:00:00.000Z', [phone('+14155550100')], { lastName: 'Lee' }),
    );
    // Right after the writer below folds `younger` into `older`, another writer links `older` to
    // `oldest`: `older` is a redirect by the time the first writer writes its own event.
    let interleaved = false;
    const store = afterCall(f.store, 'putProfile', async ([profile]) => {
      if (interleaved || profile.profileId !== older.profileId) return undefined;
      if (!profile.mergedFrom.includes(younger.profileId ?? '')) return undefined;
      interleaved = true;
      await f.writer.apply(
        upsert('square', '2025-01-02T00:00:00.000Z', [external('square', 'z'), email('a@x.io')], {}),
      );
      return undefined;
    });
    const result = await new ProfileWriter(store, f.publisher).apply(
      upsert('hubspot', '2025-01-03T00:00:00.000Z', [email('a@x.io'), phone('+14155550100')], {
        firstName: 'Ann',
      }),
    );

    expect(interleaved).toBe(true);
    expect(result.profileId).toBe(oldest.profileId);
    const profile = await f.byIdentity('phone:+14155550100');
    expect(profile?.profileId).toBe(oldest.profileId);
    expect(Object.keys(profile?.traits ?? {}).sort()).toEqual(['city', 'firstName', 'lastName']);
    // The redirect is as the merge wrote it.
    const redirect = await f.store.getProfile(older.profileId ?? '');
    expect(redirect).toMatchObject({ status: 'merged', mergedInto: oldest.profileId });
    expect(redirect?.traits.firstName).toBeUndefined();
  });

  it('creates a dropped survivor again where it sorted, so a writer holding an earlier read cannot merge it back (no redirect cycle)', async () => {
    // `survivor` is older than `merged`, but its id sorts after it: an order by id alone would differ.
    const base = (await f.store.getProfile(
      (
        await f.writer.apply(upsert('shopify', '2025-01-01T00:00:00.000Z', [email('seed@x.io')], {}))
      ).profileId ?? '',
    )) as ProfileItem;
    const survivorId = 'p_z_survivor';
    const mergedId = 'p_a_merged';
    const blank = { ...base, version: 0, mergedFrom: [], mergeHistory: [], traits: {}, orders: {} };
    await f.store.createProfile({
      ...blank,
      profileId: survivorId,
      createdAt: '2024-12-01T00:00:00.000Z',
      identities: ['email:y@x.io'],
    });
    await f.store.claimPointer('email:y@x.io', survivorId);
    await f.store.createProfile({
      ...blank,
      profileId: mergedId,
      createdAt: '2024-12-02T00:00:00.000Z',
      identities: ['email:x@x.io'],
      traits: { lastName: { value: 'Lee', at: '2025-01-01T00:00:00.000Z', source: 'square', eventId: 'e0' } },
    });
    await f.store.claimPointer('email:x@x.io', mergedId);

    // A first writer links the two and writes the redirect; then the survivor's creator drops it (still
    // at version 0) before the fold, and the first writer creates it again and completes the merge.
    let dropped = false;
    const first = new ProfileWriter(
      afterCall(f.store, 'putProfile', async ([profile]) => {
        if (dropped || profile.profileId !== mergedId || profile.status !== 'merged') return undefined;
        dropped = await f.store.deleteProfile(survivorId, { onlyIfVersion: 0 });
        return undefined;
      }),
      f.publisher,
    );
    // A second writer read the merged profile while it was still live, and only then the survivor.
    let linked = false;
    const second = new ProfileWriter(
      afterCall(
        afterCall(f.store, 'getProfile', async ([profileId, options], result) => {
          // The full resolution's read (consistent), not the known-person shortcut's.
          if (linked || profileId !== mergedId || options?.consistent === false) return undefined;
          if (result?.status !== 'live') return undefined;
          linked = true;
          await first.apply(
            upsert('hubspot', '2025-01-02T00:00:00.000Z', [email('x@x.io'), email('y@x.io')], {}),
          );
          return undefined;
        }),
        'getPointers',
        // The merged profile's identity first, whatever order the table answered in.
        async (_args, found) =>
          new Map([...found].sort(([a], [b]) => (a === 'email:x@x.io' ? -1 : a < b ? -1 : 1))),
      ),
      f.publisher,
    );
    await second.apply(
      upsert('hubspot', '2025-01-03T00:00:00.000Z', [email('x@x.io'), email('y@x.io')], { firstName: 'Ann' }),
    );

    expect({ dropped, linked }).toEqual({ dropped: true, linked: true });
    expect(await f.store.getProfile(survivorId)).toMatchObject({
      status: 'live',
      createdAt: '2024-12-01T00:00:00.000Z',
    });
    expect(await f.store.getProfile(mergedId)).toMatchObject({ status: 'merged', mergedInto: survivorId });
    for (const key of ['email:x@x.io', 'email:y@x.io']) {
      const profile = await f.byIdentity(key);
      expect(profile?.profileId).toBe(survivorId);
      expect(Object.keys(profile?.traits ?? {}).sort()).toEqual(['firstName', 'lastName']);
    }
  });

  it('claims an identity again when the pointer that refused the claim is deleted before its owner is read', async () => {
    const tableName = await dynamo.createTable(profileTable);
    const store = new ProfileStore({ tableName, client: dynamo.documents });
    await store.claimPointer('email:a@x.io', 'p_gone');
    // Between the refused write and the read of the owner, another writer deletes the pointer, which
    // led to a profile that no longer exists.
    const racing = new ProfileStore({
      tableName,
      client: new Proxy(dynamo.documents, {
        get(target, property) {
          const member = Reflect.get(target, property) as unknown;
          if (typeof member !== 'function') return member;
          if (property !== 'put') return member.bind(target);
          return async (input: Parameters<typeof target.put>[0]) => {
            try {
              return await target.put(input);
            } catch (error) {
              await store.deletePointer('email:a@x.io', 'p_gone');
              throw error;
            }
          };
        },
      }),
    });
    expect(await racing.claimPointer('email:a@x.io', 'p_new')).toBe('p_new');
    // Answered only once the pointer is really its own: otherwise the profile would be unreachable.
    expect(await store.getPointers(['email:a@x.io'])).toEqual(new Map([['email:a@x.io', 'p_new']]));
  });

  it('honours a vendor deletion by removing only that identity', async () => {
    await f.writer.apply(
      upsert('hubspot', '2025-01-01T00:00:00.000Z', [email('a@x.io'), external('hubspot', '123')], {}),
    );
    await f.writer.apply(
      canonical('customer.deleted', {
        connector: 'hubspot',
        at: '2025-01-02T00:00:00.000Z',
        identities: [external('hubspot', '123')],
        data: { system: 'hubspot', externalId: '123' },
      }),
    );
    expect(await f.byIdentity('ext:hubspot:123')).toBeUndefined();
    expect((await f.byIdentity('email:a@x.io'))?.identities).toEqual(['email:a@x.io']);
  });
});

describe('Profile writer: content', () => {
  it('never lets an older event overwrite a newer value', async () => {
    await f.writer.apply(
      upsert('hubspot', '2025-01-02T00:00:00.000Z', [email('a@x.io')], { firstName: 'New' }),
    );
    await f.writer.apply(
      upsert('shopify', '2025-01-01T00:00:00.000Z', [email('a@x.io')], {
        firstName: 'Old',
        lastName: 'Kept',
      }),
    );
    const profile = await f.byIdentity('email:a@x.io');
    expect(profile?.traits.firstName).toMatchObject({
      value: 'New',
      source: 'hubspot',
      at: '2025-01-02T00:00:00.000Z',
    });
    expect(profile?.traits.lastName?.value).toBe('Kept');
  });

  it('follows event time for consent, and records bounces as undeliverable', async () => {
    const who = [phone('+14155550100'), email('a@x.io')];
    const consent = (
      at: string,
      channel: 'email' | 'sms',
      status: 'subscribed' | 'unsubscribed',
      connector: string,
    ) =>
      canonical('consent.changed', {
        connector,
        at,
        identities: who,
        data: { channel, status, reason: 'test' },
      });
    await f.writer.apply(consent('2025-01-03T00:00:00.000Z', 'sms', 'unsubscribed', 'twilio'));
    await f.writer.apply(consent('2025-01-02T00:00:00.000Z', 'sms', 'subscribed', 'shopify'));
    await f.writer.apply(
      canonical('message.bounced', {
        connector: 'sendgrid',
        at: '2025-01-04T00:00:00.000Z',
        identities: who,
        data: {
          channel: 'email',
          messageId: 'm',
          vendorStatus: 'bounce',
          bounceType: 'bounce',
          reason: '550',
        },
      }),
    );
    const profile = await f.byIdentity('email:a@x.io');
    expect(profile?.consent.sms).toMatchObject({ value: { status: 'unsubscribed' }, source: 'twilio' });
    expect(profile?.consent.email).toMatchObject({ value: { status: 'undeliverable', reason: '550' } });
  });

  it('finds a Square refund through the refunded payment when it names a return order', async () => {
    await f.writer.apply(
      canonical('order.placed', {
        connector: 'square',
        at: '2025-01-01T00:00:00.000Z',
        identities: [phone('+14155550100')],
        data: {
          orderId: 'sale-order',
          paymentId: 'pay-1',
          channel: 'pos',
          total: { amount: 2500, currency: 'USD' },
          lineItems: [],
        },
      }),
    );
    const refund = await f.writer.apply(
      canonical('order.refunded', {
        connector: 'square',
        at: '2025-01-02T00:00:00.000Z',
        identities: [],
        data: {
          orderId: 'return-order',
          paymentId: 'pay-1',
          refundId: 'r1',
          amount: { amount: 1000, currency: 'USD' },
        },
      }),
    );
    const profile = await f.byIdentity('phone:+14155550100');
    expect(refund.profileId).toBe(profile?.profileId);
    expect(profile?.stats).toMatchObject({ orderCount: 1, lifetimeValue: { USD: 1500 } });
  });

  it('keeps stats per currency, subtracts refunds, ignores cancelled orders, and counts an order once', async () => {
    const who = [email('a@x.io')];
    const order = (
      id: string,
      amount: number,
      currency: string,
      at: string,
      type: 'order.placed' | 'order.paid' = 'order.placed',
    ) =>
      canonical(type, {
        connector: 'shopify',
        at,
        identities: who,
        data: { orderId: id, channel: 'online', total: { amount, currency }, lineItems: [] },
      });
    await f.writer.apply(order('1', 19900, 'USD', '2025-01-01T00:00:00.000Z'));
    await f.writer.apply(order('1', 19900, 'USD', '2025-01-01T00:01:00.000Z', 'order.paid'));
    await f.writer.apply(order('2', 5000, 'EUR', '2025-02-01T00:00:00.000Z'));
    await f.writer.apply(order('3', 700, 'USD', '2025-03-01T00:00:00.000Z'));
    await f.writer.apply(
      canonical('order.cancelled', {
        connector: 'shopify',
        at: '2025-03-02T00:00:00.000Z',
        identities: who,
        data: { orderId: '3' },
      }),
    );
    // A refund carries no identities: it reaches the profile through the order.
    await f.writer.apply(
      canonical('order.refunded', {
        connector: 'shopify',
        at: '2025-01-05T00:00:00.000Z',
        identities: [],
        data: { orderId: '1', refundId: 'r1', amount: { amount: 4900, currency: 'USD' } },
      }),
    );
    const profile = await f.byIdentity('email:a@x.io');
    expect(profile?.stats).toEqual({
      orderCount: 2,
      lifetimeValue: { USD: 15000, EUR: 5000 },
      firstOrderAt: '2025-01-01T00:00:00.000Z',
      lastOrderAt: '2025-02-01T00:00:00.000Z',
      channels: ['shopify'],
    });
  });

  it('emits profile.updated with the changed fields only, and nothing for a replay', async () => {
    const event = upsert('shopify', '2025-01-01T00:00:00.000Z', [email('a@x.io')], { firstName: 'Ann' });
    await f.writer.apply(event);
    const updates = () => f.publisher.events.filter((e) => e.type === 'profile.updated');
    expect(updates()).toHaveLength(1);
    expect(updates()[0]?.data.changes).toEqual({
      'traits.firstName': 'Ann',
      identities: ['email:a@x.io'],
      stats: { orderCount: 0, lifetimeValue: {}, channels: ['shopify'] },
    });
    const again = await f.writer.apply(event);
    expect(again.changed).toBe(false);
    expect(updates()).toHaveLength(1);
  });

  it('erases a person: profile, merged profiles, identities and timeline', async () => {
    await f.writer.apply(upsert('shopify', '2025-01-01T00:00:00.000Z', [email('a@x.io')], {}));
    await f.writer.apply(upsert('square', '2025-01-02T00:00:00.000Z', [phone('+14155550100')], {}));
    const linked = await f.writer.apply(
      upsert('hubspot', '2025-01-03T00:00:00.000Z', [email('a@x.io'), phone('+14155550100')], {}),
    );
    await f.writer.apply(
      canonical('order.placed', {
        connector: 'shopify',
        at: '2025-01-04T00:00:00.000Z',
        identities: [email('a@x.io')],
        data: { orderId: '9001', channel: 'online', total: { amount: 1000, currency: 'USD' }, lineItems: [] },
      }),
    );
    expect(await f.byIdentity('order:shopify:9001')).toBeDefined();
    const erased = await f.writer.erase(linked.merged[0] ?? '');
    expect(erased).toMatchObject({ profileId: linked.profileId, identities: 2 });
    expect((await f.store.getPointers(['order:shopify:9001'])).size).toBe(0);
    expect(await f.byIdentity('email:a@x.io')).toBeUndefined();
    expect(await f.byIdentity('phone:+14155550100')).toBeUndefined();
    expect(await f.store.getProfile(linked.profileId ?? '')).toBeUndefined();
    expect((await f.store.queryTimeline(linked.profileId ?? '', { limit: 10 })).entries).toEqual([]);
    expect(f.publisher.events.at(-1)).toMatchObject({
      type: 'profile.erased',
      data: { profileId: linked.profileId },
    });
  });
});

/** Records what it publishes, but refuses (as a bus outage would) every announcement of the given types. */
class RefusingPublisher extends RecordingPublisher {
  refuse = new Set<string>();
  override async publish(envelopes: readonly Envelope[]): Promise<PublishResult> {
    if (envelopes.some((envelope) => this.refuse.has(envelope.type))) {
      return { published: new Set(), failed: new Set(envelopes.map((_, index) => index)) };
    }
    return super.publish(envelopes);
  }
}

describe('Profile writer: announcements the bus refused', () => {
  let bus: RefusingPublisher;
  let writer: ProfileWriter;
  beforeEach(() => {
    bus = new RefusingPublisher();
    let tick = 0;
    writer = new ProfileWriter(f.store, bus, () => new Date(Date.UTC(2025, 1, 1, 0, 0, tick++)));
  });
  const of = (type: string) => bus.events.filter((event) => event.type === type);

  it('announces a change again when its event is redelivered after the bus refused it, and only then', async () => {
    await writer.apply(upsert('shopify', '2025-01-01T00:00:00.000Z', [email('a@x.io')], { firstName: 'A' }));
    const event = upsert('hubspot', '2025-01-02T00:00:00.000Z', [email('a@x.io')], {
      firstName: 'Ann',
      city: 'Oslo',
    });
    bus.refuse.add('profile.updated');
    await expect(writer.apply(event)).rejects.toMatchObject({ code: 'bus_unavailable' });
    // The profile was written before the bus refused; the redelivery folds to nothing.
    expect((await f.byIdentity('email:a@x.io'))?.traits.firstName?.value).toBe('Ann');
    const before = of('profile.updated').length;

    bus.refuse.clear();
    const redelivered = await writer.apply(event);
    expect(redelivered.changed).toBe(false);
    const announced = of('profile.updated').slice(before);
    expect(announced).toHaveLength(1);
    expect(announced[0]?.data).toMatchObject({
      changes: { 'traits.firstName': 'Ann', 'traits.city': 'Oslo' },
      causedBy: { eventId: event.id, connector: 'hubspot' },
    });

    // Announced and recorded on the timeline: a further redelivery announces nothing.
    await writer.apply(event);
    expect(of('profile.updated').slice(before)).toHaveLength(1);
  });

  it('announces the stats again for a redelivered refund, which carries no stamp', async () => {
    const at = (day: number) => `2025-01-0${day}T00:00:00.000Z`;
    const order = {
      orderId: '7',
      channel: 'online' as const,
      total: { amount: 5000, currency: 'USD' },
      lineItems: [],
    };
    await writer.apply(
      canonical('order.placed', {
        connector: 'shopify',
        at: at(1),
        identities: [email('a@x.io')],
        data: order,
      }),
    );
    const refund = canonical('order.refunded', {
      connector: 'shopify',
      at: at(2),
      identities: [],
      data: { orderId: '7', refundId: 'r1', amount: { amount: 1500, currency: 'USD' } },
    });
    bus.refuse.add('profile.updated');
    await expect(writer.apply(refund)).rejects.toMatchObject({ code: 'bus_unavailable' });
    bus.refuse.clear();
    const before = of('profile.updated').length;
    await writer.apply(refund);
    expect(
      of('profile.updated')
        .slice(before)
        .map((e) => e.data.changes),
    ).toEqual([{ stats: expect.objectContaining({ orderCount: 1, lifetimeValue: { USD: 3500 } }) }]);
  });

  it('announces a merge again when its linking event is redelivered after the bus refused it', async () => {
    const older = await writer.apply(upsert('shopify', '2025-01-01T00:00:00.000Z', [email('a@x.io')], {}));
    const younger = await writer.apply(
      upsert('square', '2025-01-02T00:00:00.000Z', [phone('+14155550100')], { lastName: 'Lee' }),
    );
    const link = upsert('hubspot', '2025-01-03T00:00:00.000Z', [email('a@x.io'), phone('+14155550100')], {});
    bus.refuse.add('profile.merged');
    await expect(writer.apply(link)).rejects.toMatchObject({ code: 'bus_unavailable' });
    expect(of('profile.merged')).toEqual([]);

    bus.refuse.clear();
    await writer.apply(link);
    const merges = of('profile.merged');
    expect(merges.map((e) => e.data)).toEqual([
      {
        survivor: older.profileId,
        merged: younger.profileId,
        reason: { eventId: link.id, identity: 'phone:+14155550100' },
      },
    ]);
    expect(merges[0]?.identities).toEqual([{ type: 'phone', value: '+14155550100' }]);
    await writer.apply(link);
    expect(of('profile.merged')).toHaveLength(1);
  });

  it('announces an erasure before deleting, so a retried erasure still announces it', async () => {
    const person = await writer.apply(upsert('shopify', '2025-01-01T00:00:00.000Z', [email('a@x.io')], {}));
    bus.refuse.add('profile.erased');
    await expect(writer.erase(person.profileId ?? '')).rejects.toMatchObject({ code: 'bus_unavailable' });
    expect(await f.byIdentity('email:a@x.io')).toBeDefined();
    bus.refuse.clear();
    expect(await writer.erase(person.profileId ?? '')).toMatchObject({ profileId: person.profileId });
    expect(of('profile.erased').map((e) => e.data)).toEqual([{ profileId: person.profileId }]);
    expect(await f.byIdentity('email:a@x.io')).toBeUndefined();
  });
});

/** The events built from specs, the same events in a random order, and a random subset of them (duplicates). */
function withReorderingAndDuplicates<Spec>(
  specs: fc.Arbitrary<Spec[]>,
  toEnvelope: (spec: Spec, index: number) => Envelope,
): fc.Arbitrary<[Envelope[], Envelope[], Envelope[]]> {
  return specs.chain((list) => {
    const events = list.map(toEnvelope);
    return fc.tuple(
      fc.constant(events),
      fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
      fc.subarray(events),
    );
  });
}

/** The part of a profile that must not depend on the order events arrived in. */
function essence(profile: ProfileItem | undefined): string {
  if (!profile) return 'none';
  const { identities, traits, consent, orders, channels, loyalty, stats } = profile;
  return canonicalJson({ identities, traits, consent, orders, channels, loyalty, stats });
}

describe('Profile writer: convergence', () => {
  const people = ['a@x.io', 'b@x.io'];
  const eventArb = fc.oneof(
    fc.record({
      kind: fc.constant('upsert' as const),
      who: fc.constantFrom(...people),
      day: fc.integer({ min: 1, max: 9 }),
      name: fc.constantFrom('Ann', 'Bo', 'Cy'),
      connector: fc.constantFrom('shopify', 'hubspot'),
    }),
    fc.record({
      kind: fc.constant('order' as const),
      who: fc.constantFrom(...people),
      day: fc.integer({ min: 1, max: 9 }),
      orderId: fc.constantFrom('o1', 'o2', 'o3'),
      amount: fc.integer({ min: 1, max: 100_000 }),
    }),
    fc.record({
      kind: fc.constant('consent' as const),
      who: fc.constantFrom(...people),
      day: fc.integer({ min: 1, max: 9 }),
      status: fc.constantFrom('subscribed' as const, 'unsubscribed' as const),
    }),
  );

  type EventSpec = typeof eventArb extends fc.Arbitrary<infer T> ? T : never;

  function toEnvelope(spec: EventSpec, index: number): Envelope {
    const at = `2025-01-0${spec.day}T00:00:00.000Z`;
    const id = `e${index}`;
    if (spec.kind === 'upsert')
      return upsert(spec.connector, at, [email(spec.who)], { firstName: spec.name }, id);
    if (spec.kind === 'order') {
      return canonical('order.placed', {
        connector: 'shopify',
        at,
        id,
        identities: [email(spec.who)],
        data: {
          orderId: `${spec.who}-${spec.orderId}`,
          channel: 'online',
          total: { amount: spec.amount, currency: 'USD' },
          lineItems: [],
        },
      });
    }
    return canonical('consent.changed', {
      connector: 'twilio',
      at,
      id,
      identities: [email(spec.who)],
      data: { channel: 'sms', status: spec.status },
    });
  }

  it('yields the same profiles for the same events in any order, with duplicates (100 runs)', async () => {
    // Two tables for all runs; each run uses its own people so runs do not see each other.
    const [tableA, tableB] = [await dynamo.createTable(profileTable), await dynamo.createTable(profileTable)];
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        withReorderingAndDuplicates(fc.array(eventArb, { minLength: 1, maxLength: 8 }), toEnvelope),
        async ([events, shuffled, duplicates]) => {
          const namespace = `r${++run}-`;
          const scoped = (event: Envelope): Envelope => ({
            ...event,
            id: `${namespace}${event.id}`,
            identities: event.identities.map((identity) => ({
              ...identity,
              value: `${namespace}${identity.value}`,
            })),
            data:
              'orderId' in event.data
                ? { ...event.data, orderId: `${namespace}${String(event.data.orderId)}` }
                : event.data,
          });
          const inOrder = await fresh(tableA);
          for (const event of events) await inOrder.writer.apply(scoped(event));
          const reordered = await fresh(tableB);
          for (const event of [...shuffled, ...duplicates]) await reordered.writer.apply(scoped(event));
          for (const who of people) {
            const key = `email:${namespace}${who}`;
            expect(essence(await reordered.byIdentity(key))).toBe(essence(await inOrder.byIdentity(key)));
          }
        },
      ),
      { numRuns: 100 },
    );
  }, 600_000);
});

/** One store operation of a jittered run: for which delivery, when, with what, and its answer. */
interface TracedOperation {
  readonly delivery: string | undefined;
  readonly operation: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly args: unknown[];
  readonly result?: unknown;
  readonly error?: string;
}

/** The delivery (`<event id>#<attempt>`) a writer call serves, for the trace of its store operations. */
const delivery = new AsyncLocalStorage<string>();

/**
 * The store with every operation started and answered after a random 0–2 ms, so that concurrent
 * writers interleave in many more ways than the local database's own timing gives. Each operation is
 * appended to `trace`, so that a failing run, which cannot be replayed, can still be read step by
 * step (how the lost updates of `#mergeAll` and of a recreated survivor were found).
 */
function jittery(store: ProfileStore, trace: TracedOperation[] = []): ProfileStore {
  const pause = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 2));
  const started = performance.now();
  return new Proxy(store, {
    get(target, property) {
      const member = Reflect.get(target, property) as unknown;
      if (typeof member !== 'function') return member;
      return async (...args: unknown[]) => {
        await pause();
        const entry = { delivery: delivery.getStore(), operation: String(property), args };
        const startMs = performance.now() - started;
        try {
          const result: unknown = await Reflect.apply(member, target, args);
          const endMs = performance.now() - started;
          trace.push({ ...entry, startMs, endMs, result: result instanceof Map ? [...result] : result });
          await pause();
          return result;
        } catch (error) {
          trace.push({ ...entry, startMs, endMs: performance.now() - started, error: String(error) });
          throw error;
        }
      };
    },
  });
}

/** Runs of the interleaving property: a few in `npm test`; `OMNIHUB_RACE_RUNS=200` for a deep search. */
const RACE_RUNS = Number(process.env.OMNIHUB_RACE_RUNS ?? 8);

describe('Profile writer: concurrency', () => {
  /**
   * Applies events as the queue would: each batch at once, and an event refused with one of the
   * `retryable` codes comes back in a later round (at most `rounds`). Returns what is still pending.
   */
  async function applyUntilSettled(
    writer: Pick<ProfileWriter, 'apply'>,
    batches: Envelope[][],
    { retryable, rounds }: { retryable: RegExp; rounds: number },
  ): Promise<Envelope[]> {
    let pending: Envelope[] = [];
    for (const batch of batches) {
      pending = [...pending, ...batch];
      for (let round = 0; pending.length > 0 && round < rounds; round++) {
        const outcomes = await Promise.allSettled(pending.map((event) => writer.apply(event)));
        const next: Envelope[] = [];
        outcomes.forEach((outcome, index) => {
          if (outcome.status === 'fulfilled') return;
          expect(outcome.reason).toMatchObject({ code: expect.stringMatching(retryable) });
          next.push(pending[index] as Envelope);
        });
        if (next.length === pending.length && next.every((e) => e.type === 'order.refunded')) break;
        pending = next;
      }
    }
    return pending;
  }

  it('ends where one-by-one application ends, whatever the interleaving: creations, merges, orders, refunds (property)', async () => {
    // Three people, each with an email, a phone and a Shopify id; every event names one to three of
    // them, so concurrent events race to create a person and link (merge) the profiles they made.
    const identitiesOf = (who: number) => [
      email(`p${who}@x.io`),
      phone(`+1415555000${who}`),
      external('shopify', `${who}`),
    ];
    const specArb = fc.record({
      kind: fc.constantFrom('upsert', 'consent', 'order', 'refund'),
      who: fc.integer({ min: 0, max: 2 }),
      named: fc.subarray([0, 1, 2], { minLength: 1 }),
      day: fc.integer({ min: 1, max: 9 }),
      value: fc.constantFrom('A', 'B', 'C'),
      order: fc.constantFrom('o1', 'o2'),
    });
    type Spec = typeof specArb extends fc.Arbitrary<infer T> ? T : never;
    const toEnvelope = (spec: Spec, index: number): Envelope => {
      const at = `2025-01-0${spec.day}T00:00:00.000Z`;
      const id = `e${index}`;
      const who = identitiesOf(spec.who);
      const identities = spec.named.map((k) => who[k] as (typeof who)[number]);
      const orderId = `${spec.who}-${spec.order}`;
      switch (spec.kind) {
        case 'upsert':
          return upsert('hubspot', at, identities, { [`t${spec.value}`]: spec.day }, id);
        case 'consent':
          return canonical('consent.changed', {
            connector: 'twilio',
            at,
            id,
            identities,
            data: { channel: 'sms', status: spec.value === 'A' ? 'unsubscribed' : 'subscribed' },
          });
        case 'order':
          return canonical('order.placed', {
            connector: 'shopify',
            at,
            id,
            identities,
            data: {
              orderId,
              channel: 'online',
              total: { amount: 100 * spec.day, currency: 'USD' },
              lineItems: [],
            },
          });
        default:
          // Found through its order's pointer only; before the order arrives it asks for a retry.
          return canonical('order.refunded', {
            connector: 'shopify',
            at,
            id,
            identities: [],
            // A refund id always names the same amount, as it does at the vendor.
            data: {
              orderId,
              refundId: `r${spec.value}`,
              amount: { amount: spec.value.charCodeAt(0), currency: 'USD' },
            },
          });
      }
    };

    await fc.assert(
      fc.asyncProperty(
        withReorderingAndDuplicates(fc.array(specArb, { minLength: 20, maxLength: 40 }), toEnvelope),
        async ([events, shuffled, duplicates]) => {
          // A refund may come before its order, and then waits for it.
          const queue = { retryable: /^(profile_contention|profile_not_found_yet)$/, rounds: 30 };
          const oneByOne = await fresh();
          const leftOneByOne = await applyUntilSettled(
            oneByOne.writer,
            events.map((event) => [event]),
            queue,
          );
          const concurrent = await fresh();
          const trace: TracedOperation[] = [];
          const writer = new ProfileWriter(jittery(concurrent.store, trace), concurrent.publisher);
          const attempts = new Map<string, number>();
          const racing = {
            apply(event: Envelope) {
              const attempt = (attempts.get(event.id) ?? 0) + 1;
              attempts.set(event.id, attempt);
              return delivery.run(`${event.id}#${attempt}`, () => writer.apply(event));
            },
          };
          const leftConcurrent = await applyUntilSettled(racing, [[...shuffled, ...duplicates]], queue);
          try {
            expect(new Set(leftConcurrent.map((e) => e.id))).toEqual(new Set(leftOneByOne.map((e) => e.id)));
            for (const who of [0, 1, 2]) {
              for (const identity of identitiesOf(who)) {
                const key = identityKey(identity);
                expect(essence(await concurrent.byIdentity(key)), key).toBe(
                  essence(await oneByOne.byIdentity(key)),
                );
              }
            }
          } catch (error) {
            const file = join(tmpdir(), `omnihub-interleaving-${process.pid}-${Date.now()}.json`);
            writeFileSync(file, JSON.stringify({ events, shuffled, duplicates, trace }));
            throw new Error(`${String(error)}\nEvery store operation of this run: ${file}`, { cause: error });
          }
        },
      ),
      // A jittered interleaving cannot be replayed, so shrinking would only retry at random.
      { numRuns: RACE_RUNS, endOnFailure: true },
    );
  }, 600_000);

  it('200 concurrent events over 20 overlapping identities end in the right profiles with no lost field', async () => {
    // Person i has email i, phone i, shopify id i; every event names person i by one or two of them.
    const persons = 20;
    const events: Envelope[] = [];
    for (let n = 0; n < 200; n++) {
      const i = n % persons;
      const ids = [
        email(`p${i}@x.io`),
        phone(`+1415555${String(1000 + i).padStart(4, '0')}`),
        external('shopify', `${i}`),
      ];
      const pick = n % 3 === 0 ? [ids[0], ids[1]] : n % 3 === 1 ? [ids[1], ids[2]] : [ids[2], ids[0]];
      events.push(
        upsert(
          'shopify',
          `2025-01-01T00:00:${String(Math.floor(n / persons)).padStart(2, '0')}.000Z`,
          pick as never,
          { [`field${Math.floor(n / persons)}`]: `v${n}` },
        ),
      );
    }
    // As in AWS, an event that lost too many races is handed back (to SQS) and applied again later.
    const pending = await applyUntilSettled(f.writer, [events], {
      retryable: /^profile_contention$/,
      rounds: 20,
    });
    expect(pending).toEqual([]);

    for (let i = 0; i < persons; i++) {
      const byEmail = await f.byIdentity(`email:p${i}@x.io`);
      const byPhone = await f.byIdentity(`phone:+1415555${String(1000 + i).padStart(4, '0')}`);
      const byShopify = await f.byIdentity(`ext:shopify:${i}`);
      expect(byPhone?.profileId).toBe(byEmail?.profileId);
      expect(byShopify?.profileId).toBe(byEmail?.profileId);
      // Every one of the 10 events of this person left its field.
      expect(Object.keys(byEmail?.traits ?? {}).sort()).toEqual(
        Array.from({ length: 10 }, (_, k) => `field${k}`).sort(),
      );
      expect(byEmail?.identities).toHaveLength(3);
    }
  }, 600_000);
});
