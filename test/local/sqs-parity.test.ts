/**
 * SQS answers that real AWS clients (boto3, the AWS CLI, the JS SDK) depend on, checked through the
 * real @aws-sdk/client-sqs against the hub: GetQueueAttributes for names the queue has no value for,
 * the queue's encryption as deployed, ChangeMessageVisibility after the visibility timeout expired,
 * and the answer to a query-protocol (form-encoded, XML) request.
 */
import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
// The XML error parser the SDK's query-protocol clients use.
import { parseXmlErrorBody } from '@aws-sdk/core/protocols';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalHub } from '../../local/hub.ts';
import { SqsQueue } from '../../local/sqs/queue.ts';
import { hubClientConfig, startPausedTestHub } from './support/environment.ts';

let hub: LocalHub;
let sqs: SQSClient;
let queueUrl: string;

beforeAll(async () => {
  hub = await startPausedTestHub();
  sqs = new SQSClient({ ...hubClientConfig(hub), maxAttempts: 1 });
  queueUrl = hub.queueUrl('order-recorder');
});

afterEach(async () => {
  await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
});

afterAll(async () => {
  sqs?.destroy();
  await hub?.stop();
});

const HUB_KEY = 'arn:aws:kms:us-east-1:000000000000:alias/omnihub-local-hub-key';

describe('SQS GetQueueAttributes', () => {
  it('leaves out valid names the queue has no value for, and answers the others', async () => {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: [
          'Policy',
          'RedriveAllowPolicy',
          'FifoQueue',
          'ContentBasedDeduplication',
          'DeduplicationScope',
          'FifoThroughputLimit',
          'KmsMasterKeyId',
          'VisibilityTimeout',
        ],
      }),
    );
    expect(Attributes).toEqual({ KmsMasterKeyId: HUB_KEY, VisibilityTimeout: '1' });
  });

  it('answers no Attributes at all when none of the valid names has a value', async () => {
    const result = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['Policy', 'FifoQueue'] }),
    );
    expect(result.Attributes).toBeUndefined();
    expect(result.$metadata.httpStatusCode).toBe(200);
  });

  it('refuses only names SQS does not define, with InvalidAttributeName', async () => {
    await expect(
      sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          // Not in the SDK's enum: a name a typo or a newer attribute would produce.
          AttributeNames: ['Policy', 'MessageCount' as 'Policy'],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidAttributeName', message: 'Unknown Attribute MessageCount.' });
  });

  it('describes the encryption the deployed queues have: the hub KMS key, not SQS-managed SSE', async () => {
    for (const name of ['order-recorder', 'order-recorder-dlq']) {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: hub.queueUrl(name), AttributeNames: ['All'] }),
      );
      expect(Attributes).toMatchObject({
        KmsMasterKeyId: HUB_KEY,
        KmsDataKeyReusePeriodSeconds: '300',
        SqsManagedSseEnabled: 'false',
      });
      for (const absent of ['Policy', 'RedriveAllowPolicy', 'FifoQueue']) {
        expect(Attributes).not.toHaveProperty(absent);
      }
    }
  });
});

describe('SQS ChangeMessageVisibility after the visibility timeout expired', () => {
  async function receive(visibilityTimeout?: number) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        ...(visibilityTimeout === undefined ? {} : { VisibilityTimeout: visibilityTimeout }),
      }),
    );
    return Messages?.[0];
  }

  it('succeeds with the latest receipt handle and hides the message again for the new timeout', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'expired' }));
    // A visibility timeout of 0 makes the message visible again at once: its handle has "expired".
    const first = await receive(0);
    expect(first?.Attributes?.ApproximateReceiveCount).toBe('1');

    const changed = await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: first?.ReceiptHandle,
        VisibilityTimeout: 60,
      }),
    );
    expect(changed.$metadata.httpStatusCode).toBe(200);
    expect(await receive()).toBeUndefined();
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(Attributes).toEqual({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '1',
    });

    // The change is not a receive: the next receive counts 2.
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: first?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const second = await receive();
    expect(second?.Attributes?.ApproximateReceiveCount).toBe('2');

    // Once received again, the first handle is no longer the latest and is refused.
    await expect(
      sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: first?.ReceiptHandle,
          VisibilityTimeout: 30,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('counts the new timeout from the call, on a queue clock', () => {
    let now = Date.parse('2024-05-01T12:00:00Z');
    const queue = SqsQueue.open(
      { name: 'orders', arn: 'arn:aws:sqs:us-east-1:000000000000:orders', visibilityTimeoutSeconds: 30 },
      { now: () => now },
    );
    queue.send({ body: 'order' });
    const [received] = queue.receive();
    now += 45_000;
    expect(queue.counts()).toEqual({ visible: 1, inFlight: 0, delayed: 0 });

    queue.changeVisibility(received?.receiptHandle ?? '', 10);
    expect(queue.counts()).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
    now += 9_999;
    expect(queue.receive()).toEqual([]);
    now += 1;
    expect(queue.receive().map((message) => message.attributes.ApproximateReceiveCount)).toEqual(['2']);
  });
});

describe('SQS query protocol (form-encoded, XML), which the hub does not serve', () => {
  async function queryRequest(path: string, form: Record<string, string>) {
    const response = await fetch(`${hub.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: new URLSearchParams({ ...form, Version: '2012-11-05' }).toString(),
    });
    const body = new Uint8Array(await response.arrayBuffer());
    // The parser needs only the UTF-8 decoder of a client's serde context.
    const context = {
      utf8Encoder: (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8'),
    } as unknown as Parameters<typeof parseXmlErrorBody>[1];
    return { response, parsed: await parseXmlErrorBody(body, context) };
  }

  it.each([
    ['/', { Action: 'ListQueues' }],
    ['/000000000000/order-recorder', { Action: 'SendMessage', MessageBody: 'hello' }],
  ])('answers POST %s with an SQS XML error naming the JSON protocol', async (path, form) => {
    const { response, parsed } = await queryRequest(path, form);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('text/xml');
    expect(parsed.Error).toMatchObject({
      Type: 'Sender',
      Code: 'AWS.SimpleQueueService.UnsupportedOperation',
    });
    expect(parsed.Error.Message).toContain(
      `does not serve the SQS query protocol (form-encoded Action=${form.Action}`,
    );
    expect(parsed.Error.Message).toContain(`AWS JSON 1.0, POST with X-Amz-Target: AmazonSQS.${form.Action}`);
    expect(parsed.RequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get('x-amzn-requestid')).toBe(parsed.RequestId);
  });

  it('escapes what it echoes and keeps the 404 for form posts that are no SQS call', async () => {
    const { parsed } = await queryRequest('/', { Action: '<script>' });
    expect(parsed.Error.Message).toContain('Action=<Operation>');

    const notSqs = await fetch(`${hub.url}/nowhere`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=value',
    });
    expect(notSqs.status).toBe(404);
    expect(await notSqs.json()).toMatchObject({ error: 'not_found' });
  });
});
