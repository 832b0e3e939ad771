/**
 * A started local hub as its embedder sees it ({@link LocalHub}): what `GET /health` reports, pausing
 * and resuming the consumers, waiting for them to drain, and stopping in the order that loses nothing.
 */
import type { Topology } from '../lib/topology.ts';
import type { ChangeNotifier } from './change-notifier.ts';
import type { EventArchive } from './eventbridge/archive.ts';
import type { LocalEventBus } from './eventbridge/bus.ts';
import type { HubHttpServer } from './http-server.ts';
import type { ConsumerRuntime } from './hub-consumers.ts';
import { isEnvSet } from './hub-environment.ts';
import { type HubRoute, hubRoutes } from './hub-functions.ts';
import type { SqsApi } from './sqs/api.ts';
import type { EventSourceMappingState } from './sqs/event-source-mapping.ts';
import type { QueueCounts, SqsQueue } from './sqs/queue.ts';

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
  /** The loopback listener: everything (AWS APIs, `/profiles`, `/local/*`, webhooks). */
  readonly url: string;
  /** The webhook listener: webhook routes and `/health` only; the one to expose or tunnel. */
  readonly webhookUrl: string;
  readonly region: string;
  readonly accountId: string;
  readonly bus: { readonly name: string; readonly arn: string };
  /** The endpoints in effect for the handlers' SDK clients (the hub's, unless the user set others). */
  readonly endpoints: { readonly eventBridge: string; readonly sqs: string; readonly dynamoDb: string };
  readonly dataDir: string;
  /** Webhook routes (target: the connector) and API routes (target: the API function). */
  readonly routes: readonly HubRoute[];
  readonly connectors: readonly ConnectorStatus[];
  readonly consumers: readonly ConsumerStatus[];
  readonly archivedEvents: number;
}

/** A running local hub. */
export interface LocalHub {
  /** The loopback listener, which serves everything, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  /**
   * The webhook listener, which serves only `POST /webhooks/<connector>` and `GET /health`: the one to
   * expose or tunnel, e.g. `http://127.0.0.1:3001`.
   */
  readonly webhookUrl: string;
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

/** What `startLocalHub` built, handed over to the running hub. */
export interface RunningHubParts {
  readonly version: string;
  readonly url: string;
  readonly webhookUrl: string;
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
  /** Aborted once no route request is left: the hub's SQS API stops its long polls. */
  readonly stopping: AbortController;
  /** Closes everything the hub opened, in the reverse order of opening. */
  readonly cleanUp: () => Promise<void>;
  /** Called once the hub has stopped. */
  readonly onStopped: () => void;
}

function waitForAny(notifiers: readonly ChangeNotifier[], timeoutMs: number): Promise<void> {
  const settled = new AbortController();
  return Promise.race(notifiers.map((notifier) => notifier.wait(timeoutMs, settled.signal))).finally(() =>
    settled.abort(),
  );
}

export class RunningHub implements LocalHub {
  readonly url: string;
  readonly webhookUrl: string;
  readonly dataDir: string;
  readonly region: string;
  readonly accountId: string;
  readonly busName: string;
  readonly dynamoDbUrl: string;
  readonly topology: Topology;
  private stopped: Promise<void> | undefined;

  constructor(private readonly parts: RunningHubParts) {
    this.url = parts.url;
    this.webhookUrl = parts.webhookUrl;
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
      version: this.parts.version,
      url: this.url,
      webhookUrl: this.webhookUrl,
      region: this.region,
      accountId: this.accountId,
      bus: { name: this.parts.bus.name, arn: this.parts.bus.arn },
      endpoints: {
        eventBridge: process.env.AWS_ENDPOINT_URL_EVENTBRIDGE ?? this.url,
        sqs: process.env.AWS_ENDPOINT_URL_SQS ?? this.url,
        dynamoDb: process.env.AWS_ENDPOINT_URL_DYNAMODB ?? this.dynamoDbUrl,
      },
      dataDir: this.dataDir,
      routes: hubRoutes(this.topology),
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
    const { http, consumers, stopping, cleanUp, onStopped } = this.parts;
    http.stopAcceptingRouteRequests();
    await http.routeRequestsFinished();
    stopping.abort();
    // The HTTP listener stays up meanwhile: running consumers may still call PutEvents or SQS.
    await Promise.all(consumers.map((consumer) => consumer.mapping.stop()));
    await cleanUp();
    onStopped();
  }
}
