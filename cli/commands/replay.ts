/**
 * `omnihub replay --from <time> [--to <time>] [--type <detail-type>]...`: replays archived events to
 * the consumers through EventBridge's own replay, with the real EventBridge client in both runtimes:
 * the local hub serves the same API (StartReplay, DescribeReplay, ...) over its archive.
 *
 * 1. The bus (`--bus`; locally the hub's, with `--aws` `omnihub-<stage>`, the stack output `BusName`)
 *    and its archive (ListArchives by the bus ARN).
 * 2. The consumer rules of the bus (ListRules): a rule belongs to a consumer of the topology by name
 *    (local) or by description (AWS, where CloudFormation names rules). Other rules, such as the
 *    analytics stream's, are never replayed to: they would store the events a second time.
 * 3. `--type` cannot filter a replay (EventBridge replays every event in the window to the rules it is
 *    given), so it selects the rules whose pattern can take events of that type: each rule's pattern,
 *    reduced to its `source` and `detail-type` conditions, is evaluated with the local matcher against
 *    a sample event of that type from each `omnihub.*` source.
 * 4. StartReplay, then DescribeReplay until the replay ends, showing the state and how far through the
 *    window it is (a bar on a terminal, plain lines otherwise).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  CancelReplayCommand,
  DescribeArchiveCommand,
  DescribeEventBusCommand,
  DescribeReplayCommand,
  type DescribeReplayCommandOutput,
  EventBridgeClient,
  ListArchivesCommand,
  ListRulesCommand,
  type Rule,
  StartReplayCommand,
} from '@aws-sdk/client-eventbridge';
import { eventTypes, isEventType } from '../../core/events/catalog.ts';
import { type ConsumerDefinition, topology } from '../../lib/topology.ts';
import { compileEventPattern } from '../../local/eventbridge/pattern.ts';
import { asUsageError, type CliCommand, type CliIo, UsageError } from '../command.ts';
import { type Progress, ProgressBar } from '../format.ts';
import { API_HELP, API_OPTIONS, defaultBaseUrl, givenApiUrl } from '../hub-client.ts';

const USAGE = `Usage:
  omnihub replay --from <time> [--to <time>] [--type <detail-type>]... [--consumer <id>]...

Replays archived canonical events to the hub's consumers (the profile writer and the sync
destinations) with an EventBridge replay: locally from the local hub's archive, with --aws from the
stack's bus archive. The window is on the events' own time (for webhooks: when it happened at the
vendor). Replayed events carry "replay-name" and are not archived again; the consumers are idempotent,
so a replay repairs what was missed without doubling anything.

Options:
  --from <time>       start of the window, inclusive: 2025-06-01 (UTC midnight) or 2025-06-01T09:00:00Z
  --to <time>         end of the window, exclusive (default: now)
  --type <type>       only the consumers whose rule takes this detail-type (repeatable). EventBridge
                      cannot filter a replay by type: every event in the window is replayed to those
                      consumers, whose rules still apply their own patterns.
  --consumer <id>     only these consumers (repeatable): profile-writer, sync-hubspot, ...
  --name <name>       the replay's name (default: omnihub-<time>-<random>; letters, digits, . - _)
  --detach            start the replay and exit without waiting for it
  --api <url>         ${API_HELP}
  --aws               replay in your AWS account (default credentials and region)
  --stage <stage>     with --aws: the deployed stage, whose bus is omnihub-<stage> (default dev)
  --bus <name>        the event bus, instead of the default (the stack output BusName)

In AWS this needs events:DescribeEventBus, events:ListArchives, events:DescribeArchive,
events:ListRules, events:StartReplay, events:DescribeReplay and events:CancelReplay (Ctrl-C).

Examples:
  npx omnihub replay --from 2025-06-01 --to 2025-06-08
  npx omnihub replay --from 2025-06-07T10:00:00Z --type order.placed
  npx omnihub replay --from 2025-06-01 --consumer sync-hubspot --aws --stage prod`;

const TERMINAL_STATES = new Set(['COMPLETED', 'CANCELLED', 'FAILED']);
const REPLAY_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
const LOCAL_POLL_MS = 200;
const AWS_POLL_MS = 5_000;
/** AWS advises waiting this long before replaying: archiving lags behind the bus. */
const ARCHIVE_DELAY_MS = 10 * 60_000;

