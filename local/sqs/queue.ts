/**
 * One SQS standard queue with the semantics consumers rely on: visibility timeout, receipt handles,
 * `ApproximateReceiveCount`, redrive to a dead-letter queue after `maxReceiveCount` receives, message
 * attributes and their MD5s, delays and retention.
 *
 * Durability: every state change is appended to a per-queue journal (`<dataDir>/queues/<name>.jsonl`)
 * with a synchronous write before the call returns, so it survives the process being killed. `send`
 * additionally needs `persist()` (fsync) before the sender is told it succeeded; receives, visibility
 * changes and deletes are flushed by the next fsync of the journal (or on close). On open, the journal
 * is replayed and compacted to one `send` record per live message.
 *
 * Not emulated: FIFO queues, message groups, deduplication, the 120 000 in-flight limit, the 12-hour
 * cap on a message's total visibility extension, PurgeQueue's once-per-60-seconds limit.
 */
import { randomUUID } from 'node:crypto';
import { ChangeNotifier } from '../change-notifier.ts';
import type { HubLogger } from '../log.ts';
import { AppendOnlyFile, readJsonLines, replaceFileDurably } from '../storage/append-only-file.ts';
import { SqsError } from './errors.ts';
import { type MessageAttributeValue, md5Hex, md5OfMessageAttributes } from './md5.ts';

/** SQS's default retention (4 days), which is what a queue created without the property gets. */
export const DEFAULT_MESSAGE_RETENTION_SECONDS = 345_600;
/** SQS's current default and maximum message size (1 MiB), body plus attributes. */
export const DEFAULT_MAXIMUM_MESSAGE_SIZE_BYTES = 1_048_576;
const MAX_DELAY_SECONDS = 900;
const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;
const MAX_MESSAGE_ATTRIBUTES = 10;
/** Stands in for the IAM principal id SQS reports as `SenderId` (the hub has no IAM). */
export const LOCAL_SENDER_ID = 'AIDAOMNIHUBLOCALSENDR';

export interface QueueSettings {
  readonly name: string;
  readonly arn: string;
  readonly visibilityTimeoutSeconds: number;
  /** @default 345600 (4 days) */
  readonly messageRetentionSeconds?: number;
  /** @default 1048576 (1 MiB) */
  readonly maximumMessageSizeBytes?: number;
  /** The redrive policy: move a message to `deadLetterQueue` once it was received `maxReceiveCount` times. */
  readonly redrive?: { readonly deadLetterQueue: SqsQueue; readonly maxReceiveCount: number };
}

export interface QueueStorage {
  /** Journal file; absent keeps the queue in memory only. */
  readonly journalPath?: string;
  /** Clock in epoch milliseconds; tests pass a fake one. @default Date.now */
  readonly now?: () => number;
  readonly log?: HubLogger;
}

export interface SendMessageInput {
  readonly body: string;
  readonly delaySeconds?: number;
  readonly messageAttributes?: Readonly<Record<string, MessageAttributeValue>>;
  readonly awsTraceHeader?: string;
}

export interface SentMessage {
  readonly messageId: string;
  readonly md5OfBody: string;
  readonly md5OfMessageAttributes?: string;
}

/** System attributes as SQS reports them: every value a string. */
export interface MessageSystemAttributes {
  readonly SenderId: string;
  readonly SentTimestamp: string;
  readonly ApproximateReceiveCount: string;
  readonly ApproximateFirstReceiveTimestamp: string;
  readonly AWSTraceHeader?: string;
  readonly DeadLetterQueueSourceArn?: string;
}

export interface ReceivedMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly messageAttributes: Readonly<Record<string, MessageAttributeValue>>;
  readonly md5OfMessageAttributes?: string;
  readonly attributes: MessageSystemAttributes;
}

export interface QueueCounts {
  /** Visible now: `ApproximateNumberOfMessages`. */
  readonly visible: number;
  /** Received and not yet deleted or visible again: `ApproximateNumberOfMessagesNotVisible`. */
  readonly inFlight: number;
  /** Sent with a delay that has not elapsed: `ApproximateNumberOfMessagesDelayed`. */
  readonly delayed: number;
}

interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly messageAttributes: Record<string, MessageAttributeValue>;
  readonly md5OfMessageAttributes?: string;
  readonly sentTimestamp: number;
  readonly senderId: string;
  readonly awsTraceHeader?: string;
  readonly deadLetterQueueSourceArn?: string;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  visibleAt: number;
  receiptHandle?: string;
}

type JournalRecord =
  | { readonly op: 'send'; readonly message: StoredMessage }
  | {
      readonly op: 'receive';
      readonly id: string;
      readonly receiptHandle: string;
      readonly receiveCount: number;
      readonly firstReceiveTimestamp: number;
      readonly visibleAt: number;
    }
  | { readonly op: 'visibility'; readonly id: string; readonly visibleAt: number }
  | { readonly op: 'delete'; readonly id: string }
  | { readonly op: 'purge' };

function isJournalRecord(value: unknown): value is JournalRecord {
  return typeof value === 'object' && value !== null && typeof (value as { op?: unknown }).op === 'string';
}

/** SQS accepts only the XML character set in bodies: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000+. */
function firstInvalidCharacter(text: string): number | undefined {
  for (const character of text) {
    const code = character.codePointAt(0) ?? 0;
    const allowed =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      (code >= 0x10000 && code <= 0x10ffff);
    if (!allowed) return code;
  }
  return undefined;
}

const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;

