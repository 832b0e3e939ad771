/**
 * The local hub: the production topology (API Gateway -> Lambda -> EventBridge -> rules -> SQS ->
 * Lambda, DynamoDB) run in one Node process, wired only from `lib/topology.ts`. The HTTP API, the bus
 * and the queues run on its main thread; the handlers in the Lambda runtime thread
 * (`lambda/local-function.ts`) and dynalite in a thread of its own (`dynamodb/dynalite-thread.ts`).
 *
 * Handlers run unchanged: they build their AWS clients (the JSON-protocol clients of `core/aws/json-client.ts`
 * and `core/aws/`, which resolve endpoints as @aws-sdk v3 does), which reach the hub through the
 * standard service-specific endpoint variables (`AWS_ENDPOINT_URL_EVENTBRIDGE`, `AWS_ENDPOINT_URL_SQS`,
 * `AWS_ENDPOINT_URL_DYNAMODB`), set by the hub unless the user set them (`hub-environment.ts`).
 *
 * Wiring, piece by piece: the consumers' queues, pollers and rules (`hub-consumers.ts`), the functions
 * and HTTP routes (`hub-functions.ts`), the AWS APIs (`aws-apis.ts`, one entry per service below); what
 * the caller gets back (`running-hub.ts`).
 *
 * Two listeners (`http-server.ts`): the loopback one (`port`, 127.0.0.1 only) serves everything and
 * is the hub's `url`; the webhook one (`host`:`webhookPort`) serves only the webhook routes and
 * `/health`, and is the one to expose or tunnel.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIREHOSE } from '../core/aws/firehose.ts';
import { type AwsCredentials, AwsJsonClient, DYNAMODB, EVENTBRIDGE } from '../core/aws/json-client.ts';
import { SQS } from '../core/aws/sqs.ts';
import { DynamoDbQuarantine } from '../core/ingest/quarantine.ts';
import { rawRetentionDays } from '../core/ingest/retention.ts';
import { quarantineTable } from '../core/tables.ts';
import { rawStreamPrefix, topology as repositoryTopology, type Topology } from '../lib/topology.ts';
import { LocalAwsApis, type LocalAwsJsonApi } from './aws-apis.ts';
import { type DataDirectory, IN_MEMORY, openDataDirectory } from './data-directory.ts';
import { startLocalDynamoDbThread } from './dynamodb/dynalite-thread.ts';
import { ensureTables, type LocalDynamoDb } from './dynamodb/local-dynamodb.ts';
import { EventBridgeApi } from './eventbridge/api.ts';
import { EventArchive } from './eventbridge/archive.ts';
import { LocalEventBus } from './eventbridge/bus.ts';
import { FirehoseApi } from './firehose/api.ts';
import { LocalRawStore } from './firehose/raw-store.ts';
import { rawRead } from './firehose/route.ts';
import { HubHttpServer, type LocalRead } from './http-server.ts';
import { wireConsumers } from './hub-consumers.ts';
import { HubEnvironment, pointHandlersAtHub, prepareHandlerEnvironment } from './hub-environment.ts';
import { routeBindings } from './hub-functions.ts';
import { type LocalFunctionEnvironment, stopLocalFunctionRuntime } from './lambda/local-function.ts';
import { describeError, HubLogger, type LogSink } from './log.ts';
import { quarantineRead } from './quarantine/route.ts';
import { type LocalHub, RunningHub } from './running-hub.ts';
import { SqsApi } from './sqs/api.ts';

export type { ConnectorStatus, ConsumerStatus, HubHealth, LocalHub, QueueStatus } from './running-hub.ts';

/** The repository root: handler entries and the default data directory are relative to it. */
export const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const DEFAULT_ACCOUNT_ID = '000000000000';

