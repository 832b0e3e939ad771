/**
 * The SQS calls a sync consumer makes (GetQueueUrl, GetQueueAttributes, SendMessage to its DLQ,
 * ChangeMessageVisibility), over the AWS JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.<Operation>`)
 * that `@aws-sdk/client-sqs` speaks too, with {@link AwsJsonClient} instead of the SDK (see
 * `dynamodb.ts` beside this file for why). As the SDK does, SendMessage checks the MD5 of the body
 * SQS answers with, so a message altered on the way is an error, not a silent loss.
 */
import { createHash } from 'node:crypto';
import { type AwsClientOptions, jsonClientOf } from './client.ts';
import { type AwsJsonClient, type AwsJsonService, AwsServiceError } from './json-client.ts';

export const SQS: AwsJsonService = {
  serviceId: 'SQS',
  signingName: 'sqs',
  targetPrefix: 'AmazonSQS',
  jsonVersion: '1.0',
};

export interface MessageAttributeValue {
  readonly DataType: 'String' | 'Number' | 'Binary' | (string & {});
  readonly StringValue?: string;
}

export interface SendMessageInput {
  readonly QueueUrl: string;
  readonly MessageBody: string;
  readonly MessageAttributes?: Readonly<Record<string, MessageAttributeValue>>;
  readonly DelaySeconds?: number;
}

export type SqsClientOptions = AwsClientOptions;

/**
 * @example
 * const sqs = new SqsClient();
 * const url = await sqs.getQueueUrl('omnihub-dev-sync-hubspot-dlq');
 * await sqs.sendMessage({ QueueUrl: url, MessageBody: body });
 */
export class SqsClient {
  readonly #client: AwsJsonClient;

  constructor(options: SqsClientOptions = {}) {
    this.#client = jsonClientOf(SQS, options);
  }

  async getQueueUrl(queueName: string, ownerAccountId?: string): Promise<string> {
    const result = await this.#client.call<{ QueueUrl?: string }>('GetQueueUrl', {
      QueueName: queueName,
      ...(ownerAccountId ? { QueueOwnerAWSAccountId: ownerAccountId } : {}),
    });
    if (!result.QueueUrl) {
      throw new AwsServiceError('QueueDoesNotExist', `no URL for queue ${queueName}`, {});
    }
    return result.QueueUrl;
  }

  async getQueueAttributes(queueUrl: string, names: readonly string[]): Promise<Record<string, string>> {
    const result = await this.#client.call<{ Attributes?: Record<string, string> }>('GetQueueAttributes', {
      QueueUrl: queueUrl,
      AttributeNames: names,
    });
    return result.Attributes ?? {};
  }

  /** Sends one message; returns its id. */
  async sendMessage(input: SendMessageInput): Promise<string> {
    const result = await this.#client.call<{ MessageId?: string; MD5OfMessageBody?: string }>(
      'SendMessage',
      input,
    );
    const md5 = createHash('md5').update(input.MessageBody, 'utf8').digest('hex');
    if (result.MD5OfMessageBody !== undefined && result.MD5OfMessageBody !== md5) {
      throw new AwsServiceError(
        'InvalidChecksum',
        `SQS answered MD5 ${result.MD5OfMessageBody} for a body whose MD5 is ${md5}`,
        {},
      );
    }
    return result.MessageId ?? '';
  }

  async changeMessageVisibility(queueUrl: string, receiptHandle: string, seconds: number): Promise<void> {
    await this.#client.call('ChangeMessageVisibility', {
      QueueUrl: queueUrl,
      ReceiptHandle: receiptHandle,
      VisibilityTimeout: seconds,
    });
  }
}
