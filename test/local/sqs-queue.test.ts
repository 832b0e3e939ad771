/**
 * The SQS emulation: queue semantics on a fake clock, the journal, and the SQS API through the real
 * @aws-sdk/client-sqs against the hub.
 */

import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalHub, startLocalHub } from '../../local/hub.ts';
import { LOCAL_HUB_CREDENTIALS } from '../../local/hub-environment.ts';
import { interpretBatchResponse } from '../../local/sqs/event-source-mapping.ts';
import { md5OfMessageAttributes } from '../../local/sqs/md5.ts';
import { SqsQueue } from '../../local/sqs/queue.ts';
import { hubClientConfig, startPausedTestHub } from './support/environment.ts';
import { testTopology } from './support/test-topology.ts';

class FakeClock {
  now = Date.parse('2024-05-01T12:00:00Z');
  advance(seconds: number): void {
    this.now += seconds * 1000;
  }
}

function queuePair(clock: FakeClock, journalDir?: string, maxReceiveCount = 3) {
  const storage = (name: string) => ({
    now: () => clock.now,
    ...(journalDir ? { journalPath: join(journalDir, `${name}.jsonl`) } : {}),
  });
  const deadLetterQueue = SqsQueue.open(
    {
      name: 'orders-dlq',
      arn: 'arn:aws:sqs:us-east-1:000000000000:orders-dlq',
      visibilityTimeoutSeconds: 30,
    },
    storage('orders-dlq'),
  );
  const queue = SqsQueue.open(
    {
      name: 'orders',
      arn: 'arn:aws:sqs:us-east-1:000000000000:orders',
      visibilityTimeoutSeconds: 60,
      redrive: { deadLetterQueue, maxReceiveCount },
    },
    storage('orders'),
  );
  return { queue, deadLetterQueue };
}