export interface LocalHubOptions {
  /** @default the repository's `lib/topology.ts` */
  readonly topology?: Topology;
  /** Port of the loopback listener (127.0.0.1), which serves everything; 0 picks a free port. @default 3000 */
  readonly port?: number;
  /** Interface of the webhook listener, the one that may be exposed. @default '127.0.0.1' */
  readonly host?: string;
  /** Port of the webhook listener (webhook routes and `/health` only). @default 0, a free port */
  readonly webhookPort?: number;
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

let runningHub: LocalHub | undefined;

/** A JSON-protocol client of the hub's own dynalite, for what the hub reads itself (the quarantine). */
function localDynamoDbClient(url: string, region: string, credentials: AwsCredentials): AwsJsonClient {
  return new AwsJsonClient(DYNAMODB, {
    env: { AWS_ENDPOINT_URL_DYNAMODB: url, AWS_REGION: region },
    credentials: async () => credentials,
  });
}

function readVersion(): string {
  const manifest = JSON.parse(readFileSync(resolve(REPOSITORY_ROOT, 'package.json'), 'utf8')) as {
    version?: string;
  };
  return manifest.version ?? '0.0.0';
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
    const { region, credentials } = prepareHandlerEnvironment(environment, options.env ?? {});
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
    const { queues, consumers, rules, functions } = wireConsumers({
      topology,
      storage,
      functionEnvironment,
      state: options.consumers ?? 'running',
      log,
      onOpened: (close) => cleanups.push(close),
    });

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

    const dynamoDb: LocalDynamoDb = await startLocalDynamoDbThread(
      storage.dynamoDbPath,
      { credentials, region },
      (error) => log.error(`DynamoDB (dynalite) stopped: ${describeError(error)}`),
    );
    cleanups.push(() => dynamoDb.close());
    await ensureTables(dynamoDb.url, region, topology.tables, log, credentials);

    // The raw archive's Firehose streams, one per routed connector, records on disk before answering.
    const rawStore = new LocalRawStore({
      root: storage.rawArchivePath,
      retentionDays: rawRetentionDays(),
      log: log.child('raw'),
    });
    cleanups.push(() => rawStore.close());
    const firehose = new FirehoseApi({
      streams: topology.ingest.map((route) => ({
        name: `${rawStreamPrefix(topology.bus.name)}${route.connector.id}`,
        connector: route.connector.id,
      })),
      store: rawStore,
      region,
      accountId,
    });
    const localReads: Record<string, LocalRead> = { '/local/raw': rawRead(rawStore) };
    if (topology.tables.some((table) => table.id === quarantineTable.id)) {
      localReads['/local/quarantine'] = quarantineRead(
        new DynamoDbQuarantine({
          tableName: quarantineTable.id,
          retentionDays: rawRetentionDays(),
          client: localDynamoDbClient(dynamoDb.url, region, credentials),
        }),
      );
    }

    const routes = routeBindings(topology, functionEnvironment);
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
    // The AWS JSON-protocol services the hub emulates: adding one is adding its entry.
    const awsApis: LocalAwsJsonApi[] = [
      { service: EVENTBRIDGE, handle: (operation, input) => eventBridge.handle(operation, input) },
      {
        service: SQS,
        errorNamespace: 'com.amazonaws.sqs',
        queryCompatible: true,
        handle: (operation, input) => sqsApi.handle(operation, input),
      },
      { service: FIREHOSE, handle: (operation, input) => firehose.handle(operation, input) },
    ];
    let hub: RunningHub | undefined;
    const http = new HubHttpServer({
      routes,
      awsApis: new LocalAwsApis(awsApis, credentials, log.child('aws')),
      archive,
      accountId,
      health: () => (hub ? hub.health() : { status: 'starting' }),
      log: log.child('http'),
      outboxDir: process.env.OMNIHUB_OUTBOX_DIR ?? outboxDir,
      localReads,
    });
    const host = options.host ?? '127.0.0.1';
    const ports = await http.listen({
      port: options.port ?? 3000,
      webhookHost: host,
      webhookPort: options.webhookPort ?? 0,
    });
    cleanups.push(() => http.close());
    url = `http://127.0.0.1:${ports.port}`;
    const webhookUrl = `http://${urlHost(host)}:${ports.webhookPort}`;
    pointHandlersAtHub(environment, { url, dynamoDbUrl: dynamoDb.url, topology }, log);

    hub = new RunningHub({
      version: readVersion(),
      url,
      webhookUrl,
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
      onStopped: () => {
        if (runningHub === hub) runningHub = undefined;
      },
    });
    for (const consumer of consumers) consumer.mapping.start();
    runningHub = hub;
    return hub;
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
