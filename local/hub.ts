/**
 * The local hub: the production topology (API Gateway -> Lambda -> EventBridge -> rules -> SQS ->
 * Lambda, DynamoDB) run in one Node process, wired only from `lib/topology.ts`. The HTTP API, the bus
 * and the queues run on its main thread; the handlers in the Lambda runtime thread
 * (`lambda/local-function.ts`) and dynalite in a thread of its own (`dynamodb/dynalite-thread.ts`).
 *
 * Handlers run unchanged: they build their AWS clients (the JSON-protocol clients of `core/aws/json-client.ts`
 * and `core/aws/`, which resolve endpoints as @aws-sdk v3 does), which reach the hub through the
 * standard service-specific endpoint variables (`AWS_ENDPOINT_URL_EVENTBRIDGE`, `AWS_ENDPOINT_URL_SQS`,
 * `AWS_ENDPOINT_URL_DYNAMODB`), set by the hub unless the user set them.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULTS,
  ENV,
  type FunctionDefinition,
  topology as repositoryTopology,
  retentionOf,
  type Topology,
  visibilityTimeoutOf,
} from '../lib/topology.ts';
import type { ChangeNotifier } from './change-notifier.ts';
import { type DataDirectory, IN_MEMORY, openDataDirectory } from './data-directory.ts';
import { startLocalDynamoDbThread } from './dynamodb/dynalite-thread.ts';
import { ensureTables, type LocalDynamoDb } from './dynamodb/local-dynamodb.ts';
import { EventBridgeApi } from './eventbridge/api.ts';
import { EventArchive } from './eventbridge/archive.ts';
import { type BusRule, LocalEventBus } from './eventbridge/bus.ts';
import { compileEventPattern } from './eventbridge/pattern.ts';
import { HubHttpServer, type RouteBinding } from './http-server.ts';
import { HubEnvironment, isEnvSet } from './hub-environment.ts';
import {
  LocalFunction,
  type LocalFunctionEnvironment,
  stopLocalFunctionRuntime,
} from './lambda/local-function.ts';
import { describeError, HubLogger, type LogSink } from './log.ts';
import { SqsApi } from './sqs/api.ts';
import { type EventSourceMappingState, SqsEventSourceMapping } from './sqs/event-source-mapping.ts';
import { type QueueCounts, SqsQueue } from './sqs/queue.ts';

/** The repository root: handler entries and the default data directory are relative to it. */
export const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const DEFAULT_ACCOUNT_ID = '000000000000';
const DEFAULT_REGION = 'us-east-1';
/** SQS's default visibility timeout, for the dead-letter queues nobody consumes. */
const DEAD_LETTER_VISIBILITY_TIMEOUT_SECONDS = 30;
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

export interface LocalHubOptions {
  /** @default the repository's `lib/topology.ts` */
  readonly topology?: Topology;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** 0 picks a free port. @default 3000 */
  readonly port?: number;
  /** `:memory:` keeps nothing. @default env `OMNIHUB_DATA_DIR`, else `<repo>/.omnihub` */
  readonly dataDir?: string;
  /** Env vars set for the hub and its handlers (they win over the process's own), restored on stop. */
  readonly env?: Readonly<Record<string, string>>;
  /** Start the consumers' pollers paused (messages accumulate in the queues). @default 'running' */
  readonly consumers?: 'running' | 'paused';
  /** The 12-digit account id in ARNs and events. @default env `OMNIHUB_LOCAL_ACCOUNT_ID`, else 000000000000 */
  readonly accountId?: string;
  /** Where the hub's log lines go. @default stderr */
  readonly log?: LogSink;
}

export interface ConnectorStatus {
  readonly id: string;
  readonly name: string;
  /** Every secret the connector declares is set in the environment. */
  readonly configured: boolean;
  /** Names (never values) of the secrets that are not set. */
  readonly missingSecrets: readonly string[];
}

export interface QueueStatus extends QueueCounts {
  readonly name: string;
  readonly url: string;
}

export interface ConsumerStatus {
  readonly id: string;
  readonly state: EventSourceMappingState;
  readonly invoking: boolean;
  readonly queue: QueueStatus;
  readonly deadLetterQueue: QueueStatus;
}