describe('SqsQueue', () => {
  it('hides a received message for the visibility timeout and counts receives', () => {
    const clock = new FakeClock();
    const { queue } = queuePair(clock);
    const sent = queue.send({ body: 'order 1' });

    const [first] = queue.receive();
    expect(first).toMatchObject({
      messageId: sent.messageId,
      body: 'order 1',
      attributes: { ApproximateReceiveCount: '1' },
    });
    expect(queue.receive()).toEqual([]);
    expect(queue.counts()).toEqual({ visible: 0, inFlight: 1, delayed: 0 });

    clock.advance(59);
    expect(queue.receive()).toEqual([]);
    clock.advance(1);
    const [second] = queue.receive();
    expect(second?.attributes.ApproximateReceiveCount).toBe('2');
    expect(second?.attributes.ApproximateFirstReceiveTimestamp).toBe(
      first?.attributes.ApproximateFirstReceiveTimestamp,
    );
    expect(second?.receiptHandle).not.toBe(first?.receiptHandle);
  });

  it('deletes only with the latest receipt handle, as SQS does', () => {
    const clock = new FakeClock();
    const { queue } = queuePair(clock);
    queue.send({ body: 'order 1' });
    const [first] = queue.receive({ visibilityTimeoutSeconds: 0 });
    const [second] = queue.receive();
    queue.delete(first?.receiptHandle ?? '');
    expect(queue.counts().inFlight).toBe(1);
    queue.delete(second?.receiptHandle ?? '');
    expect(queue.counts()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    // Deleting again succeeds, like SQS.
    expect(() => queue.delete(second?.receiptHandle ?? '')).not.toThrow();
    expect(() => queue.delete('garbage')).toThrow(
      expect.objectContaining({ code: 'ReceiptHandleIsInvalid' }),
    );
  });

  it('moves a message to the dead-letter queue on the receive after maxReceiveCount receives', () => {
    const clock = new FakeClock();
    const { queue, deadLetterQueue } = queuePair(clock, undefined, 2);
    const sent = queue.send({
      body: 'poison',
      messageAttributes: { kind: { DataType: 'String', StringValue: 'test' } },
    });
    expect(queue.receive({ visibilityTimeoutSeconds: 0 })).toHaveLength(1);
    expect(queue.receive({ visibilityTimeoutSeconds: 0 })).toHaveLength(1);
    expect(queue.receive()).toEqual([]);
    expect(queue.counts()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });

    const [deadLetter] = deadLetterQueue.receive();
    expect(deadLetter).toMatchObject({
      messageId: sent.messageId,
      body: 'poison',
      messageAttributes: { kind: { DataType: 'String', StringValue: 'test' } },
      md5OfMessageAttributes: sent.md5OfMessageAttributes,
      attributes: { DeadLetterQueueSourceArn: 'arn:aws:sqs:us-east-1:000000000000:orders' },
    });
  });

  it('holds delayed messages back and reports them as delayed', () => {
    const clock = new FakeClock();
    const { queue } = queuePair(clock);
    queue.send({ body: 'later', delaySeconds: 10 });
    expect(queue.counts()).toEqual({ visible: 0, inFlight: 0, delayed: 1 });
    expect(queue.receive()).toEqual([]);
    clock.advance(10);
    expect(queue.receive()).toHaveLength(1);
  });

  it('refuses what SQS refuses', () => {
    const { queue } = queuePair(new FakeClock());
    expect(() => queue.send({ body: '' })).toThrow(expect.objectContaining({ code: 'MissingParameter' }));
    expect(() => queue.send({ body: 'bell \u0007' })).toThrow(
      expect.objectContaining({ code: 'InvalidMessageContents' }),
    );
    expect(() => queue.send({ body: 'x', delaySeconds: 901 })).toThrow(
      expect.objectContaining({ code: 'InvalidParameterValue' }),
    );
    expect(() => queue.send({ body: 'x'.repeat(1_048_577) })).toThrow(/shorter than 1048576 bytes/);
    expect(() =>
      queue.send({
        body: 'x',
        messageAttributes: { 'AWS.reserved': { DataType: 'String', StringValue: 'v' } },
      }),
    ).toThrow(/attribute name/);
    expect(() =>
      queue.send({ body: 'x', messageAttributes: { n: { DataType: 'Number', StringValue: 'ten' } } }),
    ).toThrow(/not a number/);
  });

  it('replays its journal after a reopen: messages, receive counts, visibility, receipt handles, deletes', () => {
    const directory = mkdtempSync(join(tmpdir(), 'omnihub-journal-'));
    try {
      const clock = new FakeClock();
      const before = queuePair(clock, directory);
      const kept = before.queue.send({ body: 'kept' });
      const deleted = before.queue.send({ body: 'deleted' });
      before.queue.send({ body: 'visible' });
      const received = before.queue.receive({ maxMessages: 2 });
      const receivedDeleted = received.find((message) => message.messageId === deleted.messageId);
      before.queue.delete(receivedDeleted?.receiptHandle ?? '');
      const receivedKept = received.find((message) => message.messageId === kept.messageId);
      // Nothing is closed: the process "dies" here, and a write was cut short mid-line.
      appendFileSync(join(directory, 'orders.jsonl'), '{"op":"delete","id":"trunc');

      const after = queuePair(clock, directory);
      expect(after.queue.counts()).toEqual({ visible: 1, inFlight: 1, delayed: 0 });
      expect(after.queue.receive().map((message) => message.body)).toEqual(['visible']);
      // The in-flight message comes back once its visibility timeout expires, with its count.
      clock.advance(60);
      const [again] = after.queue.receive();
      expect(again).toMatchObject({
        messageId: kept.messageId,
        attributes: { ApproximateReceiveCount: '2' },
      });
      expect(receivedKept?.receiptHandle).not.toBe(again?.receiptHandle);
      // The journal was compacted: one send line per live message.
      const lines = readFileSync(join(directory, 'orders.jsonl'), 'utf8').trim().split('\n');
      expect(lines.filter((line) => line.includes('"op":"send"'))).toHaveLength(2);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('never loses or duplicates messages across random operations and reopens (property)', () => {
    const operation = fc.oneof(
      fc.constant({ kind: 'send' as const }),
      fc.record({ kind: fc.constant('receive' as const), visibility: fc.constantFrom(0, 30) }),
      fc.constant({ kind: 'deleteLatest' as const }),
      fc.record({ kind: fc.constant('advance' as const), seconds: fc.integer({ min: 1, max: 40 }) }),
      fc.constant({ kind: 'reopen' as const }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 40 }), (operations) => {
        const directory = mkdtempSync(join(tmpdir(), 'omnihub-journal-prop-'));
        try {
          const clock = new FakeClock();
          let { queue, deadLetterQueue } = queuePair(clock, directory, 1000);
          const live = new Set<string>();
          let lastHandle: { id: string; handle: string } | undefined;
          for (const step of operations) {
            if (step.kind === 'send') live.add(queue.send({ body: `m${live.size}` }).messageId);
            if (step.kind === 'receive') {
              const [message] = queue.receive({ visibilityTimeoutSeconds: step.visibility });
              if (message) lastHandle = { id: message.messageId, handle: message.receiptHandle };
            }
            if (step.kind === 'deleteLatest' && lastHandle) {
              queue.delete(lastHandle.handle);
              live.delete(lastHandle.id);
              lastHandle = undefined;
            }
            if (step.kind === 'advance') clock.advance(step.seconds);
            if (step.kind === 'reopen') ({ queue, deadLetterQueue } = queuePair(clock, directory, 1000));
          }
          clock.advance(3600);
          const drained = new Set<string>();
          for (
            let batch = queue.receive({ maxMessages: 10 });
            batch.length > 0;
            batch = queue.receive({ maxMessages: 10 })
          ) {
            for (const message of batch) {
              expect(drained.has(message.messageId)).toBe(false);
              drained.add(message.messageId);
              queue.delete(message.receiptHandle);
            }
          }
          expect(drained).toEqual(live);
          expect(deadLetterQueue.counts().visible).toBe(0);
        } finally {
          rmSync(directory, { recursive: true, force: true });
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('Event source mapping: batch responses', () => {
  const ids = new Set(['m1', 'm2']);
  it.each([
    ['no response', undefined, { kind: 'all-succeeded' }],
    ['null', null, { kind: 'all-succeeded' }],
    ['an empty list', { batchItemFailures: [] }, { kind: 'all-succeeded' }],
    ['null batchItemFailures', { batchItemFailures: null }, { kind: 'all-succeeded' }],
    [
      'one failure',
      { batchItemFailures: [{ itemIdentifier: 'm2' }] },
      { kind: 'partial', failedMessageIds: new Set(['m2']) },
    ],
    ['an empty identifier', { batchItemFailures: [{ itemIdentifier: '' }] }, { kind: 'all-failed' }],
    ['an unknown message id', { batchItemFailures: [{ itemIdentifier: 'other' }] }, { kind: 'all-failed' }],
    ['a wrong key', { batchItemFailures: [{ id: 'm1' }] }, { kind: 'all-failed' }],
    ['a non-list', { batchItemFailures: 'm1' }, { kind: 'all-failed' }],
  ])('treats %s as Lambda does', (_label, response, expected) => {
    expect(interpretBatchResponse(response, ids)).toMatchObject(expected);
  });
});

describe('SQS API through @aws-sdk/client-sqs', () => {
  let hub: LocalHub;
  let sqs: SQSClient;
  let queueUrl: string;

  beforeAll(async () => {
    hub = await startPausedTestHub();
    sqs = new SQSClient({ ...hubClientConfig(hub), maxAttempts: 1 });
    queueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: 'order-recorder' }))).QueueUrl ?? '';
  });

  afterEach(async () => {
    await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
    await sqs.send(new PurgeQueueCommand({ QueueUrl: hub.queueUrl('order-recorder-dlq') }));
  });

  afterAll(async () => {
    sqs?.destroy();
    await hub?.stop();
  });

  async function counts(url = queueUrl): Promise<Record<string, string> | undefined> {
    const result = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return result.Attributes;
  }

  it('resolves queue URLs like AWS and refuses unknown queues with QueueDoesNotExist', async () => {
    expect(queueUrl).toBe(`${hub.url}/000000000000/order-recorder`);
    await expect(sqs.send(new GetQueueUrlCommand({ QueueName: 'nope' }))).rejects.toMatchObject({
      name: 'QueueDoesNotExist',
      $metadata: { httpStatusCode: 400 },
    });
    const listed = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'refund' }));
    expect(listed.QueueUrls).toEqual([hub.queueUrl('refund-recorder'), hub.queueUrl('refund-recorder-dlq')]);
  });

  it('sends and receives with attributes and MD5s the SDK verifies', async () => {
    const attributes = {
      tenant: { DataType: 'String', StringValue: 'acme' },
      attempt: { DataType: 'Number', StringValue: '3' },
      raw: { DataType: 'Binary', BinaryValue: Uint8Array.from([1, 2, 3]) },
    };
    const sent = await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'héllo', MessageAttributes: attributes }),
    );
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const [message] = received.Messages ?? [];
    expect(message).toMatchObject({
      MessageId: sent.MessageId,
      Body: 'héllo',
      MD5OfBody: sent.MD5OfMessageBody,
      MD5OfMessageAttributes: sent.MD5OfMessageAttributes,
      MessageAttributes: { tenant: { DataType: 'String', StringValue: 'acme' } },
      Attributes: { ApproximateReceiveCount: '1', SenderId: expect.stringMatching(/^AIDA/) },
    });
    expect(message?.MessageAttributes?.raw?.BinaryValue).toEqual(Uint8Array.from([1, 2, 3]));
  });

  it('computes MD5OfMessageAttributes as SQS does (digest captured from a real SQS response)', () => {
    expect(
      md5OfMessageAttributes({
        AtTimestamp: { DataType: 'String', StringValue: '2021-02-15T12:00:33+09:00' },
      }),
    ).toBe('9fd5e217089075be61cd1d67e35e5117');
  });

  it('emulates visibility: hidden after receive, back after ChangeMessageVisibility 0, deleted by the latest handle', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'visibility' }));
    const first = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: 30 })))
      .Messages?.[0];
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }))).Messages).toBeUndefined();
    expect(await counts()).toEqual({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '1',
    });

    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: first?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const second = (
      await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      )
    ).Messages?.[0];
    expect(second?.Attributes).toEqual({ ApproximateReceiveCount: '2' });

    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: first?.ReceiptHandle }));
    expect((await counts())?.ApproximateNumberOfMessagesNotVisible).toBe('1');
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: second?.ReceiptHandle }));
    expect(await counts()).toEqual({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });

    await expect(
      sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: 'not-a-handle' })),
    ).rejects.toMatchObject({ name: 'ReceiptHandleIsInvalid', $metadata: { httpStatusCode: 404 } });
    await expect(
      sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: second?.ReceiptHandle,
          VisibilityTimeout: 5,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('redrives to the DLQ after maxReceiveCount receives (RedrivePolicy from the topology)', async () => {
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
    );
    expect(attributes.Attributes).toMatchObject({
      QueueArn: 'arn:aws:sqs:us-east-1:000000000000:order-recorder',
      VisibilityTimeout: '1',
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:order-recorder-dlq',
        maxReceiveCount: 2,
      }),
    });
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'poison' }));
    for (let receive = 1; receive <= 2; receive += 1) {
      const messages = (
        await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: 0 }))
      ).Messages;
      expect(messages?.map((message) => message.MessageId)).toEqual([sent.MessageId]);
    }
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }))).Messages).toBeUndefined();
    const deadLetters = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: hub.queueUrl('order-recorder-dlq'),
        MessageSystemAttributeNames: ['All'],
      }),
    );
    expect(deadLetters.Messages?.[0]).toMatchObject({
      MessageId: sent.MessageId,
      Body: 'poison',
      Attributes: { DeadLetterQueueSourceArn: 'arn:aws:sqs:us-east-1:000000000000:order-recorder' },
    });
  });

  it('answers batches entry by entry and refuses malformed batches', async () => {
    const result = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: 'a', MessageBody: 'first' },
          { Id: 'b', MessageBody: 'second', DelaySeconds: 901 },
          { Id: 'c', MessageBody: 'third' },
        ],
      }),
    );
    expect(result.Successful?.map((entry) => entry.Id)).toEqual(['a', 'c']);
    expect(result.Failed).toEqual([
      expect.objectContaining({ Id: 'b', SenderFault: true, Code: 'InvalidParameterValue' }),
    ]);
    await expect(
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Array.from({ length: 11 }, (_, index) => ({ Id: `m${index}`, MessageBody: 'x' })),
        }),
      ),
    ).rejects.toMatchObject({ name: 'TooManyEntriesInBatchRequest' });
    await expect(
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: [
            { Id: 'same', MessageBody: 'x' },
            { Id: 'same', MessageBody: 'y' },
          ],
        }),
      ),
    ).rejects.toMatchObject({ name: 'BatchEntryIdsNotDistinct' });

    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
    );
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          ...(received.Messages ?? []).map((message, index) => ({
            Id: `d${index}`,
            ReceiptHandle: message.ReceiptHandle,
          })),
          { Id: 'bogus', ReceiptHandle: 'bogus' },
        ],
      }),
    );
    expect(deleted.Successful).toHaveLength(2);
    expect(deleted.Failed).toEqual([
      expect.objectContaining({ Id: 'bogus', Code: 'ReceiptHandleIsInvalid' }),
    ]);
  });

  it('long-polls: a waiting ReceiveMessage answers as soon as a message arrives', async () => {
    const started = Date.now();
    const waiting = sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 10 }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'wake up' }));
    const received = await waiting;
    expect(received.Messages?.map((message) => message.Body)).toEqual(['wake up']);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('SQS API: state survives a hub restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'omnihub-restart-'));
  const credentials = LOCAL_HUB_CREDENTIALS;

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('replays the journals: visible and in-flight messages, receive counts and receipt handles', async () => {
    const options = {
      topology: testTopology(),
      port: 0,
      dataDir,
      consumers: 'paused' as const,
      log: () => {},
    };
    const endpointBefore = process.env.AWS_ENDPOINT_URL_SQS;
    const first = await startLocalHub(options);
    let sqs = new SQSClient({ endpoint: first.url, region: first.region, credentials });
    await sqs.send(
      new SendMessageCommand({ QueueUrl: first.queueUrl('order-recorder'), MessageBody: 'in flight' }),
    );
    await sqs.send(
      new SendMessageCommand({ QueueUrl: first.queueUrl('order-recorder'), MessageBody: 'waiting' }),
    );
    const inFlight = (
      await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: first.queueUrl('order-recorder'), VisibilityTimeout: 600 }),
      )
    ).Messages?.[0];
    sqs.destroy();
    await first.stop();
    // The hub restores the environment it changed.
    expect(process.env.AWS_ENDPOINT_URL_SQS).toBe(endpointBefore);

    const second = await startLocalHub(options);
    try {
      sqs = new SQSClient({ endpoint: second.url, region: second.region, credentials });
      const url = second.queueUrl('order-recorder');
      const attributes = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
      );
      expect(attributes.Attributes).toMatchObject({
        ApproximateNumberOfMessages: '1',
        ApproximateNumberOfMessagesNotVisible: '1',
      });
      // The receipt handle issued before the restart still controls the message.
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: inFlight?.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
      const messages = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      expect(
        messages.Messages?.map((message) => [
          message.Body,
          message.Attributes?.ApproximateReceiveCount,
        ]).sort(),
      ).toEqual([
        ['in flight', '2'],
        ['waiting', '1'],
      ]);
      sqs.destroy();
    } finally {
      await second.stop();
    }
  });
});