/**
 * An ISO 8601 date (UTC midnight) or date-time with a zone, as epoch milliseconds. A date-time without
 * a zone is refused: whose 09:00 it would be is ambiguous.
 */
export function parseInstant(text: string, option: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  const shaped = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i.test(date);
  const instant = new Date(date);
  if (!shaped || Number.isNaN(instant.getTime())) {
    throw new UsageError(
      `${option} must be an ISO 8601 date (2025-06-01, UTC) or a date-time with a zone (2025-06-01T09:00:00Z), got ${JSON.stringify(text)}`,
    );
  }
  return instant;
}

type PatternObject = Record<string, unknown>;

function isObject(value: unknown): value is PatternObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The pattern's conditions on `source` and `detail-type` only (through `$or`), so that a rule whose
 * other conditions (on `detail`) some event of a type could meet counts as taking that type.
 * Undefined: no condition left, every type matches.
 */
function typeConditions(pattern: PatternObject): PatternObject | undefined {
  const kept: PatternObject = {};
  for (const [key, value] of Object.entries(pattern)) {
    if (key === 'source' || key === 'detail-type') kept[key] = value;
    else if (key === '$or' && Array.isArray(value)) {
      const alternatives = value.map((alternative) =>
        isObject(alternative) ? typeConditions(alternative) : undefined,
      );
      // One unconditional alternative makes the whole `$or` hold.
      if (alternatives.every((alternative) => alternative !== undefined)) kept.$or = alternatives;
    }
  }
  return Object.keys(kept).length > 0 ? kept : undefined;
}

/** Sources canonical events are published with: `omnihub.profiles` and `omnihub.<connector>`. */
function eventSources(): string[] {
  return ['omnihub.profiles', ...topology.ingest.map((route) => `omnihub.${route.connector.id}`)];
}

/**
 * Whether a rule with this event pattern (the JSON text ListRules returns) can take events of `type`
 * from an `omnihub.*` source.
 *
 * @example
 * ruleTakesType('{"source":["omnihub.profiles"],"detail-type":["profile.merged"]}', 'profile.merged'); // true
 */
export function ruleTakesType(eventPattern: string, type: string): boolean {
  const pattern: unknown = JSON.parse(eventPattern);
  if (!isObject(pattern)) return false;
  const conditions = typeConditions(pattern);
  if (conditions === undefined) return true;
  const matches = compileEventPattern(conditions);
  return eventSources().some((source) =>
    matches({
      version: '0',
      id: '00000000-0000-0000-0000-000000000000',
      'detail-type': type,
      source,
      account: '000000000000',
      time: '2025-01-01T00:00:00Z',
      region: 'us-east-1',
      resources: [],
      detail: { type, source },
    }),
  );
}

/** The topology consumer a bus rule delivers to: by name locally, by description in AWS. */
export function consumerOfRule(
  rule: Pick<Rule, 'Name' | 'Description'>,
  consumers: readonly ConsumerDefinition[] = topology.consumers,
): ConsumerDefinition | undefined {
  return (
    consumers.find((consumer) => consumer.id === rule.Name) ??
    consumers.find((consumer) => consumer.description.slice(0, 512) === rule.Description)
  );
}

interface Options {
  readonly from: Date;
  readonly to: Date;
  readonly types: readonly string[];
  readonly consumers: readonly string[];
  readonly name: string;
  readonly detach: boolean;
  readonly aws: boolean;
  readonly api: string;
  readonly stage: string;
  readonly bus: string | undefined;
}

function defaultReplayName(now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `omnihub-${stamp}-${randomBytes(3).toString('hex')}`;
}

