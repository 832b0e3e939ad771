/**
 * The hub as one CDK construct, built from the one topology (`lib/topology.ts`): every table, route,
 * bus rule, queue and function comes from there, never from a list kept here. Each part is built in
 * `lib/hub/` (key, tables, bus, HTTP API, ingest, consumers, API functions, grants); this file wires
 * them together in order.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_RAW_RETENTION_DAYS } from '../core/ingest/retention.ts';
import { profileTable, type TableDefinition } from '../core/tables.ts';
import { Analytics } from './analytics.ts';
import { createApiFunction } from './hub/api-functions.ts';
import { createBus } from './hub/bus.ts';
import { createConsumer } from './hub/consumers.ts';
import type { HubContext } from './hub/context.ts';
import type { HubWiring } from './hub/functions.ts';
import { grantFunctionAccess } from './hub/grants.ts';
import { createHttpApi } from './hub/http-api.ts';
import { createIngest } from './hub/ingest.ts';
import { createHubKey } from './hub/key.ts';
import type { DeliveryRetry, IntegrationHubProps, WebhookThrottle } from './hub/props.ts';
import { createRawArchive, type HubRawArchive } from './hub/raw-archive.ts';
import { functionEnvironmentOf } from './hub/settings.ts';
import { createTables } from './hub/tables.ts';
import { assertUniqueIds, TopologyError } from './hub/topology-checks.ts';
import { HubMonitoring } from './monitoring.ts';
import {
  createTopology,
  type FunctionAccess,
  rawStreamPrefix,
  selectTopology,
  type Topology,
} from './topology.ts';

export type {
  CustomDomain,
  DeliveryRetry,
  HubAnalyticsOptions,
  IntegrationHubProps,
  WebhookThrottle,
} from './hub/props.ts';
export { HubSettingsError } from './hub/settings.ts';
export { TopologyError } from './hub/topology-checks.ts';

/**
 * The Omnihub integration hub: webhook ingest over an HTTP API, a custom EventBridge bus with an
 * archive, one SQS queue (with DLQ) and Lambda consumer per canonical-event rule, DynamoDB tables,
 * per-connector secrets, all encrypted with one customer-managed KMS key. Everything is built from the
 * typed topology; functions get exactly the access their topology entry declares.
 *
 * Construct ids (`Tables/<table id>`, `Ingest/<connector id>/...`, `Consumers/<consumer id>/...`) are
 * derived from topology ids and are part of the contract: renaming them replaces resources.
 *
 * @example
 * import { App, Stack } from 'aws-cdk-lib';
 * import { IntegrationHub } from 'omnihub';
 *
 * const app = new App();
 * const stack = new Stack(app, 'Integrations', { env: { account: '111122223333', region: 'eu-west-1' } });
 * declare const myReportFunction: lambda.Function;
 *
 * const hub = new IntegrationHub(stack, 'Hub', { stage: 'prod' });
 * // A function of your own, wired the same way the topology's functions are:
 * hub.grantAccess(myReportFunction, { tables: { profiles: 'read' } });
 */
export class IntegrationHub extends Construct {
  /** The one customer-managed key (rotation on) that encrypts everything at rest. */
  public readonly key: kms.Key;
  /** The custom bus canonical events travel on. */
  public readonly bus: events.EventBus;
  /**
   * Receives events the bus cannot process because of an encryption error (key disabled or
   * missing). Deliberately SQS-managed encryption: a queue that depended on the failing key could
   * not hold them either.
   */
  public readonly busDeadLetterQueue: sqs.Queue;
  /** Archive of every `omnihub.*` event, for replay. */
  public readonly archive: events.Archive;
  /**
   * Every verified webhook as received, for re-translation: one Firehose stream per connector into
   * one bucket, kept `rawRetentionDays`.
   */
  public readonly rawArchive: HubRawArchive;
  /** Tables by topology table id. */
  public readonly tables: Readonly<Record<string, dynamodb.Table>>;
  /** The HTTP API: public webhook routes and the IAM-authorized `/profiles` routes. */
  public readonly api: apigwv2.HttpApi;
  /** Base URL vendors post to (no trailing slash). */
  public readonly publicUrl: string;
  /** Functions by connector id (ingest), consumer id (consumers) and API function id. */
  public readonly functions: Readonly<Record<string, NodejsFunction>>;
  /** Connector secrets by connector id. */
  public readonly secrets: Readonly<Record<string, secretsmanager.Secret>>;
  /** Consumer queues by consumer id. */
  public readonly queues: Readonly<Record<string, sqs.Queue>>;
  /** Dead-letter queues of the consumer queues (poison messages), by consumer id. */
  public readonly deadLetterQueues: Readonly<Record<string, sqs.Queue>>;
  /** Dead-letter queues of the bus rule targets (undeliverable events), by consumer id. */
  public readonly targetDeadLetterQueues: Readonly<Record<string, sqs.Queue>>;
  /** Bus rules by consumer id; L1 so the event pattern is exactly the topology's. */
  public readonly rules: Readonly<Record<string, events.CfnRule>>;

  /** Alarms (to `alarmTopic`) and the dashboard. */
  public readonly monitoring: HubMonitoring;
  /** Events and profiles for SQL (Athena); undefined when `analytics: false`. */
  public readonly analytics?: Analytics;

  /** The topology this hub was built from. */
  public readonly topology: Topology;
  private readonly tableDefinitions: ReadonlyMap<string, TableDefinition>;

