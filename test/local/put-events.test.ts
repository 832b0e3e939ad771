/**
 * PutEvents on the local bus through the real @aws-sdk/client-eventbridge, validated like AWS.
 */

import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PUT_EVENTS_SIZE_BYTES, putEventsEntrySize } from '../../local/eventbridge/bus.ts';
import type { LocalHub } from '../../local/hub.ts';
import { hubClientConfig, startPausedTestHub } from './support/environment.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let hub: LocalHub;
let eventBridge: EventBridgeClient;

beforeAll(async () => {
  hub = await startPausedTestHub();
  eventBridge = new EventBridgeClient({ ...hubClientConfig(hub), maxAttempts: 1 });
});

afterAll(async () => {
  eventBridge?.destroy();
  await hub?.stop();
});

function entry(overrides: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry {
  return {
    EventBusName: hub.busName,
    Source: 'omnihub.testshop',
    DetailType: 'order.placed',
    Detail: JSON.stringify({ id: 'evt-1', data: { orderId: '1' } }),
    ...overrides,
  };
}

async function rejection(
  entries: PutEventsRequestEntry[],
): Promise<{ name: string; message: string; status?: number }> {
  try {
    await eventBridge.send(new PutEventsCommand({ Entries: entries }));
  } catch (error) {
    const failure = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: failure.name, message: failure.message, status: failure.$metadata?.httpStatusCode };
  }
  throw new Error('PutEvents was expected to fail');
}

