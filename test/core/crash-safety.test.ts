/**
 * Crash safety of ingest: the process may die at any point after a write (raw archive, bus, ledger,
 * quarantine) and before the answer; the vendor then retries what it was not answered 2xx for, on a
 * fresh process with the same durable stores. Whatever the crash points:
 * - a 2xx is only ever given once the request is in the raw archive and each of its deliveries is on
 *   the bus (published) or in the quarantine: checked at the moment the answer is produced;
 * - once the vendor's retries got their 2xx, every valid delivery's events are on the bus (at least
 *   once, under the same ids, for consumers to dedupe), every invalid one is quarantined, and every
 *   request is in the raw archive.
 *
 * A crash is modelled as the process stopping: the write that crashes completes, then that call and
 * every later call of the invocation hang for ever, so nothing after the crash point happens and no
 * answer is given. The dead invocation's ledger reservations expire as they would in DynamoDB.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import type { EventPublisher } from '../../core/aws/publisher.ts';
import { defineConnector, draft, topic, type WebhookRequest } from '../../core/connector.ts';
import { errorResponse } from '../../core/http.ts';
import { parseJson } from '../../core/ingest/body.ts';
import { type DeliveryLedger, InMemoryDeliveryLedger } from '../../core/ingest/ledger.ts';
import { createIngestPipeline } from '../../core/ingest/pipeline.ts';
import { InMemoryQuarantine, type QuarantineStore } from '../../core/ingest/quarantine.ts';
import { InMemoryRawArchive, type RawArchive, readRawDeliveries } from '../../core/ingest/raw-archive.ts';
import { EnvironmentSecretSource } from '../../core/secrets.ts';
import { RecordingPublisher } from '../support/ingest.ts';

const Item = z.object({ id: z.string(), email: z.string() });

const shop = defineConnector({
  id: 'shop',
  name: 'Shop',
  category: 'ecommerce',
  secrets: {},
  inbound: {
    contentTypes: ['application/json'],
    verify: () => undefined,
    parse: (request) =>
      (parseJson(request.body) as { id: string }[]).map((item) => ({
        deliveryId: item.id,
        topic: 'created',
        payload: item,
      })),
    topics: {
      created: topic(Item, (item) => [
        draft('customer.upserted', {
          occurredAt: '2025-01-01T00:00:00Z',
          identities: [{ type: 'external', system: 'shop', value: item.id }],
          data: { system: 'shop', externalId: item.id, traits: {} },
        }),
      ]),
    },
  },
});

type CrashPoint = 'none' | 'archive' | 'publish' | 'complete' | 'quarantine';

/** The durable stores, shared by every process; each process is one pipeline over them. */
class World {
  readonly archive = new InMemoryRawArchive();
  readonly bus = new RecordingPublisher();
  readonly quarantine = new InMemoryQuarantine();
  readonly ledger = new InMemoryDeliveryLedger();
  /** Reservations of invocations that died: they expire with the invocation's deadline. */
  readonly abandoned = new Set<string>();
  #invocations = 0;