/** What `GET /health` answers. */
export interface HubHealth {
  readonly status: 'ok' | 'stopping';
  readonly version: string;
  readonly url: string;
  readonly region: string;
  readonly accountId: string;
  readonly bus: { readonly name: string; readonly arn: string };
  /** The endpoints in effect for the handlers' SDK clients (the hub's, unless the user set others). */
  readonly endpoints: { readonly eventBridge: string; readonly sqs: string; readonly dynamoDb: string };
  readonly dataDir: string;
  /** Webhook routes (target: the connector) and API routes (target: the API function). */
  readonly routes: readonly {
    readonly kind: 'webhook' | 'api';
    readonly method: string;
    readonly path: string;
    readonly target: string;
  }[];
  readonly connectors: readonly ConnectorStatus[];
  readonly consumers: readonly ConsumerStatus[];
  readonly archivedEvents: number;
}

/** A running local hub. */
export interface LocalHub {
  /** e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  /** Absolute data directory, or `:memory:`. */
  readonly dataDir: string;
  readonly region: string;
  readonly accountId: string;
  readonly busName: string;
  /** dynalite's endpoint. */
  readonly dynamoDbUrl: string;
  readonly topology: Topology;
  health(): HubHealth;
  /** The SQS URL of one of the hub's queues (`<consumer id>` or `<consumer id>-dlq`). */
  queueUrl(queueName: string): string;
  pauseConsumers(): void;
  resumeConsumers(): void;
  /**
   * Resolves once every consumer queue is empty (nothing visible, delayed or in flight) and no
   * invocation is running; rejects after `timeoutMs`, or at once when paused consumers have messages.
   */
  drain(options?: { readonly timeoutMs?: number }): Promise<void>;
  /**
   * Stops cleanly: new webhooks get 503, in-flight webhooks and consumer batches finish, pollers
   * stop, the listener closes, journals and the archive are flushed, dynalite and the Lambda runtime
   * thread end, env restored. Nothing the hub opened is left to keep the process alive.
   */
  stop(): Promise<void>;
}

interface ConsumerRuntime {
  readonly id: string;
  readonly queue: SqsQueue;
  readonly deadLetterQueue: SqsQueue;
  readonly mapping: SqsEventSourceMapping;
}

let runningHub: LocalHub | undefined;

function readVersion(): string {
  const manifest = JSON.parse(readFileSync(resolve(REPOSITORY_ROOT, 'package.json'), 'utf8')) as {
    version?: string;
  };
  return manifest.version ?? '0.0.0';
}

