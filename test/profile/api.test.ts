/**
 * The profile API handler against dynalite with the real SDK: lookups by id and identity, merge
 * redirects, timeline pagination across merged profiles, erasure, and the 400/404 answers.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  decodeCursor,
  encodeCursor,
  handleProfileRequest,
  PROFILE_API,
  PROFILE_ROUTES,
  routeKeyOf,
} from '../../core/profile/api.ts';
import { MergeInProgressError, ProfileReader } from '../../core/profile/reader.ts';
import { ProfileStore } from '../../core/profile/store.ts';
import { ProfileWriter } from '../../core/profile/writer.ts';
import { profileTable } from '../../core/tables.ts';
import { topology } from '../../lib/topology.ts';
import { startDynalite, type TestDynamo } from '../support/dynamo.ts';
import { RecordingPublisher } from '../support/ingest.ts';
import { canonical, email, external, phone, upsert } from './events.ts';
import { leaveMergeInProgress, mergedPair, writeForMergedPerson } from './merges.ts';

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo.close());

let store: ProfileStore;
let writer: ProfileWriter;
let reader: ProfileReader;
let publisher: RecordingPublisher;
beforeEach(async () => {
  store = new ProfileStore({
    tableName: await dynamo.createTable(profileTable),
    client: dynamo.documents,
  });
  publisher = new RecordingPublisher();
  let tick = 0;
  writer = new ProfileWriter(store, publisher, () => new Date(Date.UTC(2025, 0, 1, 0, 0, tick++)));
  reader = new ProfileReader(store);
});

function request(
  routeKey: string,
  options: { profileId?: string; query?: Record<string, string> } = {},
): APIGatewayProxyEventV2 {
  const [method = 'GET', path = '/'] = routeKey.split(' ');
  return {
    version: '2.0',
    routeKey,
    rawPath: path.replace('{profileId}', options.profileId ?? ''),
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: {},
    ...(options.query ? { queryStringParameters: options.query } : {}),
    ...(options.profileId !== undefined ? { pathParameters: { profileId: options.profileId } } : {}),
    requestContext: { http: { method } } as APIGatewayProxyEventV2['requestContext'],
    isBase64Encoded: false,
  };
}

async function call(
  routeKey: string,
  options: { profileId?: string; query?: Record<string, string> } = {},
  withWriter = false,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await handleProfileRequest(request(routeKey, options), {
    reader,
    ...(withWriter ? { writer } : {}),
  });
  return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
}

const ada = () =>
  writer.apply(
    upsert(
      'shopify',
      '2025-01-01T00:00:00.000Z',
      [email('ada@example.com'), phone('+14155550100'), external('shopify', '706405506930370084')],
      { firstName: 'Ada', lastName: 'Lovelace' },
    ),
  );

describe('Profile API: lookups', () => {
  it('answers GET /profiles/{id} with the profile document', async () => {
    const { profileId } = await ada();
    const { status, body } = await call(PROFILE_ROUTES.get, { profileId });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      profileId,
      identities: [
        { type: 'email', value: 'ada@example.com' },
        { type: 'external', system: 'shopify', value: '706405506930370084' },
        { type: 'phone', value: '+14155550100' },
      ],
      traits: { firstName: 'Ada', lastName: 'Lovelace' },
      traitSources: { firstName: { source: 'shopify', at: '2025-01-01T00:00:00.000Z' } },
      consent: { email: { status: 'unknown' }, sms: { status: 'unknown' } },
      stats: { orderCount: 0, lifetimeValue: {}, channels: ['shopify'] },
      mergedFrom: [],
    });
  });

  it.each([
    ['email', ' Ada@Example.COM '],
    ['phone', '+1 (415) 555-0100'],
    ['external', 'shopify:706405506930370084'],
  ])('finds a profile by %s, normalised as the connectors normalise it', async (name, value) => {
    const { profileId } = await ada();
    const { status, body } = await call(PROFILE_ROUTES.find, { query: { [name]: value } });
    expect(status).toBe(200);
    expect(body.profileId).toBe(profileId);
  });

  it('follows a merge redirect and answers with the survivor', async () => {
    const { survivorId, mergedId } = await mergedPair(writer);
    const { status, body } = await call(PROFILE_ROUTES.get, { profileId: mergedId });
    expect(status).toBe(200);
    expect(body.profileId).toBe(survivorId);
    expect(body.mergedFrom).toEqual([mergedId]);
    expect(body.mergeHistory).toEqual([
      expect.objectContaining({ merged: mergedId, identity: expect.any(String) }),
    ]);
  });

  it('answers 503 merge_in_progress, not 404, while a redirect leads to a survivor still being created', async () => {
    const { survivorId, mergedId } = await mergedPair(writer);
    await leaveMergeInProgress(store, { survivorId, mergedId });
    const response = await handleProfileRequest(request(PROFILE_ROUTES.get, { profileId: mergedId }), {
      reader,
    });
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBe('5');
    expect(JSON.parse(response.body)).toEqual({
      error: 'merge_in_progress',
      message: `profile ${mergedId} is being merged; retry shortly`,
    });
    // What the sync consumers read with: they retry the message instead of dropping it as profile_gone.
    await expect(reader.get(mergedId)).rejects.toBeInstanceOf(MergeInProgressError);
    // An id that leads nowhere without a redirect is still unknown.
    expect((await call(PROFILE_ROUTES.get, { profileId: survivorId })).status).toBe(404);

    // The next write for the person completes the merge: the answer is the survivor again.
    await writeForMergedPerson(writer);
    const after = await call(PROFILE_ROUTES.get, { profileId: mergedId });
    expect(after.status).toBe(200);
    expect(after.body.profileId).toBe(survivorId);
  });

  it('answers 404 profile_not_found for unknown ids and identities', async () => {
    expect(await call(PROFILE_ROUTES.get, { profileId: `p_${'0'.repeat(26)}` })).toEqual({
      status: 404,
      body: { error: 'profile_not_found', message: `no profile with id p_${'0'.repeat(26)}` },
    });
    const byEmail = await call(PROFILE_ROUTES.find, { query: { email: 'nobody@example.com' } });
    expect(byEmail).toEqual({
      status: 404,
      body: { error: 'profile_not_found', message: 'no profile has this email' },
    });
  });

  it.each([
    [{}, 'invalid_query'],
    [{ email: 'a@x.io', phone: '+14155550100' }, 'invalid_query'],
    [{ email: 'not an email' }, 'invalid_query'],
    [{ phone: '12' }, 'invalid_query'],
    [{ external: 'no-colon' }, 'invalid_query'],
    [{ external: 'Shop ify:1' }, 'invalid_query'],
    [{ external: 'shopify:' }, 'invalid_query'],
    [{ name: 'Ada' }, 'invalid_query'],
  ])('answers 400 for the malformed query %j', async (query, code) => {
    const { status, body } = await call(PROFILE_ROUTES.find, { query: query as Record<string, string> });
    expect(status).toBe(400);
    expect(body).toEqual({ error: code, message: expect.any(String) });
  });

  it('answers 400 for a malformed profile id, never a 500', async () => {
    for (const profileId of ['', 'p_short', '../etc/passwd', `p_${'g'.repeat(26)}`]) {
      const { status, body } = await call(PROFILE_ROUTES.get, { profileId });
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_profile_id');
    }
  });
});

describe('Profile API: timeline', () => {
  it('pages newest first with a cursor, across the profiles merged into it, each event once', async () => {
    const first = await writer.apply(upsert('shopify', '2025-01-01T00:00:00.000Z', [email('t@x.io')], {}));
    const second = await writer.apply(
      upsert('square', '2025-01-02T00:00:00.000Z', [phone('+14155550122')], {}),
    );
    for (let day = 3; day <= 9; day++) {
      const identities = day % 2 === 0 ? [email('t@x.io')] : [phone('+14155550122')];
      await writer.apply(
        canonical('message.delivered', {
          connector: 'sendgrid',
          at: `2025-01-0${day}T00:00:00.000Z`,
          identities,
          data: { channel: 'email', messageId: `m${day}`, vendorStatus: 'delivered' },
        }),
      );
    }
    await writer.apply(
      upsert('hubspot', '2025-01-10T00:00:00.000Z', [email('t@x.io'), phone('+14155550122')], {}),
    );

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { status, body } = await call(PROFILE_ROUTES.events, {
        profileId: second.profileId ?? '',
        query: { limit: '3', ...(cursor ? { cursor } : {}) },
      });
      expect(status).toBe(200);
      expect(body.profileId).toBe(first.profileId);
      const events = body.events as { occurredAt: string; eventId: string }[];
      expect(events.length).toBeLessThanOrEqual(3);
      seen.push(...events.map((event) => event.occurredAt));
      cursor = body.nextCursor as string | undefined;
      pages++;
    } while (cursor && pages < 10);

    expect(seen).toEqual([...seen].sort().reverse());
    expect(seen).toHaveLength(10);
    expect(new Set(seen).size).toBe(10);
    expect(pages).toBe(4);
  });

  it('shows an event once when a redelivery after a merge left a copy on the survivor, whatever the page size', async () => {
    // The older profile survives the merge: the event's own profile is the one merged away.
    await writer.apply(upsert('square', '2025-02-02T00:00:00.000Z', [phone('+14155550133')], {}));
    const original = upsert('shopify', '2025-02-01T00:00:00.000Z', [email('copy@x.io')], {});
    await writer.apply(original);
    const linked = await writer.apply(
      upsert('hubspot', '2025-02-03T00:00:00.000Z', [email('copy@x.io'), phone('+14155550133')], {}),
    );
    // Redelivered after the merge: its timeline entry is written again, under the survivor.
    await writer.apply(original);
    for (const limit of ['1', '2', '3']) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const { body } = await call(PROFILE_ROUTES.events, {
          profileId: linked.profileId ?? '',
          query: { limit, ...(cursor ? { cursor } : {}) },
        });
        seen.push(...(body.events as { eventId: string }[]).map((event) => event.eventId));
        cursor = body.nextCursor as string | undefined;
      } while (cursor);
      expect(seen).toHaveLength(3);
      expect(new Set(seen).size).toBe(3);
    }
  });

  it('answers 400 for a bad limit or a cursor it did not issue', async () => {
    const { profileId } = await ada();
    for (const limit of ['0', '101', 'ten', '-1', '1.5']) {
      const { status, body } = await call(PROFILE_ROUTES.events, { profileId, query: { limit } });
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_query');
    }
    for (const cursor of [
      'garbage',
      encodeCursor({ 'not-a-profile': 'x' }),
      Buffer.from('[1]').toString('base64url'),
    ]) {
      const { status, body } = await call(PROFILE_ROUTES.events, { profileId, query: { cursor } });
      expect(status).toBe(400);
      expect(body.error).toBe('invalid_cursor');
    }
    expect(decodeCursor(encodeCursor({ [profileId ?? '']: 'T#2025' }))).toEqual({
      [profileId ?? '']: 'T#2025',
    });
  });
});

describe('Profile API: erasure', () => {
  it('erases the person, their identities and timeline, announces profile.erased, then answers 404', async () => {
    const { profileId } = await ada();
    const erased = await call(PROFILE_ROUTES.erase, { profileId }, true);
    expect(erased).toEqual({
      status: 200,
      body: { profileId, erased: { identities: 3, timelineEntries: 1 } },
    });
    expect(publisher.events.map((event) => event.type)).toContain('profile.erased');
    expect((await call(PROFILE_ROUTES.get, { profileId })).status).toBe(404);
    expect((await call(PROFILE_ROUTES.find, { query: { email: 'ada@example.com' } })).status).toBe(404);
    expect((await call(PROFILE_ROUTES.erase, { profileId }, true)).status).toBe(404);
  });

  it('finishes an erasure cut short (after some deletes) when the request is retried, leaving no redirect behind', async () => {
    const { survivorId, mergedId } = await mergedPair(writer);
    const deleteProfile = store.deleteProfile.bind(store);
    store.deleteProfile = async (id, options) => {
      if (id === mergedId) throw new Error('Task timed out after 10.00 seconds');
      return deleteProfile(id, options);
    };
    expect((await call(PROFILE_ROUTES.erase, { profileId: survivorId }, true)).status).toBe(500);
    store.deleteProfile = deleteProfile;

    const retried = await call(PROFILE_ROUTES.erase, { profileId: survivorId }, true);
    expect(retried.status).toBe(200);
    expect(await store.getProfile(survivorId)).toBeUndefined();
    expect(await store.getProfile(mergedId)).toBeUndefined();
    expect((await call(PROFILE_ROUTES.get, { profileId: mergedId })).status).toBe(404);
  });

  it('refuses to erase from the read-only function', async () => {
    const { profileId } = await ada();
    const { status, body } = await call(PROFILE_ROUTES.erase, { profileId });
    expect(status).toBe(405);
    expect(body.error).toBe('method_not_allowed');
    expect((await reader.get(profileId ?? ''))?.profileId).toBe(profileId);
  });
});

describe('Profile API: routes declared once', () => {
  it.each(Object.entries(PROFILE_API))('dispatches the declared route %s', async (_name, route) => {
    const { status, body } = await call(routeKeyOf(route), { profileId: 'not-an-id' }, true);
    expect(status).toBe(400);
    expect(body.error).toMatch(/^invalid_/);
  });

  it('answers a route it does not declare with 404 not_found', async () => {
    const { status, body } = await call('PUT /profiles/{profileId}', { profileId: 'not-an-id' }, true);
    expect(status).toBe(404);
    expect(body).toEqual({ error: 'not_found', message: 'no route PUT /profiles/{profileId}' });
  });

  it('is deployed from the declaration: the GETs on the read-only function, DELETE on the erasure one', () => {
    const deployed = Object.fromEntries(
      topology.api.map((api) => [api.id, { routes: api.routes.map(routeKeyOf), api }]),
    );
    expect(deployed['profile-api']?.routes).toEqual([
      'GET /profiles',
      'GET /profiles/{profileId}',
      'GET /profiles/{profileId}/events',
    ]);
    expect(deployed['profile-api']?.api).toMatchObject({
      entry: 'functions/profile-api.ts',
      tables: { [profileTable.id]: 'read' },
    });
    expect(deployed['profile-api']?.api.publishes).toBeUndefined();
    expect(deployed['profile-erasure']?.routes).toEqual(['DELETE /profiles/{profileId}']);
    expect(deployed['profile-erasure']?.api).toMatchObject({
      entry: 'functions/profile-api.ts',
      tables: { [profileTable.id]: 'readwrite' },
      publishes: true,
    });
    expect(Object.keys(deployed)).toEqual(['profile-api', 'profile-erasure']);
  });
});
