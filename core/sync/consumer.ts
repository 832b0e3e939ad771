/**
 * The Lambda handler of a sync consumer (`connectors/<destination>/sync.ts` is one line:
 * `export const handler = syncHandler('hubspot', hubspotOutbound);`).
 *
 * SQS batch of EventBridge events -> {@link SyncEngine}, record by record, with partial batch
 * failures. What happens to a record that fails:
 * - the vendor asked to wait (429 / Retry-After / X-RateLimit-Reset) or kept failing (408, 5xx,
 *   network errors, after the in-process attempts): the message's visibility is set to a wait that
 *   grows with each receive and is never shorter than the vendor asked (core/sync/redelivery.ts), and
 *   it is reported failed, so the queue brings it back then; once the message is `retryFor` old, the
 *   next such failure sends it to the DLQ saying so;
 * - the vendor refused it for good (4xx): it is sent to the consumer's DLQ with the reason in message
 *   attributes and reported done, so it leaves the source queue at once; `omnihub dlq redrive` puts it
 *   back once the cause is fixed;
 * - anything else (profile table or bus unavailable): reported failed, back after the visibility
 *   timeout, and to the DLQ by the queue's redrive policy after `maxReceiveCount` receives (set above
 *   what `retryFor` takes, lib/topology.ts).
 */
import { join } from 'node:path';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { BusPublisher } from '../aws/publisher.ts';
import { SqsClient } from '../aws/sqs.ts';
import { PermanentError } from '../errors.ts';
import { type Envelope, envelopeOfMessage } from '../events/envelope.ts';
import { logger as rootLogger } from '../observability.ts';
import { ProfileReader } from '../profile/reader.ts';
import { ProfileStore } from '../profile/store.ts';
import { secretSourceFromEnvironment } from '../secrets.ts';
import { loadSyncConfig, redeliveryPolicyOf, resolveDestination } from './config.ts';
import { DLQ_ATTRIBUTES, deadLetterReason } from './dead-letter.ts';
import type { OutboundDefinition } from './destination.ts';
import { SyncEngine } from './engine.ts';
import { TokenBucket } from './rate-limit.ts';
import { nextRedelivery, RetryForExhaustedError } from './redelivery.ts';
import { DynamoSyncStateStore } from './state.ts';
import {
  DeferredDeliveryError,
  HttpVendorClient,
  OutboxVendorClient,
  type VendorClient,
} from './vendor-client.ts';

/** Where destinations without credentials write their requests (set by the local hub only). */
export const OUTBOX_DIR_ENV = 'OMNIHUB_OUTBOX_DIR';
export const SYNC_STATE_TABLE_ENV = 'OMNIHUB_SYNC_STATE_TABLE';

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/** Queue URLs found from a record's source ARN (works with CloudFormation-named queues and locally). */
class QueueDirectory {
  readonly #urls = new Map<string, Promise<string>>();
  readonly #deadLetters = new Map<string, Promise<string>>();
  constructor(readonly sqs: SqsClient) {}

  url(arn: string): Promise<string> {
    let url = this.#urls.get(arn);
    if (!url) {
      const [, , , , account, name = ''] = arn.split(':');
      url = this.sqs.getQueueUrl(name, account);
      url.catch(() => this.#urls.delete(arn));
      this.#urls.set(arn, url);
    }
    return url;
  }

  deadLetterUrl(arn: string): Promise<string> {
    let url = this.#deadLetters.get(arn);
    if (!url) {
      url = this.url(arn).then(async (sourceUrl) => {
        const attributes = await this.sqs.getQueueAttributes(sourceUrl, ['RedrivePolicy']);
        const policy = JSON.parse(attributes.RedrivePolicy ?? '{}') as {
          deadLetterTargetArn?: string;
        };
        if (!policy.deadLetterTargetArn) throw new Error(`${arn} has no dead-letter queue`);
        return this.url(policy.deadLetterTargetArn);
      });
      url.catch(() => this.#deadLetters.delete(arn));
      this.#deadLetters.set(arn, url);
    }
    return url;
  }
}

/**
 * When the message was first received, from which `retryFor` counts: SQS's
 * `ApproximateFirstReceiveTimestamp`, else when it was sent, else now.
 */
function firstReceivedAt(record: SQSRecord, now: number): number {
  for (const value of [record.attributes.ApproximateFirstReceiveTimestamp, record.attributes.SentTimestamp]) {
    const at = Number(value);
    if (Number.isFinite(at) && at > 0) return at;
  }
  return now;
}

export function syncHandler(destinationId: string, outbound: OutboundDefinition) {
  const logger = rootLogger.createChild({ persistentKeys: { destination: destinationId } });
  const metrics = new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Omnihub',
    serviceName: 'omnihub-sync',
    defaultDimensions: { destination: destinationId },
  });
  const processor = new BatchProcessor(EventType.SQS);
  // Built on first use, once per container.
  let built: ReturnType<typeof build> | undefined;

