/**
 * The Lambda SQS event source mapping, with `ReportBatchItemFailures` on: polls the consumer's queue,
 * gathers up to `batchSize` messages (waiting up to the batching window to fill the batch), invokes the
 * consumer with an `SQSEvent`, and deletes the messages the function processed.
 *
 * - A returned `batchItemFailures` list keeps exactly those messages; they become visible again after
 *   the visibility timeout. As in Lambda, an empty or null list (or no response) is a complete success,
 *   and a malformed list (an item without a message id of this batch) fails the whole batch.
 * - A thrown error or a timeout fails the whole batch: nothing is deleted.
 * - Redrive to the DLQ is the queue's, on the receive after `maxReceiveCount` receives.
 *
 * One invocation at a time per consumer (Lambda scales pollers and concurrent invocations out; the
 * local hub keeps it sequential, which is enough to develop against and keeps logs readable).
 */
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { ChangeNotifier } from '../change-notifier.ts';
import type { LocalFunction } from '../lambda/local-function.ts';
import { describeError, type HubLogger } from '../log.ts';
import type { ReceivedMessage, SqsQueue } from './queue.ts';

/** How long one idle poll waits for a message (SQS's maximum long poll). */
const IDLE_POLL_MS = 20_000;
/** SQS returns at most 10 messages per receive; larger batches take several receives. */
const MAX_MESSAGES_PER_RECEIVE = 10;

export type EventSourceMappingState = 'running' | 'paused' | 'stopped';

export interface EventSourceMappingOptions {
  readonly queue: SqsQueue;
  readonly consumer: LocalFunction;
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly region: string;
  readonly log: HubLogger;
}

/** What a batch's response means for its messages. */
export type BatchOutcome =
  | { readonly kind: 'all-succeeded' }
  | { readonly kind: 'partial'; readonly failedMessageIds: ReadonlySet<string> }
  | { readonly kind: 'all-failed'; readonly reason: string };

/** Interprets a consumer's return value as Lambda does with `ReportBatchItemFailures`. */
export function interpretBatchResponse(result: unknown, messageIds: ReadonlySet<string>): BatchOutcome {
  if (result === undefined || result === null || result === '' || typeof result !== 'object') {
    return { kind: 'all-succeeded' };
  }
  const failures = (result as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'all-succeeded' };
  if (!Array.isArray(failures)) return { kind: 'all-failed', reason: 'batchItemFailures is not a list' };
  if (failures.length === 0) return { kind: 'all-succeeded' };
  const failedMessageIds = new Set<string>();
  for (const failure of failures) {
    const identifier = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof identifier !== 'string' || identifier === '' || !messageIds.has(identifier)) {
      return {
        kind: 'all-failed',
        reason: `batchItemFailures names ${JSON.stringify(identifier)}, not a message of this batch`,
      };
    }
    failedMessageIds.add(identifier);
  }
  return { kind: 'partial', failedMessageIds };
}

/** An SQS record exactly as Lambda passes it to the function. */
export function toSqsRecord(message: ReceivedMessage, queue: SqsQueue, region: string): SQSRecord {
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, attribute] of Object.entries(message.messageAttributes)) {
    messageAttributes[name] = {
      ...(attribute.StringValue !== undefined ? { stringValue: attribute.StringValue } : {}),
      ...(attribute.BinaryValue !== undefined ? { binaryValue: attribute.BinaryValue } : {}),
      stringListValues: [],
      binaryListValues: [],
      dataType: attribute.DataType,
    };
  }
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes: { ...message.attributes },
    messageAttributes,
    md5OfBody: message.md5OfBody,
    ...(message.md5OfMessageAttributes ? { md5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queue.arn,
    awsRegion: region,
  };
}

/** Polls one queue and invokes one consumer. */
export class SqsEventSourceMapping {
  /** Notified when an invocation starts or ends and when a poll changed the queue. */
  readonly activity = new ChangeNotifier();
  private currentState: EventSourceMappingState;
  private invoking = false;
  private loop: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  constructor(
    private readonly options: EventSourceMappingOptions,
    initialState: 'running' | 'paused' = 'running',
  ) {
    this.currentState = initialState;
  }

  get state(): EventSourceMappingState {
    return this.currentState;
  }

  /** Whether a batch is being processed right now. */
  get isInvoking(): boolean {
    return this.invoking;
  }

  start(): void {
    this.loop ??= this.poll().catch((error: unknown) => {
      this.options.log.error(`poller stopped unexpectedly: ${describeError(error)}`);
    });
  }

  pause(): void {
    if (this.currentState === 'running') this.currentState = 'paused';
    this.options.queue.changes.notify();
  }

  resume(): void {
    if (this.currentState === 'paused') this.currentState = 'running';
    this.options.queue.changes.notify();
  }

  /** Stops polling; resolves once the batch in progress (if any) has finished. */
  async stop(): Promise<void> {
    this.currentState = 'stopped';
    this.stopping.abort();
    await this.loop;
  }

  private async poll(): Promise<void> {
    const { queue, batchSize, maximumBatchingWindowSeconds } = this.options;
    const signal = this.stopping.signal;
    while (this.currentState !== 'stopped') {
      if (this.currentState === 'paused') {
        await queue.changes.wait(IDLE_POLL_MS, signal);
        continue;
      }
      const visible = await queue.waitForVisible(1, IDLE_POLL_MS, signal);
      if (this.currentState !== 'running' || visible === 0) continue;
      if (visible < batchSize && maximumBatchingWindowSeconds > 0) {
        await queue.waitForVisible(batchSize, maximumBatchingWindowSeconds * 1000, signal);
        if (this.currentState !== 'running') continue;
      }
      const messages = this.receiveBatch();
      this.activity.notify();
      if (messages.length > 0) await this.invoke(messages);
    }
  }

  private receiveBatch(): ReceivedMessage[] {
    const { queue, batchSize } = this.options;
    const batch: ReceivedMessage[] = [];
    while (batch.length < batchSize) {
      const received = queue.receive({
        maxMessages: Math.min(MAX_MESSAGES_PER_RECEIVE, batchSize - batch.length),
      });
      if (received.length === 0) break;
      batch.push(...received);
    }
    return batch;
  }

  private async invoke(messages: readonly ReceivedMessage[]): Promise<void> {
    const { queue, consumer, region, log } = this.options;
    const event: SQSEvent = { Records: messages.map((message) => toSqsRecord(message, queue, region)) };
    this.invoking = true;
    this.activity.notify();
    try {
      const outcome = await consumer.invoke(event);
      const retryNote = `will be received again after the visibility timeout (${queue.visibilityTimeoutSeconds} s)`;
      if (!outcome.ok) {
        log.error(`batch of ${messages.length} failed (${describeError(outcome.error)}); all ${retryNote}`);
        return;
      }
      const verdict = interpretBatchResponse(
        outcome.result,
        new Set(messages.map((message) => message.messageId)),
      );
      if (verdict.kind === 'all-failed') {
        log.error(`batch of ${messages.length} failed (${verdict.reason}); all ${retryNote}`);
        return;
      }
      const failed = verdict.kind === 'partial' ? verdict.failedMessageIds : new Set<string>();
      for (const message of messages) {
        if (!failed.has(message.messageId)) queue.delete(message.receiptHandle);
      }
      log.info(
        failed.size === 0
          ? `batch of ${messages.length} processed`
          : `batch of ${messages.length}: ${messages.length - failed.size} processed, ${failed.size} reported failed and ${retryNote}`,
      );
    } finally {
      this.invoking = false;
      this.activity.notify();
    }
  }
}
