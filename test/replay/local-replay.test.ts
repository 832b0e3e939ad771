/**
 * The local bus's archive and replay API through the real @aws-sdk/client-eventbridge: the window is
 * on the events' own time (start inclusive, end exclusive), replayed events carry `replay-name`, go
 * only to the rules in FilterArns (and only where the rule's pattern matches), are not archived again,
 * and the errors are AWS's.
 */

import {
  CancelReplayCommand,
  DescribeArchiveCommand,
  DescribeReplayCommand,
  type DescribeReplayCommandOutput,
  EventBridgeClient,
  ListArchivesCommand,
  ListReplaysCommand,
  ListRulesCommand,
  PutEventsCommand,
  StartReplayCommand,
  type StartReplayCommandInput,
} from '@aws-sdk/client-eventbridge';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalHub } from '../../local/hub.ts';
import { hubClientConfig, startPausedTestHub } from '../local/support/environment.ts';

const T0 = Date.parse('2025-06-01T10:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);

let hub: LocalHub;
let eventBridge: EventBridgeClient;
let sqs: SQSClient;
let busArn: string;
let archiveArn: string;
let ruleArns: Record<string, string>;

interface Delivered {
  readonly id: string;
  readonly time: string;
  readonly 'detail-type': string;
  readonly 'replay-name'?: string;
  readonly detail: { readonly n: number };
}

/** Everything waiting in a consumer's queue (the consumers are paused), removed as it is read. */
async function takeAll(queue: string): Promise<Delivered[]> {
  const taken: Delivered[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: hub.queueUrl(queue), MaxNumberOfMessages: 10 }),
    );
    if (Messages.length === 0) return taken;
    for (const message of Messages) {
      taken.push(JSON.parse(message.Body ?? '{}') as Delivered);
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: hub.queueUrl(queue), ReceiptHandle: message.ReceiptHandle }),
      );
    }
  }
}

async function untilDone(name: string): Promise<DescribeReplayCommandOutput> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const replay = await eventBridge.send(new DescribeReplayCommand({ ReplayName: name }));
    if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(replay.State ?? '')) return replay;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`replay ${name} did not finish`);
}

async function archivedCount(): Promise<number> {
  const archive = await eventBridge.send(new DescribeArchiveCommand({ ArchiveName: 'omnihub-test-archive' }));
  return archive.EventCount ?? -1;
}

function startInput(overrides: Partial<StartReplayCommandInput> = {}): StartReplayCommandInput {
  return {
    ReplayName: 'replay-default',
    EventSourceArn: archiveArn,
    EventStartTime: at(0),
    EventEndTime: at(600),
    Destination: { Arn: busArn },
    ...overrides,
  };
}

async function rejection(input: StartReplayCommandInput): Promise<{ name: string; message: string }> {
  try {
    await eventBridge.send(new StartReplayCommand(input));
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
  throw new Error('StartReplay was expected to fail');
}

beforeAll(async () => {
  hub = await startPausedTestHub();
  const client = hubClientConfig(hub);
  eventBridge = new EventBridgeClient({ ...client, maxAttempts: 1 });
  sqs = new SQSClient(client);
  busArn = hub.health().bus.arn;
  // Out of time order on purpose: a replay goes by event time, not by arrival.
  const events: [number, string][] = [
    [120, 'order.placed'], // 1
    [0, 'order.placed'], // 2: the window's first instant
    [30, 'order.refunded'], // 3
    [59, 'order.placed'], // 4
    [600, 'order.placed'], // 5: the window's end, excluded
    [-1, 'order.placed'], // 6: before the window
  ];
  await eventBridge.send(
    new PutEventsCommand({
      Entries: events.map(([seconds, type], index) => ({
        EventBusName: hub.busName,
        Source: 'omnihub.testshop',
        DetailType: type,
        Detail: JSON.stringify({ n: index + 1 }),
        Time: at(seconds),
      })),
    }),
  );
  const { Archives = [] } = await eventBridge.send(new ListArchivesCommand({ EventSourceArn: busArn }));
  archiveArn = String(
    (await eventBridge.send(new DescribeArchiveCommand({ ArchiveName: Archives[0]?.ArchiveName })))
      .ArchiveArn,
  );
  const { Rules = [] } = await eventBridge.send(new ListRulesCommand({ EventBusName: hub.busName }));
  ruleArns = Object.fromEntries(Rules.map((rule) => [rule.Name, rule.Arn]));
});

beforeEach(async () => {
  await takeAll('order-recorder');
  await takeAll('refund-recorder');
});

afterAll(async () => {
  eventBridge?.destroy();
  sqs?.destroy();
  await hub?.stop();
});

describe('Local bus: the archive', () => {
  it('lists one archive for the bus, with its retention and event count', async () => {
    const { Archives } = await eventBridge.send(new ListArchivesCommand({ EventSourceArn: busArn }));
    expect(Archives).toEqual([
      expect.objectContaining({
        ArchiveName: 'omnihub-test-archive',
        EventSourceArn: busArn,
        State: 'ENABLED',
        RetentionDays: 30,
        EventCount: 6,
      }),
    ]);
    expect(archiveArn).toBe(`arn:aws:events:${hub.region}:${hub.accountId}:archive/omnihub-test-archive`);
    const other = await eventBridge.send(
      new ListArchivesCommand({
        EventSourceArn: `arn:aws:events:${hub.region}:${hub.accountId}:event-bus/other`,
      }),
    );
    expect(other.Archives).toEqual([]);
  });

  it('answers an unknown archive and two filters as AWS does', async () => {
    await expect(eventBridge.send(new DescribeArchiveCommand({ ArchiveName: 'nope' }))).rejects.toMatchObject(
      {
        name: 'ResourceNotFoundException',
        message: 'Archive nope does not exist.',
      },
    );
    await expect(
      eventBridge.send(new ListArchivesCommand({ NamePrefix: 'omni', EventSourceArn: busArn })),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('At most one filter'),
    });
  });
});

