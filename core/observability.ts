/**
 * One logger and one metrics instance per function bundle (Powertools). Nothing here logs request
 * bodies or headers: they carry personal data. Every line (children's too) still passes through
 * {@link RedactingLogFormatter}: emails, phone numbers and personal attributes never reach the logs.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { RedactingLogFormatter } from './log-formatter.ts';

export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'omnihub',
  logFormatter: new RedactingLogFormatter(),
});

// Pure: a bundle that never uses it (the ingest Lambdas make their own, per connector) drops it.
export const metrics = /* @__PURE__ */ new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Omnihub',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'omnihub',
});

export { MetricUnit } from '@aws-lambda-powertools/metrics';