async function archivedOfType(type: string): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${hub.url}/local/events?type=${encodeURIComponent(type)}&limit=1000`);
  const body = (await response.json()) as { events: { event: Record<string, unknown> }[] };
  return body.events.map((archived) => archived.event);
}

/** An entry whose AWS-computed size is exactly `size` bytes. */
function entryOfSize(size: number): PutEventsRequestEntry {
  const base = entry({ Detail: '{"p":""}' });
  const padding = size - putEventsEntrySize(base as Record<string, unknown>);
  return { ...base, Detail: JSON.stringify({ p: 'x'.repeat(padding) }) };
}

describe('Local bus: PutEvents request limits', () => {
  it('accepts 10 entries and returns an EventId for each, in order', async () => {
    const result = await eventBridge.send(
      new PutEventsCommand({ Entries: Array.from({ length: 10 }, () => entry({ DetailType: 'limit.ten' })) }),
    );
    expect(result.FailedEntryCount).toBe(0);
    expect(result.Entries).toHaveLength(10);
    for (const resultEntry of result.Entries ?? []) expect(resultEntry.EventId).toMatch(UUID);
    expect((await archivedOfType('limit.ten')).map((event) => event.id)).toEqual(
      result.Entries?.map((resultEntry) => resultEntry.EventId),
    );
  });

  it.each([
    [11, 'Member must have length less than or equal to 10'],
    [0, 'Member must have length greater than or equal to 1'],
  ])('refuses %i entries with a ValidationException', async (count, message) => {
    const failure = await rejection(
      Array.from({ length: count }, () => entry({ DetailType: 'limit.refused' })),
    );
    expect(failure).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(failure.message).toContain(message);
    expect(await archivedOfType('limit.refused')).toEqual([]);
  });

  it('counts entry size as AWS documents: 14 bytes for Time plus the UTF-8 bytes of the string fields', () => {
    expect(
      putEventsEntrySize({ Source: 'ab', DetailType: 'cé', Detail: '{}', Resources: ['r1', 'r2'], Time: 1 }),
    ).toBe(14 + 2 + 3 + 2 + 4);
  });

  it('accepts a request of exactly the size limit and refuses one byte more', async () => {
    const atLimit = await eventBridge.send(
      new PutEventsCommand({ Entries: [entryOfSize(MAX_PUT_EVENTS_SIZE_BYTES)] }),
    );
    expect(atLimit.FailedEntryCount).toBe(0);

    const over = await rejection([entryOfSize(MAX_PUT_EVENTS_SIZE_BYTES + 1)]);
    expect(over).toEqual({
      name: 'ValidationException',
      message: 'Total size of the entries in the request is over the limit.',
      status: 400,
    });
  });

  it('counts the 14 bytes of Time and sums the sizes of all entries of the request', async () => {
    const withoutTime = entryOfSize(MAX_PUT_EVENTS_SIZE_BYTES - 13);
    expect((await eventBridge.send(new PutEventsCommand({ Entries: [withoutTime] }))).FailedEntryCount).toBe(
      0,
    );
    expect((await rejection([{ ...withoutTime, Time: new Date() }])).name).toBe('ValidationException');
    const half = MAX_PUT_EVENTS_SIZE_BYTES / 2;
    expect((await rejection([entryOfSize(half), entryOfSize(half + 1)])).name).toBe('ValidationException');
  });
});

describe('Local bus: PutEvents entry validation', () => {
  it.each(['Source', 'DetailType', 'Detail'] as const)('fails an entry without %s', async (field) => {
    const result = await eventBridge.send(new PutEventsCommand({ Entries: [entry({ [field]: undefined })] }));
    expect(result).toMatchObject({
      FailedEntryCount: 1,
      Entries: [
        {
          ErrorCode: 'InvalidArgument',
          ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
        },
      ],
    });
  });

  it.each(['not json', '[1,2]', '"a string"', 'null'])(
    'fails an entry whose Detail is %s with MalformedDetail',
    async (detail) => {
      const result = await eventBridge.send(new PutEventsCommand({ Entries: [entry({ Detail: detail })] }));
      expect(result.Entries).toEqual([
        { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      ]);
    },
  );

  it('fails an entry with an aws.* source, which only AWS services may use', async () => {
    const result = await eventBridge.send(new PutEventsCommand({ Entries: [entry({ Source: 'aws.s3' })] }));
    expect(result.Entries).toEqual([
      { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' },
    ]);
  });

  it.each([
    ['another bus', 'orders', "not 'orders'"],
    ['the ARN of another account', 'arn:aws:events:us-east-1:111111111111:event-bus/omnihub-test', 'not'],
    ['the default bus of another account', 'arn:aws:events:us-east-1:111111111111:event-bus/default', 'not'],
  ])('fails an entry for %s', async (_label, busName, message) => {
    const result = await eventBridge.send(
      new PutEventsCommand({ Entries: [entry({ EventBusName: busName })] }),
    );
    expect(result.FailedEntryCount).toBe(1);
    expect(result.Entries?.[0]).toMatchObject({
      ErrorCode: 'InvalidArgument',
      ErrorMessage: expect.stringContaining(message),
    });
  });

  it('accepts the bus by name and by ARN', async () => {
    const result = await eventBridge.send(
      new PutEventsCommand({
        Entries: [
          entry({ EventBusName: 'omnihub-test' }),
          entry({ EventBusName: 'arn:aws:events:us-east-1:000000000000:event-bus/omnihub-test' }),
        ],
      }),
    );
    expect(result.FailedEntryCount).toBe(0);
  });

  it('answers mixed entries in request order, counting only the failed ones', async () => {
    const result = await eventBridge.send(
      new PutEventsCommand({
        Entries: [
          entry({ DetailType: 'mixed.batch', Detail: '{"n":1}' }),
          entry({ DetailType: 'mixed.batch', Source: undefined }),
          entry({ DetailType: 'mixed.batch', Detail: '{"n":3}' }),
          entry({ DetailType: 'mixed.batch', EventBusName: 'elsewhere' }),
          entry({ DetailType: 'mixed.batch', Detail: '{' }),
        ],
      }),
    );
    expect(result.FailedEntryCount).toBe(3);
    expect(
      result.Entries?.map((resultEntry) => (resultEntry.EventId ? 'ok' : resultEntry.ErrorCode)),
    ).toEqual(['ok', 'InvalidArgument', 'ok', 'InvalidArgument', 'MalformedDetail']);
    const archived = await archivedOfType('mixed.batch');
    expect(archived.map((event) => event.detail)).toEqual([{ n: 1 }, { n: 3 }]);
  });
});

describe('Local bus: the default bus', () => {
  const queued = () =>
    Object.fromEntries(
      hub
        .health()
        .consumers.map((consumer) => [consumer.id, consumer.queue.visible + consumer.queue.inFlight]),
    );

  it('accepts entries without EventBusName (or for default) as AWS does: no rule, no archive', async () => {
    const before = queued();
    const forDefault = { DetailType: 'order.placed', Detail: '{"bus":"default"}' };
    const result = await eventBridge.send(
      new PutEventsCommand({
        Entries: [
          entry({ ...forDefault, EventBusName: undefined }),
          entry({ ...forDefault, EventBusName: 'default' }),
          entry({ ...forDefault, EventBusName: 'arn:aws:events:us-east-1:000000000000:event-bus/default' }),
          entry({ DetailType: 'order.placed', Detail: '{"bus":"hub"}' }),
        ],
      }),
    );
    expect(result.FailedEntryCount).toBe(0);
    expect(result.Entries).toHaveLength(4);
    for (const resultEntry of result.Entries ?? []) expect(resultEntry.EventId).toMatch(UUID);

    // Only the entry for the hub's bus reached the archive and order-recorder's rule.
    const archived = (await archivedOfType('order.placed')).filter((event) =>
      (result.Entries ?? []).some((resultEntry) => resultEntry.EventId === event.id),
    );
    expect(archived.map((event) => event.detail)).toEqual([{ bus: 'hub' }]);
    expect(queued()).toEqual({ ...before, 'order-recorder': (before['order-recorder'] ?? 0) + 1 });
  });

  it('still validates entries for the default bus', async () => {
    const result = await eventBridge.send(
      new PutEventsCommand({ Entries: [entry({ EventBusName: undefined, Source: undefined })] }),
    );
    expect(result.Entries).toEqual([
      {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.',
      },
    ]);
  });
});

describe('Local bus: events as delivered', () => {
  it('builds the event like AWS: entry Time truncated to the second, resources, parsed detail', async () => {
    const result = await eventBridge.send(
      new PutEventsCommand({
        Entries: [
          entry({
            DetailType: 'shape.checked',
            Time: new Date('2024-05-01T12:34:56.789Z'),
            Resources: ['arn:aws:s3:::bucket'],
            Detail: '{"nested":{"a":[1,2]},"unicode":"Zoë"}',
          }),
        ],
      }),
    );
    expect(await archivedOfType('shape.checked')).toEqual([
      {
        version: '0',
        id: result.Entries?.[0]?.EventId,
        'detail-type': 'shape.checked',
        source: 'omnihub.testshop',
        account: '000000000000',
        time: '2024-05-01T12:34:56Z',
        region: 'us-east-1',
        resources: ['arn:aws:s3:::bucket'],
        detail: { nested: { a: [1, 2] }, unicode: 'Zoë' },
      },
    ]);
  });

  it('delivers to the queues of matching rules only', async () => {
    const visible = () =>
      Object.fromEntries(hub.health().consumers.map((consumer) => [consumer.id, consumer.queue.visible]));
    const before = visible();
    await eventBridge.send(
      new PutEventsCommand({
        Entries: [
          entry({ DetailType: 'order.refunded' }),
          entry({ DetailType: 'order.refunded' }),
          entry({ DetailType: 'order.placed', Source: 'vendor.direct' }),
        ],
      }),
    );
    const after = visible();
    // order-recorder wants an omnihub.* source with order.placed; refund-recorder gets both refunds.
    expect(after).toEqual({
      'order-recorder': before['order-recorder'],
      'refund-recorder': (before['refund-recorder'] ?? 0) + 2,
    });
  });

  it('serves TestEventPattern with the same pattern engine the rules use', async () => {
    const event = JSON.stringify({
      version: '0',
      id: '1',
      'detail-type': 'order.placed',
      source: 'omnihub.shopify',
      account: '000000000000',
      time: '2024-05-01T00:00:00Z',
      region: 'us-east-1',
      resources: [],
      detail: {},
    });
    const pattern = JSON.stringify({
      source: [{ prefix: 'omnihub.' }],
      'detail-type': [{ 'anything-but': { prefix: 'profile.' } }],
    });
    const result = await eventBridge.send(
      new TestEventPatternCommand({ EventPattern: pattern, Event: event }),
    );
    expect(result.Result).toBe(true);
  });
});
