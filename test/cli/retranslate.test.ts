/**
 * `omnihub retranslate` against a local hub, end to end: HubSpot webhooks signed as HubSpot signs
 * them are ingested by today's translators (in the hub's runtime thread); then the test changes a
 * translator in this process, as a fix would (the CLI runs the translators of the process it runs in):
 * the country mapping, and a schema that quarantined an element. Re-translation publishes only what
 * changed, the profile converges to the fixed translator's output, the quarantine empties, and every
 * second run publishes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import type { CliIo } from '../../cli/command.ts';
import { main } from '../../cli/main.ts';
import {
  PROPERTY_TRAITS,
  type PropertyRow,
  toCustomerCreated,
  topics,
} from '../../connectors/hubspot/inbound.ts';
import { ContactEvent } from '../../connectors/hubspot/schema.ts';
import { type TopicDefinition, topic } from '../../core/connector.ts';
import { generateWebhookKeys, signWebhook } from '../../demo/vendor-webhooks.ts';
import { type LocalHub, startLocalHub } from '../../local/hub.ts';

const PUBLIC_URL = 'https://hooks.example.com';
const keys = generateWebhookKeys(PUBLIC_URL);
let hub: LocalHub;
let from = '';

function collect(): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (text) => out.push(text), err: (text) => err.push(text), interactive: false, env: {} },
    out,
    err,
  };
}

async function retranslate(...args: string[]): Promise<{ line: string; err: string }> {
  const { io, out, err } = collect();
  const to = new Date(Date.now() + 1000).toISOString();
  const window = args.includes('--quarantined') ? [] : ['--from', from, '--to', to];
  expect(await main(['retranslate', ...window, ...args, '--api', hub.url], io), err.join('\n')).toBe(0);
  await hub.drain({ timeoutMs: 20_000 });
  return { line: out.at(-1) ?? '', err: err.join('\n') };
}

async function country(): Promise<unknown> {
  const response = await fetch(`${hub.url}/profiles?external=hubspot:501`);
  const profile = (await response.json()) as { traits: Record<string, unknown> };
  return profile.traits['address.country'] ?? (profile.traits.address as { country?: unknown })?.country;
}

/** HubSpot's events on the bus (the profile writer's announcements aside). */
async function archivedEvents(): Promise<number> {
  const answer = await fetch(`${hub.url}/local/events?type=customer.upserted&limit=1000`);
  return ((await answer.json()) as { count: number }).count;
}

/** What a test changed in this process's translators, put back after the file. */
const restore: (() => void)[] = [];

const event = (fields: Record<string, unknown>) => ({
  subscriptionId: 9100,
  portalId: 62515,
  attemptNumber: 0,
  occurredAt: 1748772000000,
  ...fields,
});

beforeAll(async () => {
  hub = await startLocalHub({
    port: 0,
    dataDir: ':memory:',
    env: { ...keys.secrets, OMNIHUB_PUBLIC_URL: PUBLIC_URL },
    log: () => {},
  });
  from = new Date(Date.now() - 1000).toISOString();
  for (const batch of [
    [
      event({ eventId: 1, subscriptionType: 'contact.creation', objectId: 501 }),
      event({
        eventId: 2,
        subscriptionType: 'contact.propertyChange',
        objectId: 501,
        propertyName: 'country',
        propertyValue: 'United States',
        occurredAt: 1748772001000,
      }),
    ],
    // occurredAt as an ISO string: today's schema wants epoch milliseconds, so it is quarantined.
    [
      event({
        eventId: 3,
        subscriptionType: 'contact.creation',
        objectId: 502,
        occurredAt: '2025-06-01T10:00:00Z',
      }),
    ],
  ]) {
    const request = signWebhook({ connector: 'hubspot', body: JSON.stringify(batch) }, keys);
    const response = await fetch(`${hub.url}${request.path}`, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
    });
    expect(response.status).toBe(200);
  }
  await hub.drain({ timeoutMs: 20_000 });
});