describe('Local bus: StartReplay and DescribeReplay', () => {
  it('replays the window by event time (start inclusive, end exclusive) with replay-name, and archives nothing', async () => {
    const started = await eventBridge.send(
      new StartReplayCommand(startInput({ ReplayName: 'whole-window' })),
    );
    expect(started).toMatchObject({
      ReplayArn: `arn:aws:events:${hub.region}:${hub.accountId}:replay/whole-window`,
      State: 'STARTING',
    });
    expect(started.ReplayStartTime).toBeInstanceOf(Date);
    const done = await untilDone('whole-window');
    expect(done).toMatchObject({
      ReplayName: 'whole-window',
      State: 'COMPLETED',
      EventSourceArn: archiveArn,
      Destination: { Arn: busArn },
      EventStartTime: at(0),
      EventEndTime: at(600),
      EventLastReplayedTime: at(120),
    });
    expect(done.ReplayEndTime).toBeInstanceOf(Date);

    const orders = await takeAll('order-recorder');
    expect(orders.map((event) => event.detail.n)).toEqual([2, 4, 1]);
    expect(orders.every((event) => event['replay-name'] === 'whole-window')).toBe(true);
    const refunds = await takeAll('refund-recorder');
    expect(refunds.map((event) => [event.detail.n, event['replay-name']])).toEqual([[3, 'whole-window']]);
    expect(await archivedCount()).toBe(6);
  });

  it('keeps the event as archived (id, time, detail) and only adds replay-name', async () => {
    await eventBridge.send(
      new StartReplayCommand(startInput({ ReplayName: 'same-event', EventEndTime: at(1) })),
    );
    await untilDone('same-event');
    const [replayed] = await takeAll('order-recorder');
    const archived = (await (await fetch(`${hub.url}/local/events?limit=1000`)).json()) as {
      events: { event: Delivered }[];
    };
    const original = archived.events.find((item) => item.event.detail.n === 2)?.event;
    expect(replayed).toEqual({ ...original, 'replay-name': 'same-event' });
  });

  it('delivers only to the rules in FilterArns', async () => {
    await eventBridge.send(
      new StartReplayCommand(
        startInput({
          ReplayName: 'refunds-only',
          Destination: { Arn: busArn, FilterArns: [String(ruleArns['refund-recorder'])] },
        }),
      ),
    );
    expect(await untilDone('refunds-only')).toMatchObject({
      State: 'COMPLETED',
      Destination: { Arn: busArn, FilterArns: [ruleArns['refund-recorder']] },
    });
    expect(await takeAll('order-recorder')).toEqual([]);
    expect((await takeAll('refund-recorder')).map((event) => event.detail.n)).toEqual([3]);
  });

  it('completes an empty window without EventLastReplayedTime', async () => {
    await eventBridge.send(
      new StartReplayCommand(
        startInput({ ReplayName: 'empty', EventStartTime: at(3600), EventEndTime: at(7200) }),
      ),
    );
    const done = await untilDone('empty');
    expect(done.State).toBe('COMPLETED');
    expect(done.EventLastReplayedTime).toBeUndefined();
    expect(await takeAll('order-recorder')).toEqual([]);
  });

  it('lists replays by state, and refuses to cancel a completed one', async () => {
    const { Replays = [] } = await eventBridge.send(new ListReplaysCommand({ State: 'COMPLETED' }));
    expect(Replays.map((replay) => replay.ReplayName)).toEqual(
      expect.arrayContaining(['whole-window', 'refunds-only', 'empty']),
    );
    await expect(
      eventBridge.send(new CancelReplayCommand({ ReplayName: 'whole-window' })),
    ).rejects.toMatchObject({
      name: 'IllegalStatusException',
      message: 'Replay whole-window is not in a valid state for this operation.',
    });
  });

  it('cancels a running replay between intervals: the rest of the window is not delivered', async () => {
    // A thousand events, one per minute of event time a day later: a thousand intervals to go through.
    const base = T0 + 86_400_000;
    for (let batch = 0; batch < 100; batch++) {
      await eventBridge.send(
        new PutEventsCommand({
          Entries: Array.from({ length: 10 }, (_, index) => ({
            EventBusName: hub.busName,
            Source: 'omnihub.testshop',
            DetailType: 'order.placed',
            Detail: JSON.stringify({ n: 1000 + batch * 10 + index }),
            Time: new Date(base + (batch * 10 + index) * 60_000),
          })),
        }),
      );
    }
    await takeAll('order-recorder'); // the live deliveries of those events
    await eventBridge.send(
      new StartReplayCommand(
        startInput({
          ReplayName: 'cancelled',
          EventStartTime: new Date(base),
          EventEndTime: new Date(base + 86_400_000),
        }),
      ),
    );
    expect(await eventBridge.send(new CancelReplayCommand({ ReplayName: 'cancelled' }))).toMatchObject({
      State: 'CANCELLING',
    });
    const done = await untilDone('cancelled');
    expect(done.State).toBe('CANCELLED');
    expect(done.ReplayEndTime).toBeInstanceOf(Date);
    const replayed = await takeAll('order-recorder');
    expect(replayed.length).toBeLessThan(1000);
    expect(replayed.every((event) => event['replay-name'] === 'cancelled')).toBe(true);
  });

  it.each([
    [
      'an end not after the start',
      { EventEndTime: at(0) },
      'ValidationException',
      'Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.',
    ],
    [
      'another archive',
      { EventSourceArn: 'arn:aws:events:us-east-1:000000000000:archive/elsewhere' },
      'ValidationException',
      'Parameter EventSourceArn is not valid. Reason: Archive elsewhere does not exist.',
    ],
    [
      'a destination that is not a bus',
      { Destination: { Arn: 'arn:aws:sqs:us-east-1:000000000000:queue' } },
      'ValidationException',
      'Parameter Destination.Arn is not valid. Reason: Must contain an event bus ARN.',
    ],
    [
      'another bus',
      { Destination: { Arn: 'arn:aws:events:us-east-1:000000000000:event-bus/default' } },
      'ValidationException',
      'Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.',
    ],
    [
      'a rule the bus does not have',
      {
        Destination: {
          Arn: '',
          FilterArns: ['arn:aws:events:us-east-1:000000000000:rule/omnihub-test/ghost'],
        },
      },
      'ResourceNotFoundException',
      'Rule ghost does not exist on EventBus omnihub-test.',
    ],
    [
      'a name AWS refuses',
      { ReplayName: 'no spaces' },
      'ValidationException',
      "Value 'no spaces' at 'replayName' failed to satisfy constraint",
    ],
  ])('refuses %s', async (_case, overrides, name, message) => {
    const input = startInput({
      ReplayName: `refused-${Math.random().toString(36).slice(2, 8)}`,
      ...overrides,
    });
    if (input.Destination?.Arn === '') input.Destination = { ...input.Destination, Arn: busArn };
    const failure = await rejection(input);
    expect(failure.name).toBe(name);
    expect(failure.message).toContain(message);
  });

  it('refuses a name already used, and describes an unknown replay as not found', async () => {
    await expect(rejection(startInput({ ReplayName: 'whole-window' }))).resolves.toEqual({
      name: 'ResourceAlreadyExistsException',
      message: 'Replay whole-window already exists.',
    });
    await expect(eventBridge.send(new DescribeReplayCommand({ ReplayName: 'ghost' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'Replay ghost does not exist.',
    });
  });
});