function validateAttributes(attributes: Readonly<Record<string, MessageAttributeValue>>): number {
  const names = Object.keys(attributes);
  if (names.length > MAX_MESSAGE_ATTRIBUTES) {
    throw new SqsError(
      'InvalidParameterValue',
      `Number of message attributes [${names.length}] exceeds the allowed maximum [${MAX_MESSAGE_ATTRIBUTES}].`,
    );
  }
  let size = 0;
  for (const name of names) {
    const attribute = attributes[name];
    const reserved = /^(aws\.|amazon\.)/i.test(name);
    if (
      !ATTRIBUTE_NAME.test(name) ||
      reserved ||
      name.startsWith('.') ||
      name.endsWith('.') ||
      name.includes('..')
    ) {
      throw new SqsError('InvalidParameterValue', `Message (user) attribute name '${name}' is invalid.`);
    }
    if (
      !attribute ||
      typeof attribute.DataType !== 'string' ||
      !/^(String|Number|Binary)(\..+)?$/.test(attribute.DataType)
    ) {
      throw new SqsError(
        'InvalidParameterValue',
        `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
      );
    }
    const binary = attribute.DataType.startsWith('Binary');
    const value = binary ? attribute.BinaryValue : attribute.StringValue;
    if (typeof value !== 'string' || value.length === 0) {
      throw new SqsError(
        'InvalidParameterValue',
        `Message (user) attribute '${name}' must contain a non-empty value of type '${binary ? 'Binary' : 'String'}'.`,
      );
    }
    if (attribute.DataType.startsWith('Number') && !Number.isFinite(Number(value))) {
      throw new SqsError(
        'InvalidParameterValue',
        `Value ${value} for message (user) attribute '${name}' is not a number.`,
      );
    }
    size +=
      Buffer.byteLength(name) +
      Buffer.byteLength(attribute.DataType) +
      (binary ? Buffer.from(value, 'base64').length : Buffer.byteLength(value));
  }
  return size;
}

/** An SQS standard queue, in memory, journaled to disk when given a journal path. */
export class SqsQueue {
  /** Woken on every change: sends, receives, visibility changes, deletes. */
  readonly changes = new ChangeNotifier();
  readonly createdTimestamp: number;
  private readonly messages = new Map<string, StoredMessage>();
  private readonly now: () => number;

  private constructor(
    readonly settings: QueueSettings,
    private readonly journal: AppendOnlyFile | undefined,
    storage: QueueStorage,
  ) {
    this.now = storage.now ?? Date.now;
    this.createdTimestamp = this.now();
  }

  /** Opens a queue, replaying and compacting its journal when it has one. */
  static open(settings: QueueSettings, storage: QueueStorage = {}): SqsQueue {
    const now = storage.now ?? Date.now;
    const recovered = new Map<string, StoredMessage>();
    if (storage.journalPath) {
      const records = readJsonLines(storage.journalPath, (line) =>
        storage.log?.warn(
          `${settings.name}: skipped unreadable journal line ${line} (cut short by a crash?)`,
        ),
      );
      for (const record of records) {
        if (isJournalRecord(record)) SqsQueue.replay(recovered, record);
      }
      const retentionMs = (settings.messageRetentionSeconds ?? DEFAULT_MESSAGE_RETENTION_SECONDS) * 1000;
      for (const [id, message] of recovered) {
        if (now() - message.sentTimestamp > retentionMs) recovered.delete(id);
      }
      replaceFileDurably(
        storage.journalPath,
        [...recovered.values()].map((message) =>
          JSON.stringify({ op: 'send', message } satisfies JournalRecord),
        ),
      );
    }
    const journal = storage.journalPath ? AppendOnlyFile.open(storage.journalPath) : undefined;
    const queue = new SqsQueue(settings, journal, storage);
    for (const [id, message] of recovered) queue.messages.set(id, message);
    return queue;
  }

  private static replay(messages: Map<string, StoredMessage>, record: JournalRecord): void {
    switch (record.op) {
      case 'send':
        messages.set(record.message.messageId, { ...record.message });
        return;
      case 'receive': {
        const message = messages.get(record.id);
        if (!message) return;
        message.receiptHandle = record.receiptHandle;
        message.receiveCount = record.receiveCount;
        message.firstReceiveTimestamp = record.firstReceiveTimestamp;
        message.visibleAt = record.visibleAt;
        return;
      }
      case 'visibility': {
        const message = messages.get(record.id);
        if (message) message.visibleAt = record.visibleAt;
        return;
      }
      case 'delete':
        messages.delete(record.id);
        return;
      case 'purge':
        messages.clear();
        return;
    }
  }

  get name(): string {
    return this.settings.name;
  }

  get arn(): string {
    return this.settings.arn;
  }

  get visibilityTimeoutSeconds(): number {
    return this.settings.visibilityTimeoutSeconds;
  }

  get maximumMessageSizeBytes(): number {
    return this.settings.maximumMessageSizeBytes ?? DEFAULT_MAXIMUM_MESSAGE_SIZE_BYTES;
  }

  get messageRetentionSeconds(): number {
    return this.settings.messageRetentionSeconds ?? DEFAULT_MESSAGE_RETENTION_SECONDS;
  }

  private record(record: JournalRecord): void {
    this.journal?.append(JSON.stringify(record));
  }

  /**
   * Enqueues a message. The message is written to the journal before this returns (it survives a
   * process crash); call {@link persist} before acknowledging it to survive a power loss too.
   */
  send(input: SendMessageInput): SentMessage {
    if (typeof input.body !== 'string' || input.body.length === 0) {
      throw new SqsError('MissingParameter', 'The request must contain the parameter MessageBody.');
    }
    const invalid = firstInvalidCharacter(input.body);
    if (invalid !== undefined) {
      throw new SqsError(
        'InvalidMessageContents',
        `Invalid binary character '#x${invalid.toString(16).toUpperCase()}' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`,
      );
    }
    const delaySeconds = input.delaySeconds ?? 0;
    if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > MAX_DELAY_SECONDS) {
      throw new SqsError(
        'InvalidParameterValue',
        `Value ${delaySeconds} for parameter DelaySeconds is invalid. Reason: must be between 0 and ${MAX_DELAY_SECONDS}, if provided.`,
      );
    }
    const attributes = { ...(input.messageAttributes ?? {}) };
    const size = Buffer.byteLength(input.body) + validateAttributes(attributes);
    if (size > this.maximumMessageSizeBytes) {
      throw new SqsError(
        'InvalidParameterValue',
        `One or more parameters are invalid. Reason: Message must be shorter than ${this.maximumMessageSizeBytes} bytes.`,
      );
    }
    const now = this.now();
    const hasAttributes = Object.keys(attributes).length > 0;
    const message: StoredMessage = {
      messageId: randomUUID(),
      body: input.body,
      md5OfBody: md5Hex(input.body),
      messageAttributes: attributes,
      ...(hasAttributes ? { md5OfMessageAttributes: md5OfMessageAttributes(attributes) } : {}),
      sentTimestamp: now,
      senderId: LOCAL_SENDER_ID,
      ...(input.awsTraceHeader ? { awsTraceHeader: input.awsTraceHeader } : {}),
      receiveCount: 0,
      visibleAt: now + delaySeconds * 1000,
    };
    this.record({ op: 'send', message });
    this.messages.set(message.messageId, message);
    this.changes.notify();
    return {
      messageId: message.messageId,
      md5OfBody: message.md5OfBody,
      ...(message.md5OfMessageAttributes ? { md5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
    };
  }

  /** Takes in a message moved from a source queue by its redrive policy, keeping id, body and history. */
  private acceptRedriven(message: StoredMessage, sourceArn: string): void {
    const moved: StoredMessage = {
      ...message,
      deadLetterQueueSourceArn: sourceArn,
      visibleAt: this.now(),
      receiptHandle: undefined,
    };
    this.record({ op: 'send', message: moved });
    // The source deletes its copy right after this; flush first so a power loss cannot lose both.
    this.journal?.syncBlocking();
    this.messages.set(moved.messageId, moved);
    this.changes.notify();
  }

  /** Resolves once every change so far is on disk. A no-op for in-memory queues. */
  async persist(): Promise<void> {
    await this.journal?.sync();
  }

  /**
   * Receives up to `maxMessages` visible messages, oldest first, hiding each for the visibility
   * timeout. A message already received `maxReceiveCount` times is moved to the dead-letter queue
   * instead of being returned, which is when SQS applies a redrive policy.
   */
  receive(
    options: { readonly maxMessages?: number; readonly visibilityTimeoutSeconds?: number } = {},
  ): ReceivedMessage[] {
    const maxMessages = options.maxMessages ?? 1;
    if (!Number.isInteger(maxMessages) || maxMessages < 1 || maxMessages > 10) {
      throw new SqsError(
        'InvalidParameterValue',
        `Value ${maxMessages} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`,
      );
    }
    const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? this.visibilityTimeoutSeconds;
    this.assertVisibilityTimeout(visibilityTimeoutSeconds);
    const now = this.now();
    const retentionMs = this.messageRetentionSeconds * 1000;
    const received: ReceivedMessage[] = [];
    let changed = false;
    for (const message of [...this.messages.values()]) {
      if (received.length >= maxMessages) break;
      if (message.visibleAt > now) continue;
      if (now - message.sentTimestamp > retentionMs) {
        this.remove(message.messageId);
        changed = true;
        continue;
      }
      const redrive = this.settings.redrive;
      if (redrive && message.receiveCount >= redrive.maxReceiveCount) {
        redrive.deadLetterQueue.acceptRedriven(message, this.arn);
        this.remove(message.messageId);
        changed = true;
        continue;
      }
      message.receiveCount += 1;
      message.firstReceiveTimestamp ??= now;
      message.visibleAt = now + visibilityTimeoutSeconds * 1000;
      message.receiptHandle = this.newReceiptHandle(message.messageId);
      this.record({
        op: 'receive',
        id: message.messageId,
        receiptHandle: message.receiptHandle,
        receiveCount: message.receiveCount,
        firstReceiveTimestamp: message.firstReceiveTimestamp,
        visibleAt: message.visibleAt,
      });
      received.push(this.toReceived(message, message.receiptHandle));
      changed = true;
    }
    if (changed) this.changes.notify();
    return received;
  }

  /**
   * Deletes the message a receipt handle was issued for. As in SQS, deleting an already deleted
   * message succeeds, and a handle from an earlier receive of a message that was received again
   * succeeds without deleting it (only the latest handle deletes).
   */
  delete(receiptHandle: string): void {
    const messageId = this.parseReceiptHandle(receiptHandle);
    const message = this.messages.get(messageId);
    if (!message || message.receiptHandle !== receiptHandle) return;
    this.remove(messageId);
    this.changes.notify();
  }

  /**
   * Sets how long a received message stays hidden, counted from now (0 makes it visible at once).
   * The latest receipt handle keeps working after the visibility timeout expired, as long as nobody
   * received the message again: as on SQS the call succeeds and hides the message again (it does not
   * count as a receive). An older handle, or one of a deleted message, is refused.
   */
  changeVisibility(receiptHandle: string, visibilityTimeoutSeconds: number): void {
    this.assertVisibilityTimeout(visibilityTimeoutSeconds);
    const messageId = this.parseReceiptHandle(receiptHandle);
    const message = this.messages.get(messageId);
    if (!message || message.receiptHandle !== receiptHandle) {
      throw new SqsError(
        'InvalidParameterValue',
        `Value ${receiptHandle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`,
      );
    }
    message.visibleAt = this.now() + visibilityTimeoutSeconds * 1000;
    this.record({ op: 'visibility', id: messageId, visibleAt: message.visibleAt });
    this.changes.notify();
  }

  /** Deletes every message. */
  purge(): void {
    this.messages.clear();
    this.record({ op: 'purge' });
    this.changes.notify();
  }

  counts(): QueueCounts {
    const now = this.now();
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const message of this.messages.values()) {
      if (message.visibleAt <= now) visible += 1;
      else if (message.receiveCount === 0) delayed += 1;
      else inFlight += 1;
    }
    return { visible, inFlight, delayed };
  }

  /** Milliseconds until the next hidden message becomes visible, or undefined when none is hidden. */
  private msUntilNextVisible(): number | undefined {
    const now = this.now();
    let next: number | undefined;
    for (const message of this.messages.values()) {
      if (message.visibleAt > now && (next === undefined || message.visibleAt < next))
        next = message.visibleAt;
    }
    return next === undefined ? undefined : next - now;
  }

  /**
   * Waits until at least `minVisible` messages are visible, `timeoutMs` elapsed or `signal` aborted;
   * resolves with the number visible then. Long polling (`WaitTimeSeconds`) and the event source
   * mapping's batching window are built on this.
   */
  async waitForVisible(minVisible: number, timeoutMs: number, signal?: AbortSignal): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { visible } = this.counts();
      const remaining = deadline - Date.now();
      if (visible >= minVisible || remaining <= 0 || signal?.aborted) return visible;
      const nextVisible = this.msUntilNextVisible();
      await this.changes.wait(
        nextVisible === undefined ? remaining : Math.min(remaining, nextVisible + 1),
        signal,
      );
    }
  }

  /** Flushes and closes the journal. */
  async close(): Promise<void> {
    await this.journal?.close();
  }

  private remove(messageId: string): void {
    this.messages.delete(messageId);
    this.record({ op: 'delete', id: messageId });
  }

  private assertVisibilityTimeout(seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_VISIBILITY_TIMEOUT_SECONDS) {
      throw new SqsError(
        'InvalidParameterValue',
        `Value ${seconds} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and ${MAX_VISIBILITY_TIMEOUT_SECONDS}, if provided.`,
      );
    }
  }

  private newReceiptHandle(messageId: string): string {
    return Buffer.from(JSON.stringify([this.name, messageId, randomUUID()]), 'utf8').toString('base64url');
  }

  private parseReceiptHandle(receiptHandle: string): string {
    const invalid = () =>
      new SqsError(
        'ReceiptHandleIsInvalid',
        `The input receipt handle "${receiptHandle}" is not a valid receipt handle.`,
      );
    if (typeof receiptHandle !== 'string' || receiptHandle.length === 0) throw invalid();
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(receiptHandle, 'base64url').toString('utf8'));
    } catch {
      throw invalid();
    }
    if (
      !Array.isArray(decoded) ||
      decoded.length !== 3 ||
      decoded[0] !== this.name ||
      typeof decoded[1] !== 'string'
    ) {
      throw invalid();
    }
    return decoded[1];
  }

  private toReceived(message: StoredMessage, receiptHandle: string): ReceivedMessage {
    return {
      messageId: message.messageId,
      receiptHandle,
      body: message.body,
      md5OfBody: message.md5OfBody,
      messageAttributes: message.messageAttributes,
      ...(message.md5OfMessageAttributes ? { md5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
      attributes: {
        SenderId: message.senderId,
        SentTimestamp: String(message.sentTimestamp),
        ApproximateReceiveCount: String(message.receiveCount),
        ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp ?? this.now()),
        ...(message.awsTraceHeader ? { AWSTraceHeader: message.awsTraceHeader } : {}),
        ...(message.deadLetterQueueSourceArn
          ? { DeadLetterQueueSourceArn: message.deadLetterQueueSourceArn }
          : {}),
      },
    };
  }
}