  async function build() {
    const config = loadSyncConfig();
    const destination = resolveDestination(config, destinationId, outbound);
    const names = Object.keys(outbound.secrets);
    const secrets = await secretSourceFromEnvironment().load(names);
    const missing = names.filter((name) => secrets[name] === undefined);
    const remaining = { ms: () => Number.POSITIVE_INFINITY };
    let client: VendorClient | undefined;
    if (missing.length === 0) {
      const values = secrets as Record<string, string>;
      client = new HttpVendorClient({
        destination: destinationId,
        baseUrl: (process.env[outbound.baseUrl.envVar] || outbound.baseUrl.default(values)).replace(
          /\/+$/,
          '',
        ),
        headers: outbound.headers(values),
        limiter: new TokenBucket(destination.rateLimit),
        delivery: config.delivery,
        ...(outbound.classify ? { classify: outbound.classify } : {}),
        remainingMs: () => remaining.ms(),
        onRetry: ({ throttled }) =>
          metrics.addMetric(throttled ? 'VendorThrottled' : 'VendorRetries', MetricUnit.Count, 1),
      });
    } else if (process.env[OUTBOX_DIR_ENV]) {
      client = new OutboxVendorClient(
        destinationId,
        join(process.env[OUTBOX_DIR_ENV], `${destinationId}.jsonl`),
      );
      logger.info('destination has no credentials: writing to the outbox', { missing });
    } else {
      logger.warn('destination has no credentials: nothing is sent', { missing });
    }
    const engine = new SyncEngine({
      destination,
      outbound,
      config,
      profiles: new ProfileReader(new ProfileStore({ tableName: requiredEnv('OMNIHUB_PROFILE_TABLE') })),
      state: new DynamoSyncStateStore({ tableName: requiredEnv(SYNC_STATE_TABLE_ENV) }),
      publisher: new BusPublisher({ busName: requiredEnv('OMNIHUB_BUS_NAME') }),
      client,
    });
    return {
      engine,
      client,
      queues: new QueueDirectory(new SqsClient()),
      remaining,
      redelivery: redeliveryPolicyOf(config.delivery),
      retryFor: config.delivery.retryFor,
    };
  }

  async function toDeadLetterQueue(queues: QueueDirectory, record: SQSRecord, error: PermanentError) {
    const status = 'status' in error && typeof error.status === 'number' ? String(error.status) : '';
    const url = await queues.deadLetterUrl(record.eventSourceARN);
    const attribute = (value: string) => ({ DataType: 'String', StringValue: value });
    await queues.sqs.sendMessage({
      QueueUrl: url,
      MessageBody: record.body,
      MessageAttributes: {
        [DLQ_ATTRIBUTES.reason]: attribute(deadLetterReason(error.message)),
        [DLQ_ATTRIBUTES.destination]: attribute(destinationId),
        [DLQ_ATTRIBUTES.failedAt]: attribute(new Date().toISOString()),
        [DLQ_ATTRIBUTES.sourceQueue]: attribute(record.eventSourceARN),
        ...(status ? { [DLQ_ATTRIBUTES.status]: { DataType: 'Number', StringValue: status } } : {}),
      },
    });
  }

  const lambdaHandler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    built ??= build();
    built.catch(() => {
      built = undefined;
    });
    const { engine, client, queues, remaining, redelivery, retryFor } = await built;
    remaining.ms = () => context.getRemainingTimeInMillis();
    client?.reset?.();

    const recordHandler = async (record: SQSRecord): Promise<void> => {
      let envelope: Envelope | undefined;
      try {
        envelope = envelopeOfMessage(record.body);
        // The correlation id the profile writer carried over from ingest: one id from webhook to vendor.
        logger.appendKeys({
          correlationId: envelope.correlationId,
          eventId: envelope.id,
          eventType: envelope.type,
        });
        const outcome = await engine.handle(envelope);
        if (outcome.status === 'delivered') {
          metrics.addMetric(outcome.outbox ? 'SyncWrittenToOutbox' : 'SyncDelivered', MetricUnit.Count, 1);
          metrics.addMetric('VendorCalls', MetricUnit.Count, outcome.calls);
          if (outcome.linked) metrics.addMetric('ExternalIdsLinked', MetricUnit.Count, 1);
          logger.info('synced', { profileId: SyncEngine.profileIdOf(envelope), calls: outcome.calls });
        } else {
          metrics.addMetric('SyncSkipped', MetricUnit.Count, 1);
          logger.debug('skipped', { reason: outcome.reason });
        }
      } catch (error) {
        if (error instanceof DeferredDeliveryError) {
          const now = Date.now();
          const next = nextRedelivery(redelivery, {
            receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
            firstReceivedAt: firstReceivedAt(record, now),
            now,
            askedMs: error.retryAfterSeconds * 1000,
          });
          if (next.kind === 'exhausted') {
            await toDeadLetterQueue(queues, record, new RetryForExhaustedError(retryFor, error));
            metrics.addMetric('SyncDeadLettered', MetricUnit.Count, 1);
            logger.error('retryFor ran out; sent to the DLQ', {
              triedForSeconds: Math.round(next.triedForMs / 1000),
              receiveCount: record.attributes.ApproximateReceiveCount,
              error: error.message,
            });
            return;
          }
          const url = await queues.url(record.eventSourceARN);
          await queues.sqs.changeMessageVisibility(url, record.receiptHandle, next.seconds);
          metrics.addMetric('SyncDeferred', MetricUnit.Count, 1);
          logger.warn('delivery deferred', { retryAfterSeconds: next.seconds, error: error.message });
          throw error;
        }
        if (error instanceof PermanentError) {
          await toDeadLetterQueue(queues, record, error);
          metrics.addMetric('SyncDeadLettered', MetricUnit.Count, 1);
          // The reason may quote the vendor's message, which can name the person: log only the code.
          logger.error('delivery refused; sent to the DLQ', { code: error.code, errorName: error.name });
          return;
        }
        throw error;
      } finally {
        logger.removeKeys(['correlationId', 'eventId', 'eventType']);
      }
    };
    return processPartialResponse(event, recordHandler, processor, { context, processInParallel: false });
  };

  return middy(lambdaHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}
