/**
 * The bus archive as an EventBridge archive, and replays from it, with the API shapes and semantics of
 * AWS (ListArchives, DescribeArchive, StartReplay, DescribeReplay, ListReplays, CancelReplay).
 *
 * - The hub has one archive, `<bus>-archive`, of every event put on its bus (AWS: the stack's archive
 *   of every `omnihub.*` event, which on this bus is every event).
 * - A replay takes the archived events whose own `time` is at or after `EventStartTime` and before
 *   `EventEndTime`, oldest first in one-minute intervals as AWS processes them, adds `replay-name` to
 *   each, and delivers it to the rules in `Destination.FilterArns` (all the bus's rules when absent)
 *   whose pattern matches. Replayed events are not archived again.
 * - States: STARTING (answered by StartReplay), RUNNING, then COMPLETED; CANCELLING/CANCELLED after
 *   CancelReplay; FAILED when delivery throws. `EventLastReplayedTime` is the time of the last event
 *   delivered, so a caller can show progress through the window.
 *
 * Differences from AWS: replays are kept in memory (they are gone after a restart); the hub replays as
 * fast as it can rather than pacing one-minute intervals; a FilterArns entry that is not a rule of the
 * bus is refused with ResourceNotFoundException (AWS's exact answer is not documented).
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { AwsServiceError } from '../aws-json-protocol.ts';
import { describeError, type HubLogger } from '../log.ts';
import type { BusRule, LocalEventBus } from './bus.ts';
import type { EventBridgeEvent } from './event.ts';

type Input = Readonly<Record<string, unknown>>;

export type ReplayState = 'STARTING' | 'RUNNING' | 'CANCELLING' | 'COMPLETED' | 'CANCELLED' | 'FAILED';
const REPLAY_STATES: readonly ReplayState[] = [
  'STARTING',
  'RUNNING',
  'CANCELLING',
  'COMPLETED',
  'CANCELLED',
  'FAILED',
];
const ARCHIVE_STATES = ['ENABLED', 'DISABLED', 'CREATING', 'UPDATING', 'CREATE_FAILED', 'UPDATE_FAILED'];

/** AWS's limit on replays running at once per account and region. */
export const MAX_ACTIVE_REPLAYS = 10;
const REPLAY_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
const EVENT_BUS_ARN = /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/.+$/;
const INTERVAL_MS = 60_000;

interface Replay {
  readonly name: string;
  readonly arn: string;
  readonly description: string | undefined;
  readonly eventSourceArn: string;
  readonly destination: { readonly Arn: string; readonly FilterArns?: readonly string[] };
  readonly eventStartTime: Date;
  readonly eventEndTime: Date;
  readonly replayStartTime: Date;
  readonly rules: readonly BusRule[];
  state: ReplayState;
  stateReason: string | undefined;
  eventLastReplayedTime: Date | undefined;
  replayEndTime: Date | undefined;
}

/** Timestamps travel as epoch seconds in the JSON 1.1 protocol, both ways. */
function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

function validation(message: string): AwsServiceError {
  return new AwsServiceError('ValidationException', message);
}