function parseOptions(args: readonly string[], io: CliIo, now: Date): Options {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: [...args],
      allowPositionals: false,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        type: { type: 'string', multiple: true },
        consumer: { type: 'string', multiple: true },
        name: { type: 'string' },
        detach: { type: 'boolean', default: false },
        ...API_OPTIONS,
        aws: { type: 'boolean', default: false },
        stage: { type: 'string', default: 'dev' },
        bus: { type: 'string' },
      },
    });
  }
  try {
    parsed = parse();
  } catch (error) {
    throw asUsageError(error);
  }
  const { values } = parsed;
  if (values.from === undefined) throw new UsageError('--from is required, e.g. --from 2025-06-01');
  const from = parseInstant(values.from, '--from');
  const to = values.to === undefined ? now : parseInstant(values.to, '--to');
  if (from.getTime() >= to.getTime()) {
    throw new UsageError(`--from (${from.toISOString()}) must be before --to (${to.toISOString()})`);
  }
  const types = values.type ?? [];
  const unknownType = types.find((type) => !isEventType(type));
  if (unknownType !== undefined) {
    throw new UsageError(`unknown event type ${unknownType}; the catalog has ${eventTypes.join(', ')}`);
  }
  const name = values.name ?? defaultReplayName(now);
  if (!REPLAY_NAME.test(name)) {
    throw new UsageError('--name takes 1 to 64 letters, digits, dots, dashes and underscores');
  }
  const api = givenApiUrl(values, io);
  if (values.aws && api !== undefined) throw new UsageError('--api and --aws exclude each other');
  return {
    from,
    to,
    types,
    consumers: values.consumer ?? [],
    name,
    detach: values.detach ?? false,
    aws: values.aws ?? false,
    api: api ?? defaultBaseUrl(io.env),
    stage: values.stage ?? 'dev',
    bus: values.bus,
  };
}

interface ConsumerRule {
  readonly consumer: string;
  readonly arn: string;
  readonly pattern: string;
}

async function listRules(client: EventBridgeClient, busName: string): Promise<Rule[]> {
  const rules: Rule[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListRulesCommand({ EventBusName: busName, NextToken: token }));
    rules.push(...(page.Rules ?? []));
    token = page.NextToken;
  } while (token);
  return rules;
}

/** The consumer rules to replay to, after `--consumer` and `--type`. */
function chooseRules(rules: readonly Rule[], options: Options): ConsumerRule[] {
  const consumerRules: ConsumerRule[] = [];
  for (const rule of rules) {
    const consumer = consumerOfRule(rule);
    // Rules managed by a service (the archive's own rule) are never a consumer's.
    if (!consumer || rule.ManagedBy || !rule.Arn || !rule.EventPattern) continue;
    consumerRules.push({ consumer: consumer.id, arn: rule.Arn, pattern: rule.EventPattern });
  }
  const known = consumerRules.map((rule) => rule.consumer);
  const unknown = options.consumers.filter((id) => !known.includes(id));
  if (unknown.length > 0) {
    throw new UsageError(
      `the bus has no consumer ${unknown.join(', ')} (it has: ${known.join(', ') || 'none'})`,
    );
  }
  return consumerRules.filter(
    (rule) =>
      (options.consumers.length === 0 || options.consumers.includes(rule.consumer)) &&
      (options.types.length === 0 || options.types.some((type) => ruleTakesType(rule.pattern, type))),
  );
}

/** How far through its window a replay is: the share of the window's time its events have reached. */
function progressOf(replay: DescribeReplayCommandOutput, from: Date, to: Date): Progress {
  const last = replay.EventLastReplayedTime;
  const fraction =
    replay.State === 'COMPLETED'
      ? 1
      : last
        ? (last.getTime() - from.getTime()) / (to.getTime() - from.getTime())
        : 0;
  return { fraction, detail: last ? `events up to ${last.toISOString()}` : 'no event replayed yet' };
}

function describeFailure(error: unknown, options: Options): Error {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  if (!options.aws && (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message))) {
    return new Error(
      `cannot reach the hub at ${options.api} (${message}); is it running (npm start)? Use --aws for the deployed bus.`,
    );
  }
  return error instanceof Error ? error : new Error(message);
}

