/**
 * The SQS JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.<Operation>`), as @aws-sdk/client-sqs 3.1169
 * sends it, over the hub's queues. Queue URLs look like AWS's: `<hub url>/<account id>/<queue name>`.
 *
 * Queues are the topology's; CreateQueue answers only for an existing name (as AWS does when the
 * attributes match), and operations that would change queues (DeleteQueue, SetQueueAttributes, tags,
 * message move tasks) answer `UnsupportedOperation`.
 */
import { SqsError } from './errors.ts';
import { type MessageAttributeValue, md5OfMessageAttributes } from './md5.ts';
import type { MessageSystemAttributes, ReceivedMessage, SqsQueue } from './queue.ts';

const MAX_WAIT_TIME_SECONDS = 20;
const MAX_BATCH_ENTRIES = 10;
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;

type Input = Readonly<Record<string, unknown>>;

/**
 * Every attribute name the SQS API reference lists for GetQueueAttributes. A name outside this list is
 * `InvalidAttributeName`; a listed name the queue has no value for (`Policy`, `RedriveAllowPolicy`,
 * the FIFO attributes of a standard queue, `RedrivePolicy` of a dead-letter queue) is left out of the
 * answer, as SQS does.
 */
const QUEUE_ATTRIBUTE_NAMES: ReadonlySet<string> = new Set([
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesDelayed',
  'ApproximateNumberOfMessagesNotVisible',
  'ContentBasedDeduplication',
  'CreatedTimestamp',
  'DeduplicationScope',
  'DelaySeconds',
  'FifoQueue',
  'FifoThroughputLimit',
  'KmsDataKeyReusePeriodSeconds',
  'KmsMasterKeyId',
  'LastModifiedTimestamp',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'Policy',
  'QueueArn',
  'ReceiveMessageWaitTimeSeconds',
  'RedriveAllowPolicy',
  'RedrivePolicy',
  'SqsManagedSseEnabled',
  'VisibilityTimeout',
]);

/** SQS's default `KmsDataKeyReusePeriodSeconds`, which the stack does not change. */
const KMS_DATA_KEY_REUSE_PERIOD_SECONDS = 300;

/**
 * What `KmsMasterKeyId` names for every queue of the hub. The deployed consumer queues and their DLQs
 * are encrypted with the hub's customer-managed key (lib/integration-hub.ts), for which CloudFormation
 * stores the key's ARN; the local hub has no KMS, so an alias ARN of the queue's region and account
 * stands for that key. Messages are not encrypted locally.
 */
export function localHubKeyArn(queueArn: string): string {
  const [, partition = 'aws', , region = '', accountId = ''] = queueArn.split(':');
  return `arn:${partition}:kms:${region}:${accountId}:alias/omnihub-local-hub-key`;
}

const MESSAGE_SYSTEM_ATTRIBUTE_NAMES: readonly (keyof MessageSystemAttributes)[] = [
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'AWSTraceHeader',
  'DeadLetterQueueSourceArn',
];

function stringParameter(input: Input, name: string): string {
  const value = input[name];
  if (value === undefined || value === null) {
    throw new SqsError('MissingParameter', `The request must contain the parameter ${name}.`);
  }
  if (typeof value !== 'string') {
    throw new SqsError('InvalidParameterValue', `Value for parameter ${name} must be a string.`);
  }
  return value;
}

function optionalInteger(input: Input, name: string): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new SqsError('InvalidParameterValue', `Value ${String(value)} for parameter ${name} is invalid.`);
  }
  return value;
}

function integerParameter(input: Input, name: string): number {
  const value = optionalInteger(input, name);
  if (value === undefined)
    throw new SqsError('MissingParameter', `The request must contain the parameter ${name}.`);
  return value;
}

function optionalStringList(input: Input, name: string): string[] {
  const value = input[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw new SqsError('InvalidParameterValue', `Value for parameter ${name} must be a list of strings.`);
  }
  return value as string[];
}