afterAll(async () => {
  for (const undo of restore.reverse()) undo();
  await hub?.stop();
});

describe('omnihub retranslate on the local hub', () => {
  it('knows an unchanged translator publishes nothing, without publishing', async () => {
    expect(await country()).toBe('United States');
    const events = await archivedEvents();
    const { line, err } = await retranslate();
    expect(line).toBe('read 3, published 0, unchanged 2, still failing 1');
    // Progress counts archived requests (two batches).
    expect(err).toContain('retranslated 2/2');
    expect(await archivedEvents()).toBe(events);
  });

  it('publishes the corrections of a fixed translator, converges the profile, and then publishes nothing more', async () => {
    const rows = PROPERTY_TRAITS as Record<string, PropertyRow>;
    const original = rows.country;
    restore.push(() => {
      if (original) rows.country = original;
    });
    rows.country = {
      address: 'country',
      normalize: (value) => (value === 'United States' ? 'US' : value.trim()),
    };
    const events = await archivedEvents();
    const dry = collect();
    const to = new Date(Date.now() + 1000).toISOString();
    expect(
      await main(['retranslate', '--from', from, '--to', to, '--dry-run', '--api', hub.url], dry.io),
    ).toBe(0);
    expect(dry.out).toEqual([
      'Dry run: nothing was published, recorded or removed.',
      'read 3, published 1, unchanged 1, still failing 1',
    ]);
    expect(await archivedEvents()).toBe(events);

    expect((await retranslate()).line).toBe('read 3, published 1, unchanged 1, still failing 1');
    expect(await archivedEvents()).toBe(events + 1);
    expect(await country()).toBe('US');

    expect((await retranslate()).line).toBe('read 3, published 0, unchanged 2, still failing 1');
    expect(await archivedEvents()).toBe(events + 1);
    expect(await country()).toBe('US');
  });

  it('retries the quarantine with --quarantined and removes what now translates', async () => {
    const quarantined = await (await fetch(`${hub.url}/local/quarantine`)).json();
    expect(quarantined).toEqual([expect.objectContaining({ connector: 'hubspot', deliveryId: '9100:3' })]);
    const table = topics as Record<string, TopicDefinition>;
    const original = table['contact.creation'];
    restore.push(() => {
      if (original) table['contact.creation'] = original;
    });
    const acceptingIso = z.pipe(
      z.transform((value: unknown) => {
        const fields = value as { occurredAt?: unknown };
        return typeof fields.occurredAt === 'string'
          ? { ...fields, occurredAt: Date.parse(fields.occurredAt) }
          : fields;
      }),
      ContactEvent,
    );
    table['contact.creation'] = topic(acceptingIso, toCustomerCreated) as TopicDefinition;
    expect((await retranslate('--quarantined', '--dry-run')).line).toBe(
      'read 1, published 1, unchanged 0, still failing 0',
    );
    expect(await (await fetch(`${hub.url}/local/quarantine`)).json()).toHaveLength(1);
    expect((await retranslate('--quarantined')).line).toBe(
      'read 1, published 1, unchanged 0, still failing 0',
    );
    expect(await (await fetch(`${hub.url}/local/quarantine`)).json()).toEqual([]);
    const profile = await fetch(`${hub.url}/profiles?external=hubspot:502`);
    expect(profile.status).toBe(200);
    expect((await retranslate('--quarantined')).line).toBe(
      'read 0, published 0, unchanged 0, still failing 0',
    );
    expect((await retranslate()).line).toBe('read 3, published 0, unchanged 3, still failing 0');
  });

  it('says what is wrong with its options', async () => {
    const missing = collect();
    expect(await main(['retranslate', '--api', hub.url], missing.io)).toBe(2);
    expect(missing.err.join('\n')).toContain('--from is required');
    const misplaced = collect();
    expect(
      await main(['retranslate', '--from', '2025-06-01', '--bucket', 'b', '--api', hub.url], misplaced.io),
    ).toBe(2);
    expect(misplaced.err.join('\n')).toContain('--bucket goes with --aws');
  });
});
