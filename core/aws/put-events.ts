/**
 * Publishing canonical events with PutEvents, independent of how the call is sent: at most 10
 * entries and 256 KB per call, entries that fail (`FailedEntryCount`) retried with backoff, and an
 * error when the bus still refuses them, so the delivery is not acknowledged and the vendor retries.
 *
 * Every function sends with {@link putEventsOverJson}, which needs no SDK in the bundle (see
 * docs/bundles.md); `BusPublisher` (`publisher.ts`) is this publisher with that default.
 */
import type { PutEventsRequestEntry, PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { ClientError } from '../errors.ts';
import type { Envelope } from '../events/envelope.ts';
import { exponentialBackoff, retry } from '../retry.ts';
import { AwsJsonClient, EVENTBRIDGE, isRetryableAwsError } from './json-client.ts';

export const MAX_ENTRIES_PER_CALL = 10;
export const MAX_REQUEST_BYTES = 256 * 1024;

export interface PublishResult {
  /** Indexes (into the input) of the envelopes the bus accepted. */
  readonly published: ReadonlySet<number>;
  /** Indexes the bus refused even after retries. */
  readonly failed: ReadonlySet<number>;
}

export interface EventPublisher {
  publish(envelopes: readonly Envelope[]): Promise<PublishResult>;
}

/** Sends one PutEvents call and returns the per-entry outcomes, in order. */
export type PutEventsCall = (
  entries: PutEventsRequestEntry[],
) => Promise<{ Entries?: PutEventsResultEntry[] }>;

/** The entry size as EventBridge counts it (Time 14 bytes, Source, DetailType, Detail, Resources). */
export function entrySize(entry: PutEventsRequestEntry): number {
  let size = entry.Time ? 14 : 0;
  size += Buffer.byteLength(entry.Source ?? '');
  size += Buffer.byteLength(entry.DetailType ?? '');
  size += Buffer.byteLength(entry.Detail ?? '');
  for (const resource of entry.Resources ?? []) size += Buffer.byteLength(resource);
  return size;
}

export function toEntry(envelope: Envelope, busName: string): PutEventsRequestEntry {
  return {
    EventBusName: busName,
    Source: envelope.source,
    DetailType: envelope.type,
    Detail: JSON.stringify(envelope),
    Time: new Date(envelope.occurredAt),
  };
}

/** Splits entries into calls of at most 10 entries and 256 KB. An entry over 256 KB alone is an error. */
export function chunkEntries(entries: readonly PutEventsRequestEntry[]): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  entries.forEach((entry, index) => {
    const size = entrySize(entry);
    if (size > MAX_REQUEST_BYTES) throw new EventTooLargeError(size);
    if (current.length === MAX_ENTRIES_PER_CALL || bytes + size > MAX_REQUEST_BYTES) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(index);
    bytes += size;
  });
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** 413: a delivery whose canonical event would not fit EventBridge's 256 KB entry limit. */
export class EventTooLargeError extends ClientError {
  override readonly name = 'EventTooLargeError';
  constructor(readonly size: number) {
    super(
      413,
      'event_too_large',
      `the delivery yields an event of ${size} bytes, over the 256 KB EventBridge limit`,
    );
  }
}

/**
 * PutEvents over the AWS JSON 1.1 protocol with {@link AwsJsonClient} (no AWS SDK).
 *
 * @example
 * const publisher = new PutEventsPublisher({ busName: 'omnihub', putEvents: putEventsOverJson() });
 */
export function putEventsOverJson(client = new AwsJsonClient(EVENTBRIDGE)): PutEventsCall {
  return (entries) =>
    client.call<{ Entries?: PutEventsResultEntry[] }>('PutEvents', {
      // JSON protocols carry timestamps as epoch seconds, as the SDK sends them.
      Entries: entries.map(({ Time, ...entry }) =>
        Time ? { ...entry, Time: Time.getTime() / 1000 } : entry,
      ),
    });
}

export interface PutEventsPublisherOptions {
  readonly busName: string;
  readonly putEvents: PutEventsCall;
  /** Attempts per entry, the first included. @default 4 */
  readonly attempts?: number;
  /** Base delay of the exponential backoff with full jitter. @default 50 */
  readonly baseDelayMs?: number;
}

export class PutEventsPublisher implements EventPublisher {
  readonly #putEvents: PutEventsCall;
  readonly #busName: string;
  readonly #attempts: number;
  readonly #baseDelayMs: number;

  constructor(options: PutEventsPublisherOptions) {
    this.#putEvents = options.putEvents;
    this.#busName = options.busName;
    this.#attempts = options.attempts ?? 4;
    this.#baseDelayMs = options.baseDelayMs ?? 50;
  }

  async publish(envelopes: readonly Envelope[]): Promise<PublishResult> {
    const entries = envelopes.map((envelope) => toEntry(envelope, this.#busName));
    const published = new Set<number>();
    let pending = entries.map((_, index) => index);
    const attempt = async () => {
      const refused: number[] = [];
      const calls = chunkEntries(pending.map((index) => entries[index] as PutEventsRequestEntry)).map(
        async (chunk) => {
          const indexes = chunk.map((position) => pending[position] as number);
          try {
            const result = await this.#putEvents(
              indexes.map((index) => entries[index] as PutEventsRequestEntry),
            );
            indexes.forEach((index, position) => {
              const outcome = result.Entries?.[position];
              if (outcome?.EventId && !outcome.ErrorCode) published.add(index);
              else refused.push(index);
            });
          } catch (error) {
            if (!isRetryableSdkError(error)) throw error;
            refused.push(...indexes);
          }
        },
      );
      await Promise.all(calls);
      pending = refused;
      if (pending.length > 0) throw new EntriesRefused();
    };
    await retry(attempt, {
      attempts: this.#attempts,
      // Before attempt n: full jitter over baseDelayMs × 2^(n-1).
      backoff: exponentialBackoff({ firstMs: 2 * this.#baseDelayMs }),
      retryable: (error) => error instanceof EntriesRefused,
    }).catch((error: unknown) => {
      // Out of attempts: the entries still pending are reported as failed, not thrown.
      if (!(error instanceof EntriesRefused)) throw error;
    });
    return { published, failed: new Set(pending) };
  }
}

/** Some entries of an attempt were refused or not sent; only those are sent again. */
class EntriesRefused extends Error {}

function isRetryableSdkError(error: unknown): boolean {
  if (isRetryableAwsError(error)) return true;
  if (!(error instanceof Error)) return false;
  const meta = (error as { $metadata?: { httpStatusCode?: number }; $retryable?: unknown }).$metadata;
  const status = meta?.httpStatusCode;
  // Throttling, 5xx and network errors (no status) are worth another try; a 4xx validation error is not.
  return status === undefined || status >= 500 || status === 429 || error.name === 'ThrottlingException';
}
