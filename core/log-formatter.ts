/**
 * The Powertools log format with personal data redacted (`core/redact.ts`): every function's logger
 * and its children use it, so no log statement has to remember to redact.
 */
import { LogFormatter, LogItem } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import { redactLogAttributes, redactPersonalData } from './redact.ts';

/**
 * Redacts the message, the persistent, temporary and per-call attributes, and errors (message, stack,
 * cause, own properties), and lays the line out with the same keys, in the same order, as Powertools'
 * own formatter (which the package does not export). Costs a regex scan per string attribute and
 * nothing more when there is nothing to redact.
 *
 * @example
 * const logger = new Logger({ logFormatter: new RedactingLogFormatter() });
 * logger.info('bounce for ava@example.com', { phone: '+13125550142' });
 * // {"level":"INFO","message":"bounce for [email]",...,"phone":"[redacted]"}
 */
export class RedactingLogFormatter extends LogFormatter {
  override formatAttributes(
    attributes: UnformattedAttributes,
    additionalLogAttributes: LogAttributes,
  ): LogItem {
    const context = attributes.lambdaContext;
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message:
          typeof attributes.message === 'string'
            ? redactPersonalData(attributes.message)
            : attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        cold_start: context?.coldStart,
        function_arn: context?.invokedFunctionArn,
        function_memory_size: context?.memoryLimitInMB,
        function_name: context?.functionName,
        function_request_id: context?.awsRequestId,
        sampling_rate: attributes.sampleRateValue,
        xray_trace_id: attributes.xRayTraceId,
        tenant_id: context?.tenantId,
      },
    }).addAttributes(redactLogAttributes(additionalLogAttributes));
  }

  // Errors reach the formatter unformatted (Powertools formats them while printing): redact here, the
  // cause too (super calls this method for it). The error's own `name` is its class, not a person's.
  override formatError(error: Error): LogAttributes {
    const { name, location, message, stack, cause, ...rest } = super.formatError(error);
    return {
      name,
      location,
      message: typeof message === 'string' ? redactPersonalData(message) : message,
      stack: redactStack(stack),
      cause: typeof cause === 'string' ? redactPersonalData(cause) : cause,
      ...redactLogAttributes(rest),
    };
  }
}

function redactStack(stack: unknown): unknown {
  if (typeof stack === 'string') return redactPersonalData(stack);
  if (Array.isArray(stack))
    return stack.map((line) => (typeof line === 'string' ? redactPersonalData(line) : line));
  return stack;
}
