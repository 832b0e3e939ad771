/**
 * The event publisher of the consumers and APIs (the profile writer's and the erasure's `profile.*`
 * events, the sync's link events): {@link PutEventsPublisher} over {@link putEventsOverJson}, with no
 * AWS SDK in the bundle, as the ingest handlers publish. Chunking, retries and results: `put-events.ts`.
 */
import { AwsJsonClient, EVENTBRIDGE } from './json-client.ts';
import { PutEventsPublisher, putEventsOverJson } from './put-events.ts';

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
  /** @default an EventBridge {@link AwsJsonClient}: endpoint, region and credentials from the environment */
  readonly client?: AwsJsonClient;
  /** Attempts per entry, the first included. @default 4 */
  readonly attempts?: number;
  /** Base delay of the exponential backoff with full jitter. @default 50 */
  readonly baseDelayMs?: number;
}

/**
 * @example
 * const publisher = new BusPublisher({ busName: process.env.OMNIHUB_BUS_NAME });
 * const { published, failed } = await publisher.publish(envelopes);
 */
export class BusPublisher extends PutEventsPublisher {
  constructor(options: BusPublisherOptions) {
    super({
      busName: options.busName,
      putEvents: putEventsOverJson(options.client ?? new AwsJsonClient(EVENTBRIDGE)),
      ...(options.attempts !== undefined ? { attempts: options.attempts } : {}),
      ...(options.baseDelayMs !== undefined ? { baseDelayMs: options.baseDelayMs } : {}),
    });
  }
}
