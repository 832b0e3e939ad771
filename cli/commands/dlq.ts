/**
 * `omnihub dlq list <destination>` and `omnihub dlq redrive <destination>`: the dead letters of a sync
 * destination (or of any consumer, by its id), with the reason each was refused, and putting them back
 * on the consumer's queue once the cause is fixed.
 *
 * Locally the queue URLs and the SQS endpoint come from the hub's `GET /health`; against AWS the
 * queues are found by name in the stack (`Omnihub-<stage>-...Consumers<id>DeadLetterQueue...`), or
 * given with `--queue-url` / `--dlq-url`. Redrive is receive -> send to the source queue -> delete,
 * which works the same on both.
 */
import { parseArgs } from 'node:util';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { connectors } from '../../connectors/index.ts';
import { redactPersonalData } from '../../core/redact.ts';
import { DLQ_ATTRIBUTES } from '../../core/sync/dead-letter.ts';
import { asUsageError, type CliCommand, type CliIo, UsageError } from '../command.ts';
import { ProgressBar, renderTable } from '../format.ts';
import { API_HELP, API_OPTIONS, apiUrl } from '../hub-client.ts';

/** The sync destinations: every registered connector with an outbound part. */
export const SYNC_DESTINATIONS: readonly string[] = Object.values(connectors)
  .filter((connector) => connector.outbound)
  .map((connector) => connector.id);

/** `a, b or c` */
function either(names: readonly string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

const USAGE = `Usage:
  omnihub dlq list <destination> [--json] [--max <n>]
  omnihub dlq redrive <destination> [--max <n>]

<destination> is ${either(SYNC_DESTINATIONS)} (the consumer sync-<destination>), or any
consumer id (profile-writer).

Options:
  --api <url>         ${API_HELP}
  --aws               use SQS in your AWS account (default credentials and region) instead of the local hub
  --stage <stage>     the deployed stage whose queues to use with --aws (default dev)
  --queue-url <url>   the consumer's queue, instead of finding it
  --dlq-url <url>     the consumer's dead-letter queue, instead of finding it
  --max <n>           stop after n messages (default: all)
  --json              list: one JSON object per message (the full body included)

Examples:
  npx omnihub dlq list hubspot
  npx omnihub dlq redrive hubspot
  npx omnihub dlq list square --aws --stage prod`;

interface Queues {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly deadLetterUrl: string;
}

interface HealthConsumer {
  readonly id: string;
  readonly queue: { readonly url: string };
  readonly deadLetterQueue: { readonly url: string };
}

/** A destination names its sync consumer (`hubspot` -> `sync-hubspot`); anything else is a consumer id. */
export function consumerIdOf(target: string): string {
  return SYNC_DESTINATIONS.includes(target) ? `sync-${target}` : target;
}

async function localQueues(api: string, consumerId: string, io: CliIo): Promise<Queues> {
  let health: { region?: string; endpoints?: { sqs?: string }; consumers?: HealthConsumer[] };
  try {
    const response = await fetch(new URL('/health', api));
    health = (await response.json()) as typeof health;
  } catch (error) {
    throw new Error(
      `cannot reach the hub at ${api} (${error instanceof Error ? error.message : String(error)}); is it running (npm start)? Use --aws for deployed queues.`,
    );
  }
  const consumer = health.consumers?.find((candidate) => candidate.id === consumerId);
  if (!consumer) {
    const known = (health.consumers ?? []).map((candidate) => candidate.id).join(', ');
    throw new UsageError(`the hub has no consumer ${consumerId} (it has: ${known})`);
  }
  const sqs = new SQSClient({
    endpoint: health.endpoints?.sqs ?? api,
    region: health.region ?? io.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return { sqs, queueUrl: consumer.queue.url, deadLetterUrl: consumer.deadLetterQueue.url };
}

async function awsQueues(stage: string, consumerId: string): Promise<Queues> {
  const sqs = new SQSClient({});
  const urls: string[] = [];
  let token: string | undefined;
  do {
    const page = await sqs.send(
      new ListQueuesCommand({ QueueNamePrefix: `Omnihub-${stage}-`, NextToken: token }),
    );
    urls.push(...(page.QueueUrls ?? []));
    token = page.NextToken;
  } while (token);
  // CloudFormation names queues <stack>-<logical id>-<suffix>; logical ids drop the dashes of ids.
  const logical = `Consumers${consumerId.replace(/[^A-Za-z0-9]/g, '')}`;
  const find = (kind: string) => urls.find((url) => new RegExp(`${logical}${kind}[A-F0-9]{8}-`).test(url));
  const queueUrl = find('Queue');
  const deadLetterUrl = find('DeadLetterQueue');
  if (!queueUrl || !deadLetterUrl) {
    throw new Error(
      `no queues of consumer ${consumerId} in stack Omnihub-${stage}; pass --queue-url and --dlq-url`,
    );
  }
  return { sqs, queueUrl, deadLetterUrl };
}

function attribute(message: Message, name: string): string {
  return message.MessageAttributes?.[name]?.StringValue ?? '';
}

/**
 * The reason a dead letter was refused, without personal data: redacted where it was recorded, and
 * again here for dead letters recorded before that, or by other writers.
 */
function reasonOf(message: Message): string {
  return redactPersonalData(attribute(message, DLQ_ATTRIBUTES.reason));
}

/** What a dead letter is about, without personal data (no identities, no traits). */
function summarize(message: Message): { type: string; eventId: string; profileId: string } {
  try {
    const event = JSON.parse(message.Body ?? '{}') as {
      detail?: { id?: string; type?: string; data?: { profileId?: string; survivor?: string } };
    };
    const detail = event.detail ?? {};
    return {
      type: detail.type ?? '?',
      eventId: detail.id ?? '?',
      profileId: detail.data?.profileId ?? detail.data?.survivor ?? '',
    };
  } catch {
    return { type: '(not JSON)', eventId: '', profileId: '' };
  }
}

async function list(queues: Queues, max: number, json: boolean, io: CliIo): Promise<number> {
  const seen = new Map<string, Message>();
  const handles: string[] = [];
  while (seen.size < max) {
    const batch = await queues.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.deadLetterUrl,
        MaxNumberOfMessages: Math.min(10, max - seen.size),
        VisibilityTimeout: 30,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
      }),
    );
    const fresh = (batch.Messages ?? []).filter(
      (message) => message.MessageId && !seen.has(message.MessageId),
    );
    if (fresh.length === 0) break;
    for (const message of fresh) {
      seen.set(message.MessageId ?? '', message);
      if (message.ReceiptHandle) handles.push(message.ReceiptHandle);
    }
  }
  // Listing must not hide the messages from a redrive right after: make them visible again.
  for (let start = 0; start < handles.length; start += 10) {
    await queues.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queues.deadLetterUrl,
        Entries: handles.slice(start, start + 10).map((handle, index) => ({
          Id: String(index),
          ReceiptHandle: handle,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
  const messages = [...seen.values()];
  if (json) {
    for (const message of messages) {
      io.out(
        JSON.stringify({
          messageId: message.MessageId,
          reason: reasonOf(message) || undefined,
          status: attribute(message, DLQ_ATTRIBUTES.status) || undefined,
          failedAt: attribute(message, DLQ_ATTRIBUTES.failedAt) || undefined,
          body: message.Body,
        }),
      );
    }
    return 0;
  }
  if (messages.length === 0) {
    io.out('The dead-letter queue is empty.');
    return 0;
  }
  io.out(
    renderTable(
      messages.map((message) => {
        const about = summarize(message);
        return [
          message.MessageId ?? '',
          about.type,
          about.profileId,
          attribute(message, DLQ_ATTRIBUTES.failedAt),
          reasonOf(message) || '(exhausted retries: no reason recorded)',
        ];
      }),
      ['message', 'event', 'profile', 'failed at', 'reason'],
    ),
  );
  io.out(`${messages.length} message(s). Fix the cause, then: npx omnihub dlq redrive <destination>`);
  return 0;
}

async function redrive(queues: Queues, max: number, io: CliIo): Promise<number> {
  const attributes = await queues.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queues.deadLetterUrl,
      AttributeNames: ['ApproximateNumberOfMessages'],
    }),
  );
  const total = Math.min(max, Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0));
  let moved = 0;
  const progress = new ProgressBar(io);
  while (moved < max) {
    const batch = await queues.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.deadLetterUrl,
        MaxNumberOfMessages: Math.min(10, max - moved),
        VisibilityTimeout: 60,
      }),
    );
    const messages = batch.Messages ?? [];
    if (messages.length === 0) break;
    for (const message of messages) {
      await queues.sqs.send(
        new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: message.Body ?? '' }),
      );
      await queues.sqs.send(
        new DeleteMessageCommand({
          QueueUrl: queues.deadLetterUrl,
          ReceiptHandle: message.ReceiptHandle ?? '',
        }),
      );
      moved++;
    }
    progress.update('redriven', { done: moved, total });
  }
  progress.clear();
  io.out(moved === 0 ? 'Nothing to redrive.' : `Redrove ${moved} message(s) to the consumer's queue.`);
  return 0;
}

