/**
 * The profile API and the `omnihub profile` CLI end to end on the local hub with the real topology:
 * a signed Shopify delivery -> ingest -> bus -> profile writer -> DynamoDB, read back over HTTP through
 * the same routes API Gateway serves, then erased.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../cli/command.ts';
import { main } from '../../cli/main.ts';
import { type LocalHub, startLocalHub } from '../../local/hub.ts';
import { loadFixtureCases } from '../support/ingest.ts';

const fixture = loadFixtureCases().find(
  (c) => c.connector === 'shopify' && c.file === 'customers-create.json',
)?.fixture;
if (!fixture) throw new Error('shopify customers-create fixture missing');

let hub: LocalHub;
let profileId: string;

beforeAll(async () => {
  hub = await startLocalHub({
    port: 0,
    dataDir: ':memory:',
    env: { ...fixture.secrets, OMNIHUB_PUBLIC_URL: 'https://hooks.example.com' },
    log: () => {},
  });
  const { request } = fixture;
  const response = await fetch(`${hub.url}${request.path}`, {
    method: 'POST',
    headers: request.headers,
    body: request.body ?? '',
  });
  expect(response.status).toBe(200);
  await hub.drain({ timeoutMs: 20_000 });
}, 30_000);
afterAll(async () => hub?.stop());

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    out: (text) => {
      out += `${text}\n`;
    },
    err: (text) => {
      err += `${text}\n`;
    },
    interactive: false,
    env: {},
  };
  const code = await main([...args, '--api', hub.url], io);
  return { code, out, err };
}

describe('Profile API on the local hub', () => {
  it('finds the person by email, phone and external id, and by profile id', async () => {
    const byEmail = await fetch(`${hub.url}/profiles?email=${encodeURIComponent('Bob.Norman@example.com')}`);
    expect(byEmail.status).toBe(200);
    const profile = (await byEmail.json()) as { profileId: string; traits: Record<string, unknown> };
    profileId = profile.profileId;
    expect(profile.traits).toMatchObject({ firstName: 'Bob', lastName: 'Norman', 'address.city': 'Ottawa' });

    for (const query of ['phone=%2B16135551212', 'external=shopify%3A706405506930370084']) {
      const response = await fetch(`${hub.url}/profiles?${query}`);
      expect(((await response.json()) as { profileId: string }).profileId).toBe(profileId);
    }
    const byId = await fetch(`${hub.url}/profiles/${profileId}`);
    expect(byId.status).toBe(200);

    const events = (await (await fetch(`${hub.url}/profiles/${profileId}/events`)).json()) as {
      events: { type: string; connector: string }[];
    };
    expect(events.events).toEqual([
      expect.objectContaining({ type: 'customer.upserted', connector: 'shopify' }),
    ]);
  });

  it('answers JSON errors: 400 malformed, 404 unknown, 405 with Allow for a method the route lacks', async () => {
    const bad = await fetch(`${hub.url}/profiles?email=nope`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_query' });

    const missing = await fetch(`${hub.url}/profiles/p_${'0'.repeat(26)}`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'profile_not_found' });

    const wrong = await fetch(`${hub.url}/profiles/${profileId}`, { method: 'PUT' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, DELETE');
  });

  it('prints the profile with `omnihub profile get` and the timeline with `profile events`', async () => {
    const shown = await cli('profile', 'get', '--email', 'bob.norman@example.com');
    expect(shown).toMatchObject({ code: 0, err: '' });
    expect(shown.out).toContain(`Profile ${profileId}`);
    expect(shown.out).toMatch(/shopify\s+706405506930370084/);
    expect(shown.out).toMatch(/firstName\s+Bob\s+shopify/);

    const json = await cli('profile', 'get', '--id', profileId, '--json');
    const document = JSON.parse(json.out) as { profileId: string; consent: { email: { status: string } } };
    expect(document.profileId).toBe(profileId);
    expect(shown.out).toMatch(new RegExp(`\\n  email\\s+${document.consent.email.status}\\s+shopify`));

    const events = await cli('profile', 'events', profileId);
    expect(events.out).toMatch(/customer\.upserted\s+shopify/);

    const unknown = await cli('profile', 'get', '--email', 'nobody@example.com');
    expect(unknown).toMatchObject({ code: 1 });
    expect(unknown.err).toContain('profile_not_found');

    const usage = await cli('profile', 'get');
    expect(usage.code).toBe(2);
    expect(usage.err).toContain('give exactly one of --email, --phone, --external, --id');
  });

  it('erases the person with `omnihub profile erase --yes` (DELETE), announces profile.erased, then knows nobody', async () => {
    const unconfirmed = await cli('profile', 'erase', profileId);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.err).toContain('add --yes to confirm');

    const erased = await cli('profile', 'erase', profileId, '--yes', '--json');
    expect(erased.code).toBe(0);
    expect(JSON.parse(erased.out)).toEqual({
      profileId,
      erased: { identities: 3, timelineEntries: 1 },
    });
    expect((await fetch(`${hub.url}/profiles/${profileId}`, { method: 'DELETE' })).status).toBe(404);
    expect((await fetch(`${hub.url}/profiles?email=bob.norman%40example.com`)).status).toBe(404);
    const archive = (await (await fetch(`${hub.url}/local/events?type=profile.erased`)).json()) as {
      count: number;
    };
    expect(archive.count).toBe(1);
  });
});
