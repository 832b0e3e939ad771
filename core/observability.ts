/**
 * One logger and one metrics instance per function bundle (Powertools). Nothing here logs request
 * bodies or headers: they carry personal data.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'omnihub' });

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Omnihub',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'omnihub',
});

export { MetricUnit } from '@aws-lambda-powertools/metrics';