  /**
   * One invocation on a fresh process that dies right after the write at `crash`; each write takes
   * `latency` turns of the event loop (its I/O), by crash point name.
   */
  invoke(
    request: WebhookRequest,
    crash: CrashPoint,
    latency: Readonly<Record<string, number>>,
  ): Promise<{ status: number } | 'crashed'> {
    this.#invocations += 1;
    const requestId = `req-${this.#invocations}`;
    let dead = false;
    const hang = () => new Promise<never>(() => {});
    let crashed: () => void = () => {};
    const died = new Promise<'crashed'>((resolve) => {
      crashed = () => resolve('crashed');
    });
    /** Runs a write, then dies after it when it is the crash point. */
    const step = async <T>(point: CrashPoint, write: () => Promise<T>): Promise<T> => {
      if (dead) return hang();
      // Writes take time, as I/O does: an answer that did not wait for one comes before it.
      for (let turn = 0; turn < (latency[point] ?? 1); turn += 1) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (dead) return hang();
      const result = await write();
      if (crash !== 'none' && point === crash) {
        dead = true;
        crashed();
        return hang();
      }
      return result;
    };
    const reserved = new Set<string>();
    const ledger: DeliveryLedger = {
      reserve: async (keys, remaining) => {
        const outcome = await step('none', () => this.ledger.reserve(keys, remaining));
        for (const [key, status] of outcome) if (status === 'reserved') reserved.add(key);
        return outcome;
      },
      published: (keys) => this.ledger.published(keys),
      complete: (keys, digests) =>
        step('complete', async () => {
          await this.ledger.complete(keys, digests);
          for (const key of keys) reserved.delete(key);
        }),
      release: (keys) =>
        step('none', async () => {
          await this.ledger.release(keys);
          for (const key of keys) reserved.delete(key);
        }),
    };
    const publisher: EventPublisher = {
      publish: (envelopes) => step('publish', () => this.bus.publish(envelopes)),
    };
    const quarantine: QuarantineStore = {
      keep: (records) => step('quarantine', () => this.quarantine.keep(records)),
    };
    const archive: RawArchive = {
      keep: (...args) => step('archive', () => this.archive.keep(...args)),
    };
    const pipeline = createIngestPipeline(shop, {
      secrets: new EnvironmentSecretSource({}),
      ledger,
      publisher,
      quarantine,
      archive,
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'Test' }),
    });
    const answered = pipeline(request, { remainingTimeMs: 1000, correlationId: requestId })
      .catch((error) => errorResponse(error))
      .then((response) => {
        // The moment of the answer: a 2xx only when everything is durable.
        if (response.statusCode >= 200 && response.statusCode < 300) this.#assertDurable(request, requestId);
        return { status: response.statusCode };
      });
    return Promise.race([answered, died]).then((outcome) => {
      if (outcome === 'crashed') for (const key of reserved) this.abandoned.add(key);
      return outcome;
    });
  }

  /** A dead invocation's reservations expire before the vendor's retry arrives. */
  async expireAbandoned(): Promise<void> {
    await this.ledger.release([...this.abandoned]);
    this.abandoned.clear();
  }

  #assertDurable(request: WebhookRequest, requestId: string): void {
    expect(readRawDeliveries(this.archive.lines).map((delivery) => delivery.requestId)).toContain(requestId);
    const items = parseJson(request.body) as { id: string; email?: unknown }[];
    const published = new Set(this.bus.events.map((event) => event.origin.deliveryId));
    for (const item of items) {
      if (typeof item.email === 'string') expect(published).toContain(item.id);
      else expect(this.quarantine.records.has(`shop#${item.id}`)).toBe(true);
    }
  }
}

function request(items: readonly object[]): WebhookRequest {
  return {
    method: 'POST',
    path: '/webhooks/shop',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify(items)),
    publicUrl: 'https://hooks.example.com/webhooks/shop',
    receivedAt: new Date('2025-01-01T00:00:05Z'),
  };
}

describe('Ingest: crash safety', () => {
  it('never acknowledges what is not durable, and loses nothing the vendor was told it has', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Requests of up to 4 items (some invalid), each tried with a list of crash points in turn.
        fc.array(
          fc.record({
            items: fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
            crashes: fc.array(
              fc.constantFrom<CrashPoint>('archive', 'publish', 'complete', 'quarantine', 'none'),
              {
                maxLength: 3,
              },
            ),
            latency: fc.record({
              archive: fc.nat({ max: 8 }),
              publish: fc.nat({ max: 8 }),
              complete: fc.nat({ max: 8 }),
              quarantine: fc.nat({ max: 8 }),
            }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        async (plan) => {
          const world = new World();
          let id = 0;
          for (const { items, crashes, latency } of plan) {
            const body = items.map((valid) => {
              id += 1;
              return valid ? { id: `d${id}`, email: `d${id}@example.com` } : { id: `d${id}` };
            });
            // The vendor retries until it gets a 2xx; the last try runs without a crash.
            for (const crash of [...crashes, 'none' as const]) {
              const outcome = await world.invoke(request(body), crash, latency);
              if (outcome !== 'crashed' && outcome.status === 200) break;
              await world.expireAbandoned();
            }
          }
          const all = plan.flatMap((entry) => entry.items);
          const ids = all.map((_, index) => `d${index + 1}`);
          const valid = ids.filter((_, index) => all[index]);
          expect(new Set(world.bus.events.map((event) => event.origin.deliveryId))).toEqual(new Set(valid));
          // At least once, under one id per delivery: consumers dedupe on it.
          const eventIds = new Map<string, Set<string>>();
          for (const event of world.bus.events) {
            eventIds.set(
              event.origin.deliveryId,
              (eventIds.get(event.origin.deliveryId) ?? new Set()).add(event.id),
            );
          }
          for (const same of eventIds.values()) expect(same.size).toBe(1);
          expect([...world.quarantine.records.values()].map((record) => record.deliveryId).sort()).toEqual(
            ids.filter((_, index) => !all[index]).sort(),
          );
          const archivedBodies = new Set(
            readRawDeliveries(world.archive.lines).map((delivery) => delivery.request.body.toString()),
          );
          expect(archivedBodies.size).toBe(plan.length);
        },
      ),
      { numRuns: 150 },
    );
  });
});
