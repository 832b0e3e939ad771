/**
 * The event publisher with the AWS SDK's EventBridge client (consumers and tests use it; the ingest
 * handlers use {@link putEventsOverJson} instead, to keep the SDK out of their bundles). Chunking,
 * retries and results are shared: see `put-events.ts`.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutEventsPublisher } from './put-events.ts';

export {
  chunkEntries,
  type EventPublisher,
  EventTooLargeError,
  entrySize,
  MAX_ENTRIES_PER_CALL,
  MAX_REQUEST_BYTES,
  type PublishResult,
  PutEventsPublisher,
  putEventsOverJson,
  toEntry,
} from './put-events.ts';

export interface BusPublisherOptions {
  readonly busName: string;
  readonly client?: EventBridgeClient;
  /** Attempts per entry, the first included. @default 4 */
  readonly attempts?: number;
  /** Base delay of the exponential backoff with full jitter. @default 50 */
  readonly baseDelayMs?: number;
}

export class BusPublisher extends PutEventsPublisher {
  constructor(options: BusPublisherOptions) {
    const client = options.client ?? new EventBridgeClient({});
    super({
      busName: options.busName,
      putEvents: (entries) => client.send(new PutEventsCommand({ Entries: entries })),
      ...(options.attempts !== undefined ? { attempts: options.attempts } : {}),
      ...(options.baseDelayMs !== undefined ? { baseDelayMs: options.baseDelayMs } : {}),
    });
  }
}