function entriesParameter(input: Input): Input[] {
  const entries = input.Entries;
  if (entries === undefined || entries === null || (Array.isArray(entries) && entries.length === 0)) {
    throw new SqsError(
      'EmptyBatchRequest',
      'There should be at least one SendMessageBatchRequestEntry in the request.',
    );
  }
  if (!Array.isArray(entries) || entries.some((entry) => typeof entry !== 'object' || entry === null)) {
    throw new SqsError('InvalidParameterValue', 'Value for parameter Entries must be a list of objects.');
  }
  if (entries.length > MAX_BATCH_ENTRIES) {
    throw new SqsError(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are ${MAX_BATCH_ENTRIES}. You have sent ${entries.length}.`,
    );
  }
  const seen = new Set<string>();
  for (const entry of entries as Input[]) {
    const id = entry.Id;
    if (typeof id !== 'string' || !BATCH_ENTRY_ID.test(id)) {
      throw new SqsError(
        'InvalidBatchEntryId',
        'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
      );
    }
    if (seen.has(id)) throw new SqsError('BatchEntryIdsNotDistinct', `Id ${id} repeated.`);
    seen.add(id);
  }
  return entries as Input[];
}

function messageAttributesParameter(input: Input): Record<string, MessageAttributeValue> | undefined {
  const value = input.MessageAttributes;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new SqsError('InvalidParameterValue', 'Value for parameter MessageAttributes must be a map.');
  }
  return value as Record<string, MessageAttributeValue>;
}

function traceHeaderParameter(input: Input): string | undefined {
  const system = input.MessageSystemAttributes as Record<string, MessageAttributeValue> | undefined;
  const header = system?.AWSTraceHeader?.StringValue;
  return typeof header === 'string' ? header : undefined;
}

/** Keeps the message attributes a ReceiveMessage asked for: names, `All`, `.*` or `prefix.*`. */
function selectMessageAttributes(
  attributes: Readonly<Record<string, MessageAttributeValue>>,
  requested: readonly string[],
): Record<string, MessageAttributeValue> {
  const selected: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    const wanted = requested.some(
      (pattern) =>
        pattern === 'All' ||
        pattern === '.*' ||
        pattern === name ||
        (pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1))),
    );
    if (wanted) selected[name] = value;
  }
  return selected;
}

/** Answers SQS API operations over the hub's queues. */
export class SqsApi {
  /**
   * @param queues the hub's queues by name
   * @param baseUrl the hub's URL (queue URLs are built from it)
   * @param stopping aborted when the hub stops, which ends long polls early
   */
  constructor(
    private readonly queues: ReadonlyMap<string, SqsQueue>,
    private readonly accountId: string,
    private readonly baseUrl: () => string,
    private readonly stopping: AbortSignal,
  ) {}

  /** The URL a queue is addressed by, as GetQueueUrl returns it. */
  queueUrl(queueName: string): string {
    return `${this.baseUrl()}/${this.accountId}/${queueName}`;
  }

  /** Runs one operation; throws `SqsError` for the answers SQS gives as errors. */
  async handle(operation: string, input: Input): Promise<unknown> {
    switch (operation) {
      case 'GetQueueUrl':
        return { QueueUrl: this.queueUrl(this.queueNamed(stringParameter(input, 'QueueName')).name) };
      case 'CreateQueue':
        return this.createQueue(input);
      case 'ListQueues':
        return this.listQueues(input);
      case 'SendMessage':
        return this.sendMessage(input);
      case 'SendMessageBatch':
        return this.sendMessageBatch(input);
      case 'ReceiveMessage':
        return this.receiveMessage(input);
      case 'DeleteMessage':
        this.queueAt(input).delete(stringParameter(input, 'ReceiptHandle'));
        return {};
      case 'DeleteMessageBatch':
        return this.batch(input, (queue, entry) => queue.delete(stringParameter(entry, 'ReceiptHandle')));
      case 'ChangeMessageVisibility':
        this.queueAt(input).changeVisibility(
          stringParameter(input, 'ReceiptHandle'),
          integerParameter(input, 'VisibilityTimeout'),
        );
        return {};
      case 'ChangeMessageVisibilityBatch':
        return this.batch(input, (queue, entry) =>
          queue.changeVisibility(
            stringParameter(entry, 'ReceiptHandle'),
            integerParameter(entry, 'VisibilityTimeout'),
          ),
        );
      case 'GetQueueAttributes':
        return this.getQueueAttributes(input);
      case 'PurgeQueue':
        this.queueAt(input).purge();
        return {};
      case 'DeleteQueue':
      case 'SetQueueAttributes':
      case 'TagQueue':
      case 'UntagQueue':
      case 'AddPermission':
      case 'RemovePermission':
      case 'StartMessageMoveTask':
      case 'CancelMessageMoveTask':
        throw new SqsError(
          'UnsupportedOperation',
          `${operation} is not supported by the local hub: its queues come from lib/topology.ts.`,
        );
      case 'ListQueueTags':
        this.queueAt(input);
        return { Tags: {} };
      case 'ListDeadLetterSourceQueues':
        return this.listDeadLetterSourceQueues(input);
      default:
        throw new SqsError('InvalidAction', `The action ${operation} is not valid for this endpoint.`);
    }
  }

  private queueNamed(name: string): SqsQueue {
    const queue = this.queues.get(name);
    if (!queue) throw new SqsError('QueueDoesNotExist', 'The specified queue does not exist.');
    return queue;
  }

  /** The queue a `QueueUrl` names. Only the path counts, so `localhost` and `127.0.0.1` both work. */
  private queueAt(input: Input): SqsQueue {
    const queueUrl = stringParameter(input, 'QueueUrl');
    let segments: string[];
    try {
      segments = new URL(queueUrl).pathname.split('/').filter(Boolean);
    } catch {
      throw new SqsError('QueueDoesNotExist', 'The specified queue does not exist.');
    }
    if (segments.length !== 2 || segments[0] !== this.accountId) {
      throw new SqsError('QueueDoesNotExist', 'The specified queue does not exist.');
    }
    return this.queueNamed(segments[1] ?? '');
  }

  private createQueue(input: Input): unknown {
    const name = stringParameter(input, 'QueueName');
    if (!this.queues.has(name)) {
      throw new SqsError(
        'UnsupportedOperation',
        `The local hub serves only the queues of lib/topology.ts; ${name} is not one of them.`,
      );
    }
    return { QueueUrl: this.queueUrl(name) };
  }

  private listQueues(input: Input): unknown {
    const prefix = typeof input.QueueNamePrefix === 'string' ? input.QueueNamePrefix : '';
    const maxResults = optionalInteger(input, 'MaxResults');
    const start = typeof input.NextToken === 'string' ? Number.parseInt(input.NextToken, 10) || 0 : 0;
    const names = [...this.queues.keys()].filter((name) => name.startsWith(prefix)).sort();
    const page =
      maxResults === undefined ? names.slice(start, start + 1000) : names.slice(start, start + maxResults);
    const next = start + page.length;
    if (page.length === 0) return {};
    return {
      QueueUrls: page.map((name) => this.queueUrl(name)),
      ...(maxResults !== undefined && next < names.length ? { NextToken: String(next) } : {}),
    };
  }

  private listDeadLetterSourceQueues(input: Input): unknown {
    const deadLetterQueue = this.queueAt(input);
    const sources = [...this.queues.values()].filter(
      (queue) => queue.settings.redrive?.deadLetterQueue === deadLetterQueue,
    );
    return { queueUrls: sources.map((queue) => this.queueUrl(queue.name)) };
  }

  private async sendMessage(input: Input): Promise<unknown> {
    const queue = this.queueAt(input);
    const sent = queue.send({
      body: stringParameter(input, 'MessageBody'),
      delaySeconds: optionalInteger(input, 'DelaySeconds'),
      messageAttributes: messageAttributesParameter(input),
      awsTraceHeader: traceHeaderParameter(input),
    });
    await queue.persist();
    return {
      MessageId: sent.messageId,
      MD5OfMessageBody: sent.md5OfBody,
      ...(sent.md5OfMessageAttributes ? { MD5OfMessageAttributes: sent.md5OfMessageAttributes } : {}),
    };
  }

  private async sendMessageBatch(input: Input): Promise<unknown> {
    const queue = this.queueAt(input);
    const entries = entriesParameter(input);
    const totalSize = entries.reduce(
      (sum, entry) =>
        sum + (typeof entry.MessageBody === 'string' ? Buffer.byteLength(entry.MessageBody) : 0),
      0,
    );
    if (totalSize > queue.maximumMessageSizeBytes) {
      throw new SqsError(
        'BatchRequestTooLong',
        `Batch requests cannot be longer than ${queue.maximumMessageSizeBytes} bytes. You have sent ${totalSize} bytes.`,
      );
    }
    const successful: unknown[] = [];
    const failed: unknown[] = [];
    for (const entry of entries) {
      try {
        const sent = queue.send({
          body: stringParameter(entry, 'MessageBody'),
          delaySeconds: optionalInteger(entry, 'DelaySeconds'),
          messageAttributes: messageAttributesParameter(entry),
          awsTraceHeader: traceHeaderParameter(entry),
        });
        successful.push({
          Id: entry.Id,
          MessageId: sent.messageId,
          MD5OfMessageBody: sent.md5OfBody,
          ...(sent.md5OfMessageAttributes ? { MD5OfMessageAttributes: sent.md5OfMessageAttributes } : {}),
        });
      } catch (error) {
        if (!(error instanceof SqsError)) throw error;
        failed.push({ Id: entry.Id, SenderFault: true, Code: error.code, Message: error.message });
      }
    }
    await queue.persist();
    return { Successful: successful, Failed: failed };
  }

  private batch(input: Input, apply: (queue: SqsQueue, entry: Input) => void): unknown {
    const queue = this.queueAt(input);
    const successful: unknown[] = [];
    const failed: unknown[] = [];
    for (const entry of entriesParameter(input)) {
      try {
        apply(queue, entry);
        successful.push({ Id: entry.Id });
      } catch (error) {
        if (!(error instanceof SqsError)) throw error;
        failed.push({ Id: entry.Id, SenderFault: true, Code: error.code, Message: error.message });
      }
    }
    return { Successful: successful, Failed: failed };
  }

  private async receiveMessage(input: Input): Promise<unknown> {
    const queue = this.queueAt(input);
    const maxMessages = optionalInteger(input, 'MaxNumberOfMessages') ?? 1;
    const visibilityTimeoutSeconds = optionalInteger(input, 'VisibilityTimeout');
    const waitTimeSeconds = optionalInteger(input, 'WaitTimeSeconds') ?? 0;
    if (waitTimeSeconds < 0 || waitTimeSeconds > MAX_WAIT_TIME_SECONDS) {
      throw new SqsError(
        'InvalidParameterValue',
        `Value ${waitTimeSeconds} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= ${MAX_WAIT_TIME_SECONDS}, if provided.`,
      );
    }
    const systemNames = [
      ...optionalStringList(input, 'AttributeNames'),
      ...optionalStringList(input, 'MessageSystemAttributeNames'),
    ];
    const attributeNames = optionalStringList(input, 'MessageAttributeNames');

    let messages = queue.receive({ maxMessages, visibilityTimeoutSeconds });
    if (messages.length === 0 && waitTimeSeconds > 0) {
      // Long polling: answer as soon as a message is available, or empty after WaitTimeSeconds.
      const deadline = Date.now() + waitTimeSeconds * 1000;
      while (messages.length === 0 && Date.now() < deadline && !this.stopping.aborted) {
        await queue.waitForVisible(1, deadline - Date.now(), this.stopping);
        messages = queue.receive({ maxMessages, visibilityTimeoutSeconds });
      }
    }
    if (messages.length === 0) return {};
    return { Messages: messages.map((message) => this.toWireMessage(message, systemNames, attributeNames)) };
  }

  private toWireMessage(
    message: ReceivedMessage,
    systemNames: readonly string[],
    attributeNames: readonly string[],
  ): Record<string, unknown> {
    const wantsAll = systemNames.includes('All');
    const attributes: Record<string, string> = {};
    for (const name of MESSAGE_SYSTEM_ATTRIBUTE_NAMES) {
      const value = message.attributes[name];
      if (value !== undefined && (wantsAll || systemNames.includes(name))) attributes[name] = value;
    }
    const messageAttributes = selectMessageAttributes(message.messageAttributes, attributeNames);
    const hasMessageAttributes = Object.keys(messageAttributes).length > 0;
    return {
      MessageId: message.messageId,
      ReceiptHandle: message.receiptHandle,
      MD5OfBody: message.md5OfBody,
      Body: message.body,
      ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
      ...(hasMessageAttributes
        ? {
            MD5OfMessageAttributes: md5OfMessageAttributes(messageAttributes),
            MessageAttributes: messageAttributes,
          }
        : {}),
    };
  }

  private getQueueAttributes(input: Input): unknown {
    const queue = this.queueAt(input);
    const requested = optionalStringList(input, 'AttributeNames');
    for (const name of requested) {
      if (name !== 'All' && !QUEUE_ATTRIBUTE_NAMES.has(name)) {
        throw new SqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
      }
    }
    const counts = queue.counts();
    const createdSeconds = String(Math.floor(queue.createdTimestamp / 1000));
    const redrive = queue.settings.redrive;
    // The queue as deployed: encrypted with the hub's KMS key (so not SQS-managed SSE), no policy.
    const all: Record<string, string> = {
      ApproximateNumberOfMessages: String(counts.visible),
      ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
      ApproximateNumberOfMessagesDelayed: String(counts.delayed),
      CreatedTimestamp: createdSeconds,
      LastModifiedTimestamp: createdSeconds,
      DelaySeconds: '0',
      MaximumMessageSize: String(queue.maximumMessageSizeBytes),
      MessageRetentionPeriod: String(queue.messageRetentionSeconds),
      QueueArn: queue.arn,
      ReceiveMessageWaitTimeSeconds: '0',
      VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
      KmsMasterKeyId: localHubKeyArn(queue.arn),
      KmsDataKeyReusePeriodSeconds: String(KMS_DATA_KEY_REUSE_PERIOD_SECONDS),
      SqsManagedSseEnabled: 'false',
      ...(redrive
        ? {
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: redrive.deadLetterQueue.arn,
              maxReceiveCount: redrive.maxReceiveCount,
            }),
          }
        : {}),
    };
    const attributes: Record<string, string> = {};
    for (const [name, value] of Object.entries(all)) {
      if (requested.includes('All') || requested.includes(name)) attributes[name] = value;
    }
    return Object.keys(attributes).length > 0 ? { Attributes: attributes } : {};
  }
}
