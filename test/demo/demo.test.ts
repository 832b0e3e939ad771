/**
 * The demo's journey through a real local hub (ingest handlers, bus, queue, profile writer, dynalite):
 * every signed webhook is accepted, each person ends as exactly one profile, and that profile is the
 * one the journey's truth describes. Reads go through the profile API when the hub serves it, else
 * through ProfileReader (the API's read path) on the hub's table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityKey } from '../../core/identity/identity.ts';
import type { ProfileView } from '../../core/profile/reader.ts';
import type { DeliveryResult } from '../../demo/post.ts';
import { chooseLookup, differences, type ProfileLookup } from '../../demo/profiles.ts';
import type { JourneyTruth } from '../../demo/truth.ts';
import type { LocalHub } from '../../local/hub.ts';
import { refusedDeliveries, runDemoOnLocalHub } from '../support/demo-hub.ts';

let hub: LocalHub;
let results: DeliveryResult[];
let truth: JourneyTruth;
let lookup: ProfileLookup;

beforeAll(async () => {
  ({ hub, results, truth } = await runDemoOnLocalHub());
  lookup = await chooseLookup(hub.url, hub.dynamoDbUrl);
}, 60_000);

afterAll(async () => hub?.stop());

describe('Demo: the omnichannel journey through the local hub', () => {
  it('posts every webhook of the journey and each is acknowledged with 2xx', () => {
    expect(results).toHaveLength(truth.webhooks);
    expect(refusedDeliveries(results)).toEqual([]);
  });

  it('publishes exactly the canonical events the journey expects, and nothing is dead-lettered', async () => {
    const response = await fetch(`${hub.url}/local/events?limit=1000`);
    const archive = (await response.json()) as {
      events: { event: { source: string; 'detail-type': string } }[];
    };
    const fromConnectors = archive.events.filter((item) => item.event.source !== 'omnihub.profiles');
    const byType: Record<string, number> = {};
    for (const item of fromConnectors)
      byType[item.event['detail-type']] = (byType[item.event['detail-type']] ?? 0) + 1;
    expect(byType).toEqual(truth.totals.eventsByType);
    const writer = hub.health().consumers.find((consumer) => consumer.id === 'profile-writer');
    expect(writer?.deadLetterQueue.visible).toBe(0);
  });

  it('ends with one profile per person: every identity of a person leads to the same profile', async () => {
    const profileIds = new Set<string>();
    for (const person of truth.people) {
      const owners = new Set<string | undefined>();
      for (const identity of person.identities) owners.add((await lookup.find(identity))?.profileId);
      expect([...owners], `${person.name}: ${person.identities.map(identityKey).join(', ')}`).toHaveLength(1);
      expect([...owners][0]).toMatch(/^p_/);
      profileIds.add([...owners][0] ?? '');
    }
    expect(profileIds.size).toBe(truth.people.length);
  });

  describe.each(['ava', 'noah', 'mia'])('%s', (personId) => {
    let view: ProfileView;
    beforeAll(async () => {
      const person = truth.people.find((candidate) => candidate.person === personId);
      const found = person && (await lookup.find(person.lookup));
      if (!found) throw new Error(`no profile for ${personId}`);
      view = found;
    });
    const person = () => {
      const found = truth.people.find((candidate) => candidate.person === personId);
      if (!found) throw new Error(`${personId} is not in the journey`);
      return found;
    };

    it('has exactly the identities, traits and trait sources of the journey', () => {
      expect(view.identities.map(identityKey).sort()).toEqual(person().identities.map(identityKey));
      expect(view.traits).toEqual(person().traits);
      const sources = Object.fromEntries(
        Object.entries(view.traitSources).map(([name, s]) => [name, s.source]),
      );
      expect(sources).toEqual(person().traitSources);
    });

    it('has the consent of the newest report per channel', () => {
      for (const channel of ['email', 'sms'] as const) {
        const { status, source, reason } = view.consent[channel];
        expect({ status, source, reason }, channel).toEqual({
          status: person().consent[channel].status,
          source: person().consent[channel].source,
          reason: person().consent[channel].reason,
        });
      }
    });

    it('has the order stats (refunds subtracted per currency), channels and loyalty', () => {
      expect(view.stats).toEqual(person().stats);
      expect(view.loyalty).toEqual(person().loyalty);
    });

    it('records each merge with the event identity that linked the profiles', () => {
      expect(view.mergedFrom).toHaveLength(person().merges.length);
      expect(view.mergeHistory).toHaveLength(person().merges.length);
      view.mergeHistory.forEach((merge, index) => {
        expect(person().merges[index]?.linkedBy).toContain(merge.identity);
        expect(view.mergedFrom).toContain(merge.merged);
      });
    });

    it('keeps every canonical event of the person on the timeline, newest first', async () => {
      const entries = await lookup.timeline(view.profileId, 100);
      const byType: Record<string, number> = {};
      for (const entry of entries) byType[entry.type] = (byType[entry.type] ?? 0) + 1;
      expect(byType).toEqual(person().timeline.byType);
      const times = entries.map((entry) => entry.occurredAt);
      expect(times).toEqual([...times].sort().reverse());
    });

    it('pages the timeline with the cursor: small pages give the same entries in the same order', async () => {
      // Pages of 4: Ava's 19 entries span her own and her merged HubSpot profile's partitions.
      const whole = await lookup.timeline(view.profileId, 100);
      const paged = await lookup.timeline(view.profileId, 4);
      expect(paged.map((entry) => `${entry.occurredAt} ${entry.type}`)).toEqual(
        whole.map((entry) => `${entry.occurredAt} ${entry.type}`),
      );
    });

    it('agrees with the demo’s own comparison (what `npm run demo` prints as checked)', () => {
      expect(differences(view, person())).toEqual([]);
    });
  });

  it('derives the totals an analyst checks: checkouts started vs completed, orders, net revenue', () => {
    expect(truth.totals).toMatchObject({
      people: 3,
      orders: 4,
      refunds: 1,
      checkouts: { started: 2, completed: 1, abandoned: 1 },
      net: { USD: 8660 + 21200 + 4599, CAD: 5989 - 2712 },
      merges: 2,
    });
  });
});
