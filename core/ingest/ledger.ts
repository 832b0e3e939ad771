/**
 * The delivery ledger: remembers which vendor deliveries were already published, so a redelivery
 * answers 2xx and publishes nothing. Built on the Powertools idempotency persistence layer
 * (DynamoDB), used per delivery rather than per invocation because HubSpot and SendGrid batch many
 * deliveries into one request and each must be deduplicated on its own.
 *
 * The records live in DynamoDB exactly as Powertools' `DynamoDBPersistenceLayer` writes them; the
 * default store speaks to DynamoDB without the AWS SDK (`idempotency-store.ts`, for cold start).
 *
 * A key goes through: reserve (conditional put of an IN_PROGRESS record that expires with the
 * invocation) -> publish -> complete (COMPLETED record kept for `retentionSeconds`). If publishing
 * fails the reservation is released, so the vendor's retry is processed again. If the process dies
 * in between, the IN_PROGRESS record expires with the invocation's deadline and the retry proceeds.
 *
 * A completed record keeps a digest of the events the delivery published (`publishedDigest`: their
 * ids, which cover their content), so `omnihub retranslate` knows a translation that would publish
 * the same events without publishing them, and records what a corrected translation published.
 */
import {
  IdempotencyConfig,
  IdempotencyItemAlreadyExistsError,
  IdempotencyItemNotFoundError,
  IdempotencyRecordStatus,
} from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { JsonProtocolPersistenceLayer } from './idempotency-store.ts';
import { rawRetentionDays } from './retention.ts';

export type Reservation = 'reserved' | 'completed' | 'in_progress';

export interface DeliveryLedger {
  /** Tries to reserve each key; says per key whether it is new, already done, or being processed. */
  reserve(keys: readonly string[], remainingTimeMs: number): Promise<Map<string, Reservation>>;
  /**
   * Marks keys done, with the digest of what each published; a key without a reservation is
   * recorded all the same (re-translation).
   */
  complete(keys: readonly string[], digests?: ReadonlyMap<string, string>): Promise<void>;
  release(keys: readonly string[]): Promise<void>;
  /** The digest each completed key recorded; absent for a key never completed (or expired). */
  published(keys: readonly string[]): Promise<Map<string, string | undefined>>;
}

/** How long a completed delivery is remembered: longer than any vendor retries (Square: 72 h). */
export const DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600;

/** The ledger's key prefix of a connector's deliveries (ingest and re-translation share it). */
export function ledgerKeyPrefix(connectorId: string): string {
  return `ingest.${connectorId}`;
}

/**
 * How long ingest keeps a completed record: as long as the raw archive keeps the delivery (so a
 * re-translation can tell what it published), and never less than the vendors' retries need.
 */
export function ledgerRetentionSeconds(env: NodeJS.ProcessEnv = process.env): number {
  return Math.max(DEFAULT_RETENTION_SECONDS, rawRetentionDays(env) * 86_400);
}

/** Reservations made at once per request (a 500-event SendGrid batch must not open 500 sockets). */
const CONCURRENCY = 16;

export class PowertoolsDeliveryLedger implements DeliveryLedger {
  readonly #store: BasePersistenceLayer;

  constructor(options: {
    tableName: string;
    keyPrefix: string;
    retentionSeconds?: number;
    store?: BasePersistenceLayer;
  }) {
    this.#store = options.store ?? new JsonProtocolPersistenceLayer({ tableName: options.tableName });
    this.#store.configure({
      keyPrefix: options.keyPrefix,
      config: new IdempotencyConfig({
        eventKeyJmesPath: 'key',
        expiresAfterSeconds: options.retentionSeconds ?? DEFAULT_RETENTION_SECONDS,
        throwOnNoIdempotencyKey: true,
      }),
    });
  }

  async reserve(keys: readonly string[], remainingTimeMs: number): Promise<Map<string, Reservation>> {
    const outcome = new Map<string, Reservation>();
    await forEachLimited(keys, CONCURRENCY, async (key) => {
      try {
        await this.#store.saveInProgress({ key }, remainingTimeMs);
        outcome.set(key, 'reserved');
      } catch (error) {
        if (!(error instanceof IdempotencyItemAlreadyExistsError)) throw error;
        // DynamoDB returns the existing record with the failed condition; stores that do not
        // (dynalite) leave it out, so read it.
        const record = error.existingRecord ?? (await this.#store.getRecord({ key }).catch(() => undefined));
        const status = record?.getStatus();
        outcome.set(key, status === IdempotencyRecordStatus.COMPLETED ? 'completed' : 'in_progress');
      }
    });
    return outcome;
  }

  async complete(keys: readonly string[], digests?: ReadonlyMap<string, string>): Promise<void> {
    await forEachLimited(keys, CONCURRENCY, (key) =>
      this.#store.saveSuccess({ key }, { published: true, events: digests?.get(key) }),
    );
  }

  async release(keys: readonly string[]): Promise<void> {
    await forEachLimited(keys, CONCURRENCY, (key) => this.#store.deleteRecord({ key }));
  }

  async published(keys: readonly string[]): Promise<Map<string, string | undefined>> {
    const digests = new Map<string, string | undefined>();
    await forEachLimited(keys, CONCURRENCY, async (key) => {
      try {
        const record = await this.#store.getRecord({ key });
        const data = record.responseData as { events?: unknown } | undefined;
        const completed = record.getStatus() === IdempotencyRecordStatus.COMPLETED;
        digests.set(key, completed && typeof data?.events === 'string' ? data.events : undefined);
      } catch (error) {
        if (!(error instanceof IdempotencyItemNotFoundError)) throw error;
        digests.set(key, undefined);
      }
    });
    return digests;
  }
}

/** Runs `run` over the items, at most `limit` at a time (a 500-element batch must not open 500 sockets). */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await run(item);
    }
  });
  await Promise.all(workers);
}

/**
 * A ledger in memory, for tests and benchmarks of the pipeline alone. Same contract as the
 * DynamoDB one; it does not survive the process.
 */
export class InMemoryDeliveryLedger implements DeliveryLedger {
  readonly #records = new Map<string, 'in_progress' | 'completed'>();
  readonly #digests = new Map<string, string>();

  async reserve(keys: readonly string[], _remainingTimeMs?: number): Promise<Map<string, Reservation>> {
    const outcome = new Map<string, Reservation>();
    for (const key of keys) {
      const existing = this.#records.get(key);
      if (existing) outcome.set(key, existing);
      else {
        this.#records.set(key, 'in_progress');
        outcome.set(key, 'reserved');
      }
    }
    return outcome;
  }

  async complete(keys: readonly string[], digests?: ReadonlyMap<string, string>): Promise<void> {
    for (const key of keys) {
      this.#records.set(key, 'completed');
      const digest = digests?.get(key);
      if (digest === undefined) this.#digests.delete(key);
      else this.#digests.set(key, digest);
    }
  }

  async release(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      this.#records.delete(key);
      this.#digests.delete(key);
    }
  }

  async published(keys: readonly string[]): Promise<Map<string, string | undefined>> {
    return new Map(
      keys.map((key) => [key, this.#records.get(key) === 'completed' ? this.#digests.get(key) : undefined]),
    );
  }
}
