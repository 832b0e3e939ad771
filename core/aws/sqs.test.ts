/**
 * The SDK-less SQS client against the local hub's SQS (the JSON 1.0 protocol `@aws-sdk/client-sqs`
 * speaks), with the SDK as the oracle on the receiving side: what ours sends, the SDK receives with
 * the MD5s it verifies.
 */
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalHub } from '../../local/hub.ts';
import { LOCAL_HUB_CREDENTIALS } from '../../local/hub-environment.ts';
import { hubClientConfig, startPausedTestHub } from '../../test/local/support/environment.ts';
import { type AwsHttpTransport, httpTransport } from './json-client.ts';
import { SqsClient } from './sqs.ts';

let hub: LocalHub;
let sdk: SQSClient;
const env = () => ({
  AWS_REGION: hub.region,
  // The hub answers only calls signed with its own credentials.
  AWS_ACCESS_KEY_ID: LOCAL_HUB_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: LOCAL_HUB_CREDENTIALS.secretAccessKey,
  AWS_ENDPOINT_URL_SQS: hub.url,
});

beforeAll(async () => {
  hub = await startPausedTestHub();
  sdk = new SQSClient({ ...hubClientConfig(hub), maxAttempts: 1 });
});
afterAll(async () => {
  sdk?.destroy();
  await hub?.stop();
});

const targets: string[] = [];
const recording: AwsHttpTransport = (url, headers, body) => {
  targets.push(String(headers['x-amz-target']));
  return httpTransport(url, headers, body);
};

describe('SqsClient on the local hub', () => {
  it('finds a queue URL and its dead-letter queue from the redrive policy', async () => {
    const sqs = new SqsClient({ env: env(), transport: recording });
    const url = await sqs.getQueueUrl('order-recorder', hub.accountId);
    expect(url).toBe(hub.queueUrl('order-recorder'));
    const attributes = await sqs.getQueueAttributes(url, ['RedrivePolicy']);
    const policy = JSON.parse(attributes.RedrivePolicy ?? '{}') as { deadLetterTargetArn?: string };
    expect(policy.deadLetterTargetArn).toMatch(/:order-recorder-dlq$/);
    expect(targets.slice(-2)).toEqual(['AmazonSQS.GetQueueUrl', 'AmazonSQS.GetQueueAttributes']);
  });

  it('answers an unknown queue with QueueDoesNotExist, not retried', async () => {
    const before = targets.length;
    const error = await new SqsClient({ env: env(), transport: recording })
      .getQueueUrl('nope')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'QueueDoesNotExist', $metadata: { httpStatusCode: 400 } });
    expect(targets.length - before).toBe(1);
  });

  it('sends a message with attributes that the SDK receives intact', async () => {
    const sqs = new SqsClient({ env: env() });
    const url = hub.queueUrl('order-recorder-dlq');
    const body = JSON.stringify({ detail: { id: 'évènement-1' } });
    const id = await sqs.sendMessage({
      QueueUrl: url,
      MessageBody: body,
      MessageAttributes: {
        'omnihub.error': { DataType: 'String', StringValue: 'HubSpot refused the contact' },
        'omnihub.status': { DataType: 'Number', StringValue: '400' },
      },
    });
    const received = await sdk.send(
      new ReceiveMessageCommand({ QueueUrl: url, MessageAttributeNames: ['All'], VisibilityTimeout: 0 }),
    );
    const [message] = received.Messages ?? [];
    expect(message).toMatchObject({ MessageId: id, Body: body });
    expect(message?.MessageAttributes).toEqual({
      'omnihub.error': { DataType: 'String', StringValue: 'HubSpot refused the contact' },
      'omnihub.status': { DataType: 'Number', StringValue: '400' },
    });
  });

  it('changes the visibility of a received message', async () => {
    const sqs = new SqsClient({ env: env() });
    const url = hub.queueUrl('refund-recorder');
    await sqs.sendMessage({ QueueUrl: url, MessageBody: 'later' });
    const first = await sdk.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 30 }));
    const handle = first.Messages?.[0]?.ReceiptHandle ?? '';
    expect(handle).not.toBe('');
    await sqs.changeMessageVisibility(url, handle, 0);
    const again = await sdk.send(new ReceiveMessageCommand({ QueueUrl: url }));
    expect(again.Messages?.[0]?.Body).toBe('later');
  });

  it('refuses an answer whose MD5 does not match the body sent', async () => {
    const sqs = new SqsClient({
      env: env(),
      transport: async () => ({
        status: 200,
        headers: {},
        body: JSON.stringify({ MessageId: 'm1', MD5OfMessageBody: '00000000000000000000000000000000' }),
      }),
    });
    await expect(
      sqs.sendMessage({ QueueUrl: hub.queueUrl('order-recorder'), MessageBody: 'x' }),
    ).rejects.toMatchObject({ name: 'InvalidChecksum' });
  });
});
