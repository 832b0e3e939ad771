/**
 * Re-translation's rules, on in-memory stores: an unchanged translator publishes nothing (known from
 * the ledger's digest, without publishing), a changed one publishes its corrected events once and
 * records them, quarantined deliveries that now translate leave the quarantine, and a correction wins
 * over the value it corrects at the same vendor time whatever the event ids.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import {
  type ConnectorDefinition,
  defineConnector,
  draft,
  topic,
  type WebhookRequest,
} from '../../core/connector.ts';
import { translatedEventId } from '../../core/events/event-id.ts';
import { parseJson } from '../../core/ingest/body.ts';
import { InMemoryDeliveryLedger } from '../../core/ingest/ledger.ts';
import { createIngestPipeline } from '../../core/ingest/pipeline.ts';
import { InMemoryQuarantine } from '../../core/ingest/quarantine.ts';
import { InMemoryRawArchive, readRawDeliveries } from '../../core/ingest/raw-archive.ts';
import {
  type RetranslateTarget,
  retranslateDeliveries,
  retranslateQuarantine,
} from '../../core/ingest/retranslate.ts';
import { emptyContent, foldEvent } from '../../core/profile/model.ts';
import { EnvironmentSecretSource } from '../../core/secrets.ts';
import { upsert } from '../profile/events.ts';
import { RecordingPublisher } from '../support/ingest.ts';

const Contact = z.object({ id: z.string(), city: z.string(), at: z.number() });

/** A connector whose city translation can be changed, as a fix would change it. */
function crm(city: (raw: string) => string, schema: z.ZodMiniType = Contact): ConnectorDefinition {
  return defineConnector({
    id: 'crm',
    name: 'CRM',
    category: 'crm',
    secrets: {},
    inbound: {
      contentTypes: ['application/json'],
      verify: () => undefined,
      parse: (request) =>
        (parseJson(request.body) as { id: string }[]).map((contact) => ({
          deliveryId: contact.id,
          topic: 'contact',
          payload: contact,
        })),
      topics: {
        contact: topic(schema, (contact) => {
          const { id, city: raw, at } = contact as z.infer<typeof Contact>;
          return [
            draft('customer.upserted', {
              occurredAt: new Date(at).toISOString(),
              identities: [{ type: 'external', system: 'crm', value: id }],
              data: { system: 'crm', externalId: id, traits: { address: { city: city(raw) } } },
            }),
          ];
        }),
      },
    },
  });
}

function request(contacts: readonly object[], at: string): WebhookRequest {
  return {
    method: 'POST',
    path: '/webhooks/crm',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify(contacts)),
    publicUrl: 'https://hooks.example.com/webhooks/crm',
    receivedAt: new Date(at),
  };
}

/** Ingest with one translator, then re-translate with another over the same stores. */
async function ingested(contacts: readonly object[][]) {
  const bus = new RecordingPublisher();
  const ledger = new InMemoryDeliveryLedger();
  const quarantine = new InMemoryQuarantine();
  const archive = new InMemoryRawArchive();
  const pipeline = createIngestPipeline(
    crm((raw) => raw),
    {
      secrets: new EnvironmentSecretSource({}),
      ledger,
      publisher: bus,
      quarantine,
      archive,
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'Test' }),
    },
  );
  for (const [index, batch] of contacts.entries()) {
    const response = await pipeline(request(batch, `2025-06-01T10:0${index}:00Z`), {
      remainingTimeMs: 1000,
      correlationId: `req-${index}`,
    });
    expect(response.statusCode).toBe(200);
  }
  const target = (connector: ConnectorDefinition, dryRun = false): RetranslateTarget => ({
    connectors: { crm: connector },
    publisher: bus,
    ledgerOf: () => ledger,
    quarantine,
    dryRun,
    correlationId: 'retranslate-1',
    now: () => new Date('2025-06-05T00:00:00Z'),
  });
  return { bus, quarantine, deliveries: () => readRawDeliveries(archive.lines), target };
}

const paris = { id: 'c1', city: 'paris', at: 1748772000000 };
const lyon = { id: 'c2', city: 'Lyon', at: 1748772000000 };
const broken = { id: 'c3', city: 'Nice', at: '2025-06-01T10:00:00Z' };