function waitForAny(notifiers: readonly ChangeNotifier[], timeoutMs: number): Promise<void> {
  const settled = new AbortController();
  return Promise.race(notifiers.map((notifier) => notifier.wait(timeoutMs, settled.signal))).finally(() =>
    settled.abort(),
  );
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts the local hub. One hub per process: handlers read their configuration from `process.env`,
 * which the hub owns while it runs.
 *
 * @example
 * const hub = await startLocalHub({ port: 0, dataDir: ':memory:' });
 * await fetch(`${hub.url}/webhooks/shopify`, { method: 'POST', body });
 * await hub.drain();
 * await hub.stop();
 */
export async function startLocalHub(options: LocalHubOptions = {}): Promise<LocalHub> {
  if (runningHub) {
    throw new Error(`a local hub is already running in this process (${runningHub.url}); stop it first`);
  }
  const topology = options.topology ?? repositoryTopology;
  const log = new HubLogger(options.log);
  const environment = new HubEnvironment();
  // The runtime thread, shared by every function, ends before the environment it shares is restored:
  // left running (idle, unreferenced), it would keep its loader and handlers' clients for no one.
  const cleanups: (() => Promise<void> | void)[] = [
    () => environment.restore(),
    () => stopLocalFunctionRuntime(),
  ];
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        log.error(`while cleaning up: ${describeError(error)}`);
      }
    }
  };
  try {
    for (const [name, value] of Object.entries(options.env ?? {})) environment.set(name, value);
    environment.setDefault('AWS_REGION', DEFAULT_REGION);
    environment.setDefault('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
    if (!isEnvSet('AWS_ACCESS_KEY_ID') && !isEnvSet('AWS_PROFILE')) {
      // Dummy credentials: the hub does not check signatures, but the SDK refuses to sign without any.
      environment.set('AWS_ACCESS_KEY_ID', 'local');
      environment.set('AWS_SECRET_ACCESS_KEY', 'local');
    }
    const region = process.env.AWS_REGION ?? DEFAULT_REGION;
    const accountId = options.accountId ?? process.env.OMNIHUB_LOCAL_ACCOUNT_ID ?? DEFAULT_ACCOUNT_ID;
    if (!/^\d{12}$/.test(accountId)) throw new Error(`account id must be 12 digits, got ${accountId}`);

    const dataDirSetting =
      options.dataDir ?? process.env.OMNIHUB_DATA_DIR ?? resolve(REPOSITORY_ROOT, '.omnihub');
    const dataDir = dataDirSetting === IN_MEMORY ? IN_MEMORY : resolve(dataDirSetting);
    const storage: DataDirectory = openDataDirectory(dataDir);
    cleanups.push(() => storage.release());
    // Sync destinations without credentials write what they would have sent here (core/sync/).
    let outboxDir = storage.root === undefined ? undefined : join(storage.root, 'outbox');
    if (outboxDir === undefined) {
      const temporary = mkdtempSync(join(tmpdir(), 'omnihub-outbox-'));
      cleanups.push(() => rmSync(temporary, { recursive: true, force: true }));
      outboxDir = temporary;
    }
    environment.setDefault('OMNIHUB_OUTBOX_DIR', outboxDir);

    const functionEnvironment: LocalFunctionEnvironment = {
      repositoryRoot: REPOSITORY_ROOT,
      region,
      accountId,
    };
    const sqsArn = (name: string) => `arn:aws:sqs:${region}:${accountId}:${name}`;

    // Queues, pollers and rules, one set per consumer, all from the topology.
    const queues = new Map<string, SqsQueue>();
    const functions: LocalFunction[] = [];
    const consumers: ConsumerRuntime[] = [];
    const rules: BusRule[] = [];
    for (const consumer of topology.consumers) {
      const deadLetterName = `${consumer.id}-dlq`;
      if (!QUEUE_NAME.test(deadLetterName))
        throw new Error(`consumer id ${consumer.id} cannot name an SQS queue`);
      let matches: BusRule['matches'];
      try {
        matches = compileEventPattern(consumer.pattern);
      } catch (error) {
        throw new Error(`consumer ${consumer.id}: ${describeError(error)}`);
      }
      const queueLog = log.child(consumer.id);
      const deadLetterQueue = SqsQueue.open(
        {
          name: deadLetterName,
          arn: sqsArn(deadLetterName),
          visibilityTimeoutSeconds: DEAD_LETTER_VISIBILITY_TIMEOUT_SECONDS,
          messageRetentionSeconds: DEFAULTS.deadLetterRetentionSeconds,
        },
        { journalPath: storage.journalPath(deadLetterName), log: queueLog },
      );
      cleanups.push(() => deadLetterQueue.close());
      const queue = SqsQueue.open(
        {
          name: consumer.id,
          arn: sqsArn(consumer.id),
          visibilityTimeoutSeconds: visibilityTimeoutOf(consumer),
          messageRetentionSeconds: retentionOf(consumer),
          redrive: {
            deadLetterQueue,
            maxReceiveCount: consumer.queue?.maxReceiveCount ?? DEFAULTS.maxReceiveCount,
          },
        },
        { journalPath: storage.journalPath(consumer.id), log: queueLog },
      );
      cleanups.push(() => queue.close());
      queues.set(queue.name, queue);
      queues.set(deadLetterQueue.name, deadLetterQueue);
      const consumerFunction = new LocalFunction(
        {
          name: consumer.id,
          entry: consumer.entry,
          timeoutSeconds: consumer.timeoutSeconds ?? DEFAULTS.timeoutSeconds,
          memoryMiB: consumer.memoryMiB ?? DEFAULTS.memoryMiB,
        },
        functionEnvironment,
      );
      functions.push(consumerFunction);
      const mapping = new SqsEventSourceMapping(
        {
          queue,
          consumer: consumerFunction,
          batchSize: consumer.queue?.batchSize ?? DEFAULTS.batchSize,
          maximumBatchingWindowSeconds:
            consumer.queue?.maxBatchingWindowSeconds ?? DEFAULTS.maxBatchingWindowSeconds,
          region,
          log: queueLog,
        },
        options.consumers ?? 'running',
      );
      consumers.push({ id: consumer.id, queue, deadLetterQueue, mapping });
      rules.push({
        name: consumer.id,
        description: consumer.description,
        pattern: consumer.pattern,
        matches,
        target: queue,
      });
    }

    const archive = EventArchive.open(storage.archivePath, topology.bus.archiveRetentionDays, log);
    cleanups.push(() => archive.close());
    const bus = new LocalEventBus({
      name: topology.bus.name,
      region,
      accountId,
      rules,
      archive,
      log: log.child('bus'),
    });

    const dynamoDb: LocalDynamoDb = await startLocalDynamoDbThread(storage.dynamoDbPath, (error) =>
      log.error(`DynamoDB (dynalite) stopped: ${describeError(error)}`),
    );
    cleanups.push(() => dynamoDb.close());
    await ensureTables(dynamoDb.url, region, topology.tables, log);

    const localFunction = (name: string, definition: FunctionDefinition) =>
      new LocalFunction(
        {
          name,
          entry: definition.entry,
          timeoutSeconds: definition.timeoutSeconds ?? DEFAULTS.timeoutSeconds,
          memoryMiB: definition.memoryMiB ?? DEFAULTS.memoryMiB,
        },
        functionEnvironment,
      );
    const routes: RouteBinding[] = topology.ingest.map((route) => ({
      method: route.method,
      path: route.path,
      target: route.connector.id,
      function: localFunction(`${route.connector.id}-ingest`, route),
    }));
    for (const api of topology.api) {
      const apiFunction = localFunction(api.id, api);
      routes.push(...api.routes.map((route) => ({ ...route, target: api.id, function: apiFunction })));
    }
    functions.push(...new Set(routes.map((binding) => binding.function)));
    for (const fn of functions) {
      if (!existsSync(fn.modulePath))
        log.warn(`${fn.configuration.name}: entry ${fn.configuration.entry} does not exist`);
    }

    // Replays deliver to the queues, so they stop before the queues close (cleanups run in reverse).
    const eventBridge = new EventBridgeApi(bus, log.child('replay'));
    cleanups.push(() => eventBridge.close());
    const stopping = new AbortController();
    let url = '';
    const sqsApi = new SqsApi(queues, accountId, () => url, stopping.signal);
    let hub: RunningHub | undefined;
    const http = new HubHttpServer({
      routes,
      eventBridge,
      sqs: sqsApi,
      archive,
      accountId,
      health: () => (hub ? hub.health() : { status: 'starting' }),
      log: log.child('http'),
      outboxDir: process.env.OMNIHUB_OUTBOX_DIR ?? outboxDir,
    });
    const host = options.host ?? '127.0.0.1';
    const port = await http.listen(host, options.port ?? 3000);
    cleanups.push(() => http.close());
    url = `http://${urlHost(host)}:${port}`;

    // Point the handlers' SDK clients at the hub, unless the user pointed them elsewhere on purpose.
    const defaults: [string, string][] = [
      ['AWS_ENDPOINT_URL_EVENTBRIDGE', url],
      ['AWS_ENDPOINT_URL_SQS', url],
      ['AWS_ENDPOINT_URL_DYNAMODB', dynamoDb.url],
      [ENV.busName, topology.bus.name],
      [ENV.publicUrl, url],
      ...topology.tables.map((table): [string, string] => [table.envVar, table.id]),
    ];
    for (const [name, value] of defaults) {
      if (!environment.setDefault(name, value)) {
        log.warn(
          `${name} is set to ${process.env[name]}, not the hub's ${value}; handlers will use the former`,
        );
      }
    }

    hub = new RunningHub({
      url,
      dataDir,
      region,
      accountId,
      topology,
      bus,
      archive,
      consumers,
      http,
      sqsApi,
      dynamoDbUrl: dynamoDb.url,
      stopping,
      cleanUp,
    });
    for (const consumer of consumers) consumer.mapping.start();
    runningHub = hub;
    return hub;
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

interface RunningHubParts {
  readonly url: string;
  readonly dataDir: string;
  readonly region: string;
  readonly accountId: string;
  readonly topology: Topology;
  readonly bus: LocalEventBus;
  readonly archive: EventArchive;
  readonly consumers: readonly ConsumerRuntime[];
  readonly http: HubHttpServer;
  readonly sqsApi: SqsApi;
  readonly dynamoDbUrl: string;
  readonly stopping: AbortController;
  readonly cleanUp: () => Promise<void>;
}

class RunningHub implements LocalHub {
  readonly url: string;
  readonly dataDir: string;
  readonly region: string;
  readonly accountId: string;
  readonly busName: string;
  readonly dynamoDbUrl: string;
  readonly topology: Topology;
  private readonly version = readVersion();
  private stopped: Promise<void> | undefined;

  constructor(private readonly parts: RunningHubParts) {
    this.url = parts.url;
    this.dataDir = parts.dataDir;
    this.region = parts.region;
    this.accountId = parts.accountId;
    this.busName = parts.bus.name;
    this.dynamoDbUrl = parts.dynamoDbUrl;
    this.topology = parts.topology;
  }

  queueUrl(queueName: string): string {
    return this.parts.sqsApi.queueUrl(queueName);
  }

  private queueStatus(queue: SqsQueue): QueueStatus {
    return { name: queue.name, url: this.queueUrl(queue.name), ...queue.counts() };
  }

  health(): HubHealth {
    const connectors = new Map<string, ConnectorStatus>();
    for (const route of this.topology.ingest) {
      const missingSecrets = Object.keys(route.connector.secrets).filter((name) => !isEnvSet(name));
      connectors.set(route.connector.id, {
        id: route.connector.id,
        name: route.connector.name,
        configured: missingSecrets.length === 0,
        missingSecrets,
      });
    }
    return {
      status: this.stopped ? 'stopping' : 'ok',
      version: this.version,
      url: this.url,
      region: this.region,
      accountId: this.accountId,
      bus: { name: this.parts.bus.name, arn: this.parts.bus.arn },
      endpoints: {
        eventBridge: process.env.AWS_ENDPOINT_URL_EVENTBRIDGE ?? this.url,
        sqs: process.env.AWS_ENDPOINT_URL_SQS ?? this.url,
        dynamoDb: process.env.AWS_ENDPOINT_URL_DYNAMODB ?? this.dynamoDbUrl,
      },
      dataDir: this.dataDir,
      routes: [
        ...this.topology.ingest.map((route) => ({
          kind: 'webhook' as const,
          method: route.method,
          path: route.path,
          target: route.connector.id,
        })),
        ...this.topology.api.flatMap((api) =>
          api.routes.map((route) => ({ kind: 'api' as const, ...route, target: api.id })),
        ),
      ],
      connectors: [...connectors.values()],
      consumers: this.parts.consumers.map((consumer) => ({
        id: consumer.id,
        state: consumer.mapping.state,
        invoking: consumer.mapping.isInvoking,
        queue: this.queueStatus(consumer.queue),
        deadLetterQueue: this.queueStatus(consumer.deadLetterQueue),
      })),
      archivedEvents: this.parts.archive.size,
    };
  }

  pauseConsumers(): void {
    for (const consumer of this.parts.consumers) consumer.mapping.pause();
  }

  resumeConsumers(): void {
    for (const consumer of this.parts.consumers) consumer.mapping.resume();
  }

  private busyConsumers(): ConsumerRuntime[] {
    return this.parts.consumers.filter((consumer) => {
      const { visible, inFlight, delayed } = consumer.queue.counts();
      return visible + inFlight + delayed > 0 || consumer.mapping.isInvoking;
    });
  }

  async drain(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    const notifiers = this.parts.consumers.flatMap((consumer) => [
      consumer.queue.changes,
      consumer.mapping.activity,
    ]);
    for (;;) {
      const busy = this.busyConsumers();
      if (busy.length === 0) return;
      const describe = () =>
        busy.map((consumer) => `${consumer.id} ${JSON.stringify(consumer.queue.counts())}`).join(', ');
      if (busy.some((consumer) => consumer.mapping.state !== 'running')) {
        throw new Error(`cannot drain: consumers are not running and have messages: ${describe()}`);
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`drain timed out after ${timeoutMs} ms: ${describe()}`);
      // Wake on any queue or poller activity; re-check at least every 250 ms for visibility expiries.
      await waitForAny(notifiers, Math.min(remaining, 250));
    }
  }

  stop(): Promise<void> {
    this.stopped ??= this.shutDown();
    return this.stopped;
  }

  private async shutDown(): Promise<void> {
    const { http, consumers, stopping, cleanUp } = this.parts;
    http.stopAcceptingRouteRequests();
    await http.routeRequestsFinished();
    stopping.abort();
    // The HTTP listener stays up meanwhile: running consumers may still call PutEvents or SQS.
    await Promise.all(consumers.map((consumer) => consumer.mapping.stop()));
    await cleanUp();
    if (runningHub === this) runningHub = undefined;
  }
}
