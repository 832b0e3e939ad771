/**
 * Consumer: profile writer. SQS batch of EventBridge events (rule: every connector event) -> one
 * unified profile per person. Records are processed in order within the batch; a failing record is
 * reported in `batchItemFailures` and comes back after the visibility timeout (then to the DLQ).
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { BusPublisher } from '../core/aws/publisher.ts';
import { envelopeOfMessage } from '../core/events/envelope.ts';
import { logger, MetricUnit, metrics } from '../core/observability.ts';
import { ProfileStore } from '../core/profile/store.ts';
import { ProfileWriter } from '../core/profile/writer.ts';

const processor = new BatchProcessor(EventType.SQS);
let writer: ProfileWriter | undefined;

function profileWriter(): ProfileWriter {
  const table = process.env.OMNIHUB_PROFILE_TABLE;
  const bus = process.env.OMNIHUB_BUS_NAME;
  if (!table || !bus) throw new Error('OMNIHUB_PROFILE_TABLE and OMNIHUB_BUS_NAME must be set');
  writer ??= new ProfileWriter(
    new ProfileStore({
      tableName: table,
      timelineRetentionDays: Number(process.env.OMNIHUB_TIMELINE_RETENTION_DAYS ?? 365),
    }),
    new BusPublisher({ busName: bus }),
  );
  return writer;
}

async function recordHandler(record: SQSRecord): Promise<void> {
  try {
    const envelope = envelopeOfMessage(record.body);
    // Every line about this record carries the id that ingest gave its delivery (ingest -> profile -> sync).
    logger.appendKeys({
      correlationId: envelope.correlationId,
      eventId: envelope.id,
      eventType: envelope.type,
    });
    const result = await profileWriter().apply(envelope);
    metrics.addMetric(result.changed ? 'ProfilesChanged' : 'ProfilesUnchanged', MetricUnit.Count, 1);
    if (result.merged.length > 0) metrics.addMetric('ProfilesMerged', MetricUnit.Count, result.merged.length);
    logger.info('event applied', {
      profileId: result.profileId,
      changed: result.changed,
      merged: result.merged,
    });
  } catch (error) {
    // The batch reports the record failed; it comes back after the visibility timeout, then to the DLQ.
    logger.warn('event not applied', { messageId: record.messageId, error });
    throw error;
  } finally {
    logger.removeKeys(['correlationId', 'eventId', 'eventType']);
  }
}

const lambdaHandler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  processPartialResponse(event, recordHandler, processor, { context, processInParallel: false });

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