function required(input: Input, name: string): unknown {
  const value = input[name];
  if (value === undefined || value === null || value === '') {
    const member = `${name.charAt(0).toLowerCase()}${name.slice(1)}`;
    throw validation(
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function requiredTime(input: Input, name: string): Date {
  const value = required(input, name);
  const date =
    typeof value === 'number'
      ? new Date(value * 1000)
      : typeof value === 'string'
        ? new Date(value)
        : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw validation(`Parameter ${name} is not valid. Reason: ${name} must be a timestamp.`);
  }
  return date;
}

function optionalString(input: Input, name: string): string | undefined {
  const value = input[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** ListArchives and ListReplays take at most one of their filters, as on AWS. */
function assertOneFilter(operation: string, input: Input): void {
  const given = ['NamePrefix', 'EventSourceArn', 'State'].filter((name) => optionalString(input, name));
  if (given.length > 1) {
    throw validation(
      `At most one filter is allowed for ${operation}. Use either : State, EventSourceArn, or NamePrefix.`,
    );
  }
}

function assertState(value: string | undefined, allowed: readonly string[]): void {
  if (value !== undefined && !allowed.includes(value)) {
    throw validation(
      `1 validation error detected: Value '${value}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(', ')}]`,
    );
  }
}

/** The hub's archive and its replays, answering the EventBridge archive and replay operations. */
export class LocalReplays {
  readonly archiveName: string;
  readonly archiveArn: string;
  private readonly replays = new Map<string, Replay>();
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly bus: LocalEventBus,
    private readonly log: HubLogger,
  ) {
    this.archiveName = `${bus.name}-archive`;
    this.archiveArn = `${bus.arn.replace(/:event-bus\/.*$/, '')}:archive/${this.archiveName}`;
  }

  listArchives(input: Input): unknown {
    assertOneFilter('ListArchives', input);
    const prefix = optionalString(input, 'NamePrefix');
    const source = optionalString(input, 'EventSourceArn');
    const state = optionalString(input, 'State');
    assertState(state, ARCHIVE_STATES);
    const matches =
      (prefix === undefined || this.archiveName.startsWith(prefix)) &&
      (source === undefined || source === this.bus.arn) &&
      (state === undefined || state === 'ENABLED');
    return { Archives: matches ? [this.#archiveSummary()] : [] };
  }

  /** The archive as ListArchives lists it; DescribeArchive adds its ARN and description. */
  #archiveSummary() {
    const { archive } = this.bus;
    return {
      ArchiveName: this.archiveName,
      EventSourceArn: this.bus.arn,
      State: 'ENABLED',
      RetentionDays: archive.retentionDays,
      SizeBytes: archive.sizeBytes,
      EventCount: archive.size,
      CreationTime: epochSeconds(archive.openedAt),
    };
  }

  describeArchive(input: Input): unknown {
    const name = String(required(input, 'ArchiveName'));
    if (name !== this.archiveName) {
      throw new AwsServiceError('ResourceNotFoundException', `Archive ${name} does not exist.`);
    }
    return {
      ArchiveArn: this.archiveArn,
      ...this.#archiveSummary(),
      Description: `Every event put on the local bus ${this.bus.name}.`,
    };
  }

  startReplay(input: Input): unknown {
    const name = String(required(input, 'ReplayName'));
    if (!REPLAY_NAME.test(name)) {
      throw validation(
        `1 validation error detected: Value '${name}' at 'replayName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+`,
      );
    }
    const description = optionalString(input, 'Description');
    const eventSourceArn = String(required(input, 'EventSourceArn'));
    const start = requiredTime(input, 'EventStartTime');
    const end = requiredTime(input, 'EventEndTime');
    const destination = required(input, 'Destination');
    if (typeof destination !== 'object' || destination === null || Array.isArray(destination)) {
      throw validation('Parameter Destination is not valid. Reason: Destination must be an object.');
    }
    const { Arn: destinationArn, FilterArns: filterArns } = destination as Input;
    if (typeof destinationArn !== 'string' || !EVENT_BUS_ARN.test(destinationArn)) {
      throw validation('Parameter Destination.Arn is not valid. Reason: Must contain an event bus ARN.');
    }
    if (eventSourceArn !== this.archiveArn) {
      const archiveName = eventSourceArn.split('/').pop() ?? eventSourceArn;
      throw validation(
        `Parameter EventSourceArn is not valid. Reason: Archive ${archiveName} does not exist.`,
      );
    }
    if (destinationArn !== this.bus.arn) {
      throw validation(
        'Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.',
      );
    }
    if (end.getTime() <= start.getTime()) {
      throw validation(
        'Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.',
      );
    }
    const rules = this.rulesFor(filterArns);
    if (this.replays.has(name)) {
      throw new AwsServiceError('ResourceAlreadyExistsException', `Replay ${name} already exists.`);
    }
    const active = [...this.replays.values()].filter((replay) =>
      ['STARTING', 'RUNNING', 'CANCELLING'].includes(replay.state),
    );
    if (active.length >= MAX_ACTIVE_REPLAYS) {
      throw new AwsServiceError(
        'LimitExceededException',
        `The requested resource exceeds the maximum number allowed: ${MAX_ACTIVE_REPLAYS} active replays.`,
      );
    }
    if (this.closed) throw new AwsServiceError('ServiceUnavailable', 'The local hub is stopping.', 503);

    const replay: Replay = {
      name,
      arn: `${this.bus.arn.replace(/:event-bus\/.*$/, '')}:replay/${name}`,
      description,
      eventSourceArn,
      destination: {
        Arn: destinationArn,
        ...(Array.isArray(filterArns) ? { FilterArns: filterArns.map(String) } : {}),
      },
      eventStartTime: start,
      eventEndTime: end,
      replayStartTime: new Date(),
      rules,
      state: 'STARTING',
      stateReason: undefined,
      eventLastReplayedTime: undefined,
      replayEndTime: undefined,
    };
    this.replays.set(name, replay);
    const run = this.run(replay).finally(() => this.running.delete(run));
    this.running.add(run);
    return {
      ReplayArn: replay.arn,
      State: 'STARTING',
      ReplayStartTime: epochSeconds(replay.replayStartTime),
    };
  }

  describeReplay(input: Input): unknown {
    const replay = this.replayNamed(String(required(input, 'ReplayName')));
    return {
      ReplayName: replay.name,
      ReplayArn: replay.arn,
      ...(replay.description ? { Description: replay.description } : {}),
      ...this.summary(replay),
      Destination: replay.destination,
    };
  }

  listReplays(input: Input): unknown {
    assertOneFilter('ListReplays', input);
    const prefix = optionalString(input, 'NamePrefix');
    const source = optionalString(input, 'EventSourceArn');
    const state = optionalString(input, 'State');
    assertState(state, REPLAY_STATES);
    return {
      Replays: [...this.replays.values()]
        .filter(
          (replay) =>
            (prefix === undefined || replay.name.startsWith(prefix)) &&
            (source === undefined || replay.eventSourceArn === source) &&
            (state === undefined || replay.state === state),
        )
        .map((replay) => ({ ReplayName: replay.name, ...this.summary(replay) })),
    };
  }

  cancelReplay(input: Input): unknown {
    const replay = this.replayNamed(String(required(input, 'ReplayName')));
    if (replay.state !== 'STARTING' && replay.state !== 'RUNNING') {
      throw new AwsServiceError(
        'IllegalStatusException',
        `Replay ${replay.name} is not in a valid state for this operation.`,
      );
    }
    replay.state = 'CANCELLING';
    return { ReplayArn: replay.arn, State: 'CANCELLING' };
  }

  /** Cancels the running replays and waits for them (before the hub closes its queues). */
  async close(): Promise<void> {
    this.closed = true;
    for (const replay of this.replays.values()) {
      if (replay.state === 'STARTING' || replay.state === 'RUNNING') replay.state = 'CANCELLING';
    }
    await Promise.all([...this.running]);
  }

  private summary(replay: Replay): Record<string, unknown> {
    return {
      EventSourceArn: replay.eventSourceArn,
      State: replay.state,
      ...(replay.stateReason ? { StateReason: replay.stateReason } : {}),
      EventStartTime: epochSeconds(replay.eventStartTime),
      EventEndTime: epochSeconds(replay.eventEndTime),
      ...(replay.eventLastReplayedTime
        ? { EventLastReplayedTime: epochSeconds(replay.eventLastReplayedTime) }
        : {}),
      ReplayStartTime: epochSeconds(replay.replayStartTime),
      ...(replay.replayEndTime ? { ReplayEndTime: epochSeconds(replay.replayEndTime) } : {}),
    };
  }

  private replayNamed(name: string): Replay {
    const replay = this.replays.get(name);
    if (!replay) throw new AwsServiceError('ResourceNotFoundException', `Replay ${name} does not exist.`);
    return replay;
  }

  /** The rules named by FilterArns (each must be a rule of this bus), or every rule of the bus. */
  private rulesFor(filterArns: unknown): readonly BusRule[] {
    if (filterArns === undefined || filterArns === null) return this.bus.rules;
    if (!Array.isArray(filterArns) || filterArns.some((arn) => typeof arn !== 'string')) {
      throw validation(
        'Parameter Destination.FilterArns is not valid. Reason: FilterArns must be a list of rule ARNs.',
      );
    }
    return (filterArns as string[]).map((arn) => {
      const rule = this.bus.rules.find((candidate) => this.bus.ruleArn(candidate.name) === arn);
      if (!rule) {
        const ruleName = arn.split('/').pop() ?? arn;
        throw new AwsServiceError(
          'ResourceNotFoundException',
          `Rule ${ruleName} does not exist on EventBus ${this.bus.name}.`,
        );
      }
      return rule;
    });
  }

  private async run(replay: Replay): Promise<void> {
    // StartReplay answers first; DescribeReplay sees STARTING until the next turn of the event loop.
    await yieldToEventLoop();
    if (replay.state === 'CANCELLING') return this.finish(replay, 'CANCELLED');
    replay.state = 'RUNNING';
    try {
      const events = this.bus.archive.eventsBetween(
        replay.eventStartTime.getTime(),
        replay.eventEndTime.getTime(),
      );
      let index = 0;
      while (index < events.length) {
        // One interval of one minute of event time at a time, as AWS processes a replay.
        const first = events[index] as EventBridgeEvent;
        const intervalEnd = Math.floor(Date.parse(first.time) / INTERVAL_MS) * INTERVAL_MS + INTERVAL_MS;
        const interval: EventBridgeEvent[] = [];
        while (index < events.length && Date.parse((events[index] as EventBridgeEvent).time) < intervalEnd) {
          interval.push({ ...(events[index] as EventBridgeEvent), 'replay-name': replay.name });
          index++;
        }
        await this.bus.deliverReplayed(interval, replay.rules);
        replay.eventLastReplayedTime = new Date((interval[interval.length - 1] as EventBridgeEvent).time);
        await yieldToEventLoop();
        if ((replay.state as ReplayState) === 'CANCELLING') return this.finish(replay, 'CANCELLED');
      }
      this.finish(replay, 'COMPLETED');
    } catch (error) {
      this.log.error(`replay ${replay.name} failed: ${describeError(error)}`);
      this.finish(replay, 'FAILED', `Delivery failed: ${describeError(error)}`.slice(0, 512));
    }
  }

  private finish(replay: Replay, state: ReplayState, reason?: string): void {
    replay.state = state;
    replay.stateReason = reason;
    replay.replayEndTime = new Date();
  }
}