export const dlqCommand: CliCommand = {
  name: 'dlq',
  summary: 'list or redrive the dead letters of a sync destination',
  usage: USAGE,
  async run(args, io) {
    let parsed: ReturnType<typeof parse>;
    function parse() {
      return parseArgs({
        args: [...args],
        allowPositionals: true,
        options: {
          ...API_OPTIONS,
          aws: { type: 'boolean', default: false },
          stage: { type: 'string', default: 'dev' },
          'queue-url': { type: 'string' },
          'dlq-url': { type: 'string' },
          max: { type: 'string' },
          json: { type: 'boolean', default: false },
        },
      });
    }
    try {
      parsed = parse();
    } catch (error) {
      throw asUsageError(error);
    }
    const [action, target, ...extra] = parsed.positionals;
    if (action !== 'list' && action !== 'redrive') throw new UsageError('expected list or redrive');
    if (!target) throw new UsageError('name the destination, e.g. hubspot');
    if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
    const max = parsed.values.max === undefined ? Number.POSITIVE_INFINITY : Number(parsed.values.max);
    if (!(max > 0) || (Number.isFinite(max) && !Number.isInteger(max)))
      throw new UsageError('--max must be a positive integer');
    const consumerId = consumerIdOf(target);
    const explicit = parsed.values['queue-url'] && parsed.values['dlq-url'];
    const queues: Queues = explicit
      ? {
          sqs: new SQSClient({}),
          queueUrl: parsed.values['queue-url'] ?? '',
          deadLetterUrl: parsed.values['dlq-url'] ?? '',
        }
      : parsed.values.aws
        ? await awsQueues(parsed.values.stage ?? 'dev', consumerId)
        : await localQueues(apiUrl(parsed.values, io), consumerId, io);
    try {
      return action === 'list'
        ? await list(queues, max, parsed.values.json ?? false, io)
        : await redrive(queues, max, io);
    } finally {
      queues.sqs.destroy();
    }
  },
};
