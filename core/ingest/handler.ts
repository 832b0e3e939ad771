/**
 * The Lambda handler for a connector's webhook route. Each connector's `handler.ts` is one line:
 * `export const handler = ingestHandler(shopify);` so each Lambda bundle holds one connector only.
 *
 * @example
 * // connectors/shopify/handler.ts
 * import { ingestHandler } from '../../core/ingest/handler.ts';
 * import shopify from './index.ts';
 * export const handler = ingestHandler(shopify);
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { PutEventsPublisher, putEventsOverJson } from '../aws/put-events.ts';
import type { ConnectorDefinition } from '../connector.ts';
import { errorResponse } from '../http.ts';
import { logger as rootLogger } from '../observability.ts';
import { secretSourceFromEnvironment } from '../secrets.ts';
import { quarantineTable } from '../tables.ts';
import { ledgerKeyPrefix, ledgerRetentionSeconds, PowertoolsDeliveryLedger } from './ledger.ts';
import { createIngestPipeline, type IngestPipeline } from './pipeline.ts';
import { DynamoDbQuarantine } from './quarantine.ts';
import { FirehoseRawArchive, RAW_STREAM_PREFIX_ENV } from './raw-archive.ts';
import { toWebhookRequest } from './request.ts';
import { rawRetentionDays } from './retention.ts';

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

export function ingestHandler(connector: ConnectorDefinition) {
  const logger = rootLogger.createChild({ persistentKeys: { connector: connector.id } });
  const metrics = new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Omnihub',
    serviceName: 'omnihub-ingest',
    defaultDimensions: { connector: connector.id },
  });
  // Built on first use, once per container: clients are reused across invocations.
  let pipeline: IngestPipeline | undefined;

  const lambdaHandler = async (
    event: APIGatewayProxyEventV2,
    context: Context,
  ): Promise<APIGatewayProxyStructuredResultV2> => {
    try {
      pipeline ??= createIngestPipeline(connector, {
        secrets: secretSourceFromEnvironment(),
        ledger: new PowertoolsDeliveryLedger({
          tableName: requiredEnv('OMNIHUB_IDEMPOTENCY_TABLE'),
          keyPrefix: ledgerKeyPrefix(connector.id),
          retentionSeconds: ledgerRetentionSeconds(),
        }),
        // AWS JSON protocol without the SDK (ledger, quarantine, raw archive, secrets too): docs/bundles.md.
        publisher: new PutEventsPublisher({
          busName: requiredEnv('OMNIHUB_BUS_NAME'),
          putEvents: putEventsOverJson(),
        }),
        archive: new FirehoseRawArchive({ streamPrefix: requiredEnv(RAW_STREAM_PREFIX_ENV) }),
        quarantine: new DynamoDbQuarantine({
          tableName: requiredEnv(quarantineTable.envVar),
          retentionDays: rawRetentionDays(),
        }),
        logger,
        metrics,
      });
      return await pipeline(toWebhookRequest(event), {
        remainingTimeMs: context.getRemainingTimeInMillis(),
        correlationId: context.awsRequestId,
      });
    } catch (error) {
      return errorResponse(error);
    }
  };

  return middy(lambdaHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}