describe('Re-translation', () => {
  it('publishes nothing for an unchanged translator, and knows it without publishing', async () => {
    const { bus, deliveries, target } = await ingested([[paris, lyon], [broken]]);
    const before = bus.events.length;
    const summary = await retranslateDeliveries(deliveries(), target(crm((raw) => raw)));
    expect(summary).toEqual({ read: 3, published: 0, unchanged: 2, stillFailing: 1 });
    expect(bus.events).toHaveLength(before);
  });

  it('publishes the corrected events of a fixed translator once, with retranslatedAt; a second run publishes nothing', async () => {
    const { bus, deliveries, target } = await ingested([[paris, lyon]]);
    const capitalised = crm((raw) => raw.charAt(0).toUpperCase() + raw.slice(1));
    expect(await retranslateDeliveries(deliveries(), target(capitalised, true))).toEqual({
      read: 2,
      published: 1,
      unchanged: 1,
      stillFailing: 0,
    });
    expect(bus.events).toHaveLength(2);
    expect(await retranslateDeliveries(deliveries(), target(capitalised))).toEqual({
      read: 2,
      published: 1,
      unchanged: 1,
      stillFailing: 0,
    });
    const corrected = bus.events.at(-1);
    expect(corrected).toMatchObject({
      origin: { deliveryId: 'c1' },
      retranslatedAt: '2025-06-05T00:00:00.000Z',
      data: { traits: { address: { city: 'Paris' } } },
    });
    // A new id: the content changed; the first event keeps its own.
    expect(corrected?.id).not.toBe(bus.events[0]?.id);
    expect(await retranslateDeliveries(deliveries(), target(capitalised))).toEqual({
      read: 2,
      published: 0,
      unchanged: 2,
      stillFailing: 0,
    });
    expect(bus.events).toHaveLength(3);
  });

  it('retries the quarantine: what now translates is published and leaves it, the rest stays', async () => {
    const { bus, quarantine, deliveries, target } = await ingested([[paris], [broken, { id: 'c4' }]]);
    expect((await quarantine.list()).map((item) => item.deliveryId)).toEqual(['c3', 'c4']);
    const lenient = z.pipe(
      z.transform((value: unknown) => {
        const contact = value as { at?: unknown };
        return typeof contact.at === 'string' ? { ...contact, at: Date.parse(contact.at) } : contact;
      }),
      Contact,
    );
    const fixed = crm((raw) => raw, lenient);
    const items = await quarantine.list();
    expect(await retranslateQuarantine(items, deliveries(), target(fixed))).toEqual({
      read: 2,
      published: 1,
      unchanged: 0,
      stillFailing: 1,
    });
    expect(bus.events.at(-1)).toMatchObject({ origin: { deliveryId: 'c3' } });
    expect((await quarantine.list()).map((item) => item.deliveryId)).toEqual(['c4']);
    // Without its raw request (expired from the archive), an item is retried from its own copy.
    const left = await quarantine.list();
    expect(await retranslateQuarantine(left, [], target(fixed))).toEqual({
      read: 1,
      published: 0,
      unchanged: 0,
      stillFailing: 1,
    });
  });

  it("lets a correction win over the value it corrects at the same vendor time, whatever the ids' order", () => {
    const at = '2025-06-01T10:00:00.000Z';
    const identities = [{ type: 'external' as const, system: 'crm', value: 'c1' }];
    for (const [original, corrected] of [
      ['f0000000-0000-5000-8000-000000000000', '00000000-0000-5000-8000-000000000000'],
      ['00000000-0000-5000-8000-000000000000', 'f0000000-0000-5000-8000-000000000000'],
    ]) {
      const first = upsert('crm', at, identities, { company: 'wrong' }, original);
      const fix = { ...upsert('crm', at, identities, { company: 'right' }, corrected), retranslatedAt: at };
      for (const order of [
        [first, fix],
        [fix, first],
      ]) {
        let content = emptyContent();
        for (const event of order) content = foldEvent(content, event, ['external:crm:c1']);
        expect(content.traits.company?.value).toBe('right');
      }
    }
  });

  it('gives an event an id of its delivery, position and content: receive time and correlation aside', () => {
    const content = {
      type: 'customer.upserted',
      occurredAt: '2025-06-01T10:00:00.000Z',
      identities: [],
      data: { a: 1, b: 2 },
    };
    const id = translatedEventId('crm', 'c1', 0, content);
    expect(translatedEventId('crm', 'c1', 0, { ...content, data: { b: 2, a: 1 } })).toBe(id);
    expect(translatedEventId('crm', 'c1', 1, content)).not.toBe(id);
    expect(translatedEventId('crm', 'c2', 0, content)).not.toBe(id);
    expect(translatedEventId('crm', 'c1', 0, { ...content, data: { a: 1, b: 3 } })).not.toBe(id);
  });
});
