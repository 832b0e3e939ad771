/**
 * SQS errors with the HTTP status and legacy query-protocol code SQS sends for each (from the service
 * model shipped in @aws-sdk/client-sqs), so the real SDK raises the same error classes as against AWS.
 */
import { AwsServiceError } from '../aws-json-protocol.ts';

const SQS_ERRORS = {
  QueueDoesNotExist: { status: 400, queryCode: 'AWS.SimpleQueueService.NonExistentQueue' },
  ReceiptHandleIsInvalid: { status: 404, queryCode: 'ReceiptHandleIsInvalid' },
  EmptyBatchRequest: { status: 400, queryCode: 'AWS.SimpleQueueService.EmptyBatchRequest' },
  TooManyEntriesInBatchRequest: {
    status: 400,
    queryCode: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
  },
  BatchEntryIdsNotDistinct: { status: 400, queryCode: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct' },
  BatchRequestTooLong: { status: 400, queryCode: 'AWS.SimpleQueueService.BatchRequestTooLong' },
  InvalidBatchEntryId: { status: 400, queryCode: 'AWS.SimpleQueueService.InvalidBatchEntryId' },
  UnsupportedOperation: { status: 400, queryCode: 'AWS.SimpleQueueService.UnsupportedOperation' },
  InvalidMessageContents: { status: 400, queryCode: 'InvalidMessageContents' },
  InvalidAttributeName: { status: 400, queryCode: 'InvalidAttributeName' },
  // Common errors (not modelled per operation); the SDK raises them by code name.
  InvalidParameterValue: { status: 400, queryCode: 'InvalidParameterValue' },
  MissingParameter: { status: 400, queryCode: 'MissingParameter' },
  InvalidAction: { status: 400, queryCode: 'InvalidAction' },
} as const;

export type SqsErrorCode = keyof typeof SQS_ERRORS;

/** An SQS error as the SQS JSON protocol answers it. */
export class SqsError extends AwsServiceError {
  constructor(code: SqsErrorCode, message: string) {
    const { status, queryCode } = SQS_ERRORS[code];
    super(code, message, status, queryCode);
  }
}