  constructor(scope: Construct, id: string, props: IntegrationHubProps = {}) {
    super(scope, id);

    if (props.topology && props.sync) {
      throw new TopologyError(
        'Give either topology or sync: build the topology with createTopology({ sync }) to combine them.',
      );
    }
    const topology = props.topology ?? createTopology(props.sync === undefined ? {} : { sync: props.sync });
    try {
      this.topology = selectTopology(topology, {
        ...(props.connectors ? { connectors: props.connectors } : {}),
        ...(props.destinations ? { destinations: props.destinations } : {}),
      });
    } catch (error) {
      throw new TopologyError(error instanceof Error ? error.message : String(error));
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const throttle: Required<WebhookThrottle> = {
      rateLimit: props.webhookThrottle?.rateLimit ?? 100,
      burstLimit: props.webhookThrottle?.burstLimit ?? 200,
    };
    const deliveryRetry: Required<DeliveryRetry> = {
      maxEventAge: props.deliveryRetry?.maxEventAge ?? Duration.hours(24),
      retryAttempts: props.deliveryRetry?.retryAttempts ?? 185,
    };
    const busName = props.stage ? `${this.topology.bus.name}-${props.stage}` : this.topology.bus.name;
    assertUniqueIds(this.topology);
    this.tableDefinitions = new Map(this.topology.tables.map((table) => [table.id, table]));

    this.key = createHubKey(this, removalPolicy);
    const context: HubContext = {
      key: this.key,
      removalPolicy,
      logRetention,
      sourceMaps: props.sourceMaps ?? false,
      environment: functionEnvironmentOf(props, this.topology),
    };
    this.tables = createTables(this, this.topology.tables, this.key, removalPolicy);
    const bus = createBus(this, {
      busName,
      key: this.key,
      removalPolicy,
      archiveRetentionDays: props.archiveRetentionDays ?? this.topology.bus.archiveRetentionDays,
    });
    this.bus = bus.bus;
    this.busDeadLetterQueue = bus.deadLetterQueue;
    this.archive = bus.archive;
    this.rawArchive = createRawArchive(this, context, {
      streamPrefix: rawStreamPrefix(busName),
      connectors: this.topology.ingest.map((route) => route.connector.id),
      retentionDays: props.rawRetentionDays ?? DEFAULT_RAW_RETENTION_DAYS,
    });
    this.api = createHttpApi(this, context, {
      busName,
      throttle,
      ...(props.customDomain ? { customDomain: props.customDomain } : {}),
    });
    this.publicUrl =
      props.publicUrl?.replace(/\/+$/, '') ??
      (props.customDomain ? `https://${props.customDomain.domainName}` : this.api.apiEndpoint);
    const wiring: HubWiring & { readonly publicUrl: string } = {
      ...context,
      api: this.api,
      bus: this.bus,
      publicUrl: this.publicUrl,
      grantAccess: (fn, access) => this.grantAccess(fn, access),
    };

    const functions: Record<string, NodejsFunction> = {};
    const secrets: Record<string, secretsmanager.Secret> = {};
    const ingestScope = new Construct(this, 'Ingest');
    for (const route of this.topology.ingest) {
      const built = createIngest(new Construct(ingestScope, route.connector.id), wiring, route);
      functions[route.connector.id] = built.fn;
      secrets[route.connector.id] = built.secret;
    }

    const queues: Record<string, sqs.Queue> = {};
    const deadLetterQueues: Record<string, sqs.Queue> = {};
    const targetDeadLetterQueues: Record<string, sqs.Queue> = {};
    const rules: Record<string, events.CfnRule> = {};
    // Sync consumers read the secret of their connector, created above when its webhooks are routed.
    const connectorSecrets = new Map(Object.entries(secrets));
    const consumerScope = new Construct(this, 'Consumers');
    for (const consumer of this.topology.consumers) {
      const built = createConsumer(
        new Construct(consumerScope, consumer.id),
        wiring,
        consumer,
        deliveryRetry,
        connectorSecrets,
      );
      functions[consumer.id] = built.fn;
      queues[consumer.id] = built.queue;
      deadLetterQueues[consumer.id] = built.deadLetterQueue;
      targetDeadLetterQueues[consumer.id] = built.targetDeadLetterQueue;
      rules[consumer.id] = built.rule;
    }

    const apiScope = new Construct(this, 'ApiFunctions');
    for (const api of this.topology.api) {
      functions[api.id] = createApiFunction(new Construct(apiScope, api.id), wiring, api);
    }

    this.functions = functions;
    this.secrets = secrets;
    this.queues = queues;
    this.deadLetterQueues = deadLetterQueues;
    this.targetDeadLetterQueues = targetDeadLetterQueues;
    this.rules = rules;

    this.monitoring = new HubMonitoring(this, 'Monitoring', {
      hub: this,
      ...(props.alarmTopic ? { alarmTopic: props.alarmTopic } : {}),
    });
    const profiles = this.tables[profileTable.id];
    this.analytics =
      props.analytics === false || !profiles
        ? undefined
        : new Analytics(this, 'Analytics', {
            ...props.analytics,
            bus: this.bus,
            profileTable: profiles,
            key: this.key,
            stage: props.stage ?? 'dev',
            removalPolicy,
            logRetention,
          });
  }

  /**
   * Grants a function exactly the access declared and sets the environment variables that lead it to
   * what it was granted (each table's `envVar`, and `OMNIHUB_BUS_NAME` when it publishes), so access
   * and wiring can never disagree.
   *
   * @example
   * hub.grantAccess(fn, { tables: { profiles: 'read' }, publishes: true });
   */
  public grantAccess(fn: lambda.Function, access: FunctionAccess): void {
    grantFunctionAccess(
      this,
      {
        tables: this.tables,
        tableDefinitions: this.tableDefinitions,
        bus: this.bus,
        rawArchive: this.rawArchive,
      },
      fn,
      access,
    );
  }
}