async function replay(client: EventBridgeClient, options: Options, io: CliIo): Promise<number> {
  const bus = await client.send(new DescribeEventBusCommand(options.bus ? { Name: options.bus } : {}));
  if (!bus.Arn || !bus.Name) throw new Error('DescribeEventBus returned no bus ARN');
  const archives = (await client.send(new ListArchivesCommand({ EventSourceArn: bus.Arn }))).Archives ?? [];
  const enabled = archives.filter((archive) => archive.State === 'ENABLED');
  if (enabled.length !== 1 || !enabled[0]?.ArchiveName) {
    throw new Error(
      enabled.length === 0
        ? `the bus ${bus.Name} has no enabled archive to replay from`
        : `the bus ${bus.Name} has ${enabled.length} archives (${enabled.map((archive) => archive.ArchiveName).join(', ')}); replaying from more than one is not supported`,
    );
  }
  const archive = await client.send(new DescribeArchiveCommand({ ArchiveName: enabled[0].ArchiveName }));
  const rules = chooseRules(await listRules(client, bus.Name), options);
  if (rules.length === 0) {
    io.err(
      `No consumer rule of the bus ${bus.Name} takes ${options.types.join(' or ')} events: nothing to replay.`,
    );
    return 1;
  }

  const now = Date.now();
  const retentionDays = archive.RetentionDays ?? 0;
  const lines = [
    `Replaying the events of ${options.from.toISOString()} to ${options.to.toISOString()} (event time)`,
    `  from archive ${archive.ArchiveName} of bus ${bus.Name}`,
    `  to ${rules.map((rule) => rule.consumer).join(', ')}`,
  ];
  if (options.types.length > 0) {
    lines.push(
      `  --type ${options.types.join(', ')}: EventBridge cannot filter a replay by type; every event in the window is replayed to these consumers, whose rules take ${options.types.join(' or ')} events.`,
    );
  }
  if (retentionDays > 0 && options.from.getTime() < now - retentionDays * 86_400_000) {
    lines.push(`  note: the archive keeps ${retentionDays} days; older events are no longer in it.`);
  }
  if (options.aws && options.to.getTime() > now - ARCHIVE_DELAY_MS) {
    lines.push(
      '  note: events of the last 10 minutes may not be archived yet (AWS advises waiting 10 minutes).',
    );
  }
  io.out(lines.join('\n'));

  const started = await client.send(
    new StartReplayCommand({
      ReplayName: options.name,
      Description:
        `omnihub replay${options.types.length > 0 ? ` for ${options.types.join(', ')}` : ''}`.slice(0, 512),
      EventSourceArn: archive.ArchiveArn,
      EventStartTime: options.from,
      EventEndTime: options.to,
      Destination: { Arn: bus.Arn, FilterArns: rules.map((rule) => rule.arn) },
    }),
  );
  io.out(`Replay ${options.name} started (${started.State ?? 'STARTING'}).`);
  if (options.detach) {
    io.out(
      `Not waiting. Follow it with: aws events describe-replay --replay-name ${options.name}${options.aws ? '' : ` --endpoint-url ${options.api}`}`,
    );
    return 0;
  }

  // Ctrl-C cancels the replay rather than leaving it running unseen.
  let interrupted = false;
  const onInterrupt = () => {
    interrupted = true;
  };
  process.once('SIGINT', onInterrupt);
  const pollMs = options.aws ? AWS_POLL_MS : LOCAL_POLL_MS;
  const startedAt = Date.now();
  const progress = new ProgressBar(io);
  try {
    for (;;) {
      if (interrupted) {
        interrupted = false;
        progress.done(`Cancelling replay ${options.name}...`);
        await client.send(new CancelReplayCommand({ ReplayName: options.name })).catch(() => undefined);
      }
      const current = await client.send(new DescribeReplayCommand({ ReplayName: options.name }));
      progress.update(current.State ?? '?', progressOf(current, options.from, options.to));
      if (current.State && TERMINAL_STATES.has(current.State)) {
        const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
        const last = current.EventLastReplayedTime?.toISOString();
        io.out(
          `Replay ${options.name} ${current.State} after ${seconds} s${last ? `; last event replayed: ${last}` : '; no event in the window'}${current.StateReason ? ` (${current.StateReason})` : ''}.`,
        );
        return current.State === 'COMPLETED' ? 0 : 1;
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

export const replayCommand: CliCommand = {
  name: 'replay',
  summary: 'replay archived events to the consumers (EventBridge replay, locally or in AWS)',
  usage: USAGE,
  async run(args, io) {
    const options = parseOptions(args, io, new Date());
    const client = options.aws
      ? new EventBridgeClient({})
      : new EventBridgeClient({
          endpoint: options.api,
          region: io.env.AWS_REGION ?? 'us-east-1',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          maxAttempts: 1,
        });
    try {
      return await replay(
        client,
        { ...options, bus: options.bus ?? (options.aws ? `omnihub-${options.stage}` : undefined) },
        io,
      );
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw describeFailure(error, options);
    } finally {
      client.destroy();
    }
  },
};
