/**
 * The hub as one CDK construct, built from the one topology (`lib/topology.ts`): every table, route,
 * bus rule, queue and function comes from there, never from a list kept here.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_SOURCE_PREFIX } from '../core/events/envelope.ts';
import { type AttributeType, profileTable, type TableDefinition } from '../core/tables.ts';
import { Analytics, type AnalyticsProps } from './analytics.ts';
import { omnihubFunction, REPO_ROOT } from './bundling.ts';
import { HubMonitoring } from './monitoring.ts';
import {
  type ApiFunctionDefinition,
  type ConsumerDefinition,
  DEFAULTS,
  topology as defaultTopology,
  ENV,
  type FunctionAccess,
  type FunctionDefinition,
  type IngestRoute,
  retentionOf,
  selectTopology,
  type Topology,
  visibilityTimeoutOf,
} from './topology.ts';

/**
 * Throttling for the webhook stage.
 *
 * @example
 * const throttle: WebhookThrottle = { rateLimit: 50, burstLimit: 100 };
 */
export interface WebhookThrottle {
  /**
   * Steady-state requests per second across all webhook routes.
   * @default 100
   */
  readonly rateLimit?: number;
  /**
   * Requests allowed in a burst above the steady rate.
   * @default 200
   */
  readonly burstLimit?: number;
}

/**
 * How EventBridge retries delivering a matched event to a consumer's queue.
 *
 * @example
 * const retry: DeliveryRetry = { maxEventAge: Duration.hours(6), retryAttempts: 50 };
 */
export interface DeliveryRetry {
  /**
   * Age after which EventBridge gives up and sends the event to the rule target's dead-letter queue.
   * @default Duration.hours(24) (EventBridge's maximum)
   */
  readonly maxEventAge?: Duration;
  /**
   * Delivery attempts before the event goes to the rule target's dead-letter queue.
   * @default 185 (EventBridge's maximum)
   */
  readonly retryAttempts?: number;
}

/**
 * Properties of {@link IntegrationHub}.
 *
 * @example
 * const props: IntegrationHubProps = {
 *   stage: 'prod',
 *   removalPolicy: RemovalPolicy.RETAIN,
 *   webhookThrottle: { rateLimit: 50 },
 *   publicUrl: 'https://hooks.example.com',
 * };
 */
export interface IntegrationHubProps {
  /**
   * The tables, routes, rules, queues and functions to build.
   * @default the repository's `topology` (lib/topology.ts)
   */
  readonly topology?: Topology;
  /**
   * Deployment stage; suffixes the bus name so stages can share an account.
   * @default - no suffix: the bus is named `topology.bus.name`
   */
  readonly stage?: string;
  /**
   * Days the bus archive keeps events (for replay).
   * @default topology.bus.archiveRetentionDays
   */
  readonly archiveRetentionDays?: number;
  /**
   * What happens to stateful resources (key, tables, secrets, log groups, dead-letter queues) when
   * they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Stage-wide throttling of the webhook routes; fields not given keep their defaults.
   * @default { rateLimit: 100, burstLimit: 200 }
   */
  readonly webhookThrottle?: WebhookThrottle;
  /**
   * Public base URL vendors post to (for example a custom domain), without a trailing slash. URL-signed
   * schemes (Twilio, Square) sign `publicUrl + /webhooks/<id>`, so it must be what the vendor sees.
   * @default the HTTP API's execute-api endpoint
   */
  readonly publicUrl?: string;
  /**
   * Retention of every function's and the API's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Retry policy of every bus rule's target; fields not given keep their defaults.
   * @default { maxEventAge: Duration.hours(24), retryAttempts: 185 }
   */
  readonly deliveryRetry?: DeliveryRetry;
  /**
   * Connector ids whose webhook routes are built (see `connectors/index.ts`).
   * @default every connector of the topology
   */
  readonly connectors?: readonly string[];
  /**
   * Sync destinations (connector ids) kept in step with the profile (docs/sync.md).
   * @default every destination of the topology
   */
  readonly destinations?: readonly string[];
  /**
   * Where alarms notify (DLQ depth, API 5xx, rule FailedInvocations, function errors and throttles).
   * @default a new topic encrypted with the hub key; subscribe to it
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Serve the HTTP API on your own domain; vendors then post to `https://<domainName>/webhooks/<id>`.
   * @default the execute-api endpoint
   */
  readonly customDomain?: CustomDomain;
  /**
   * Events to S3, profile snapshots, Glue tables and an Athena workgroup (docs/analytics.md);
   * `false` leaves them out.
   * @default analytics with its defaults
   */
  readonly analytics?: false | HubAnalyticsOptions;
  /**
   * Map every function's stack traces to the TypeScript sources (`NODE_OPTIONS=--enable-source-maps`).
   * Costs 5–15 ms of cold start per function (BENCHMARKS.md); the maps ship either way.
   * @default false
   */
  readonly sourceMaps?: boolean;
}

/**
 * A custom domain for the hub's HTTP API.
 *
 * @example
 * const customDomain: CustomDomain = { domainName: 'hooks.example.com', certificate };
 */
export interface CustomDomain {
  readonly domainName: string;
  /** An ACM certificate for `domainName` in the stack's region. */
  readonly certificate: acm.ICertificate;
}

/** Analytics settings the hub does not decide itself (it passes its bus, table, key and stage). */
export type HubAnalyticsOptions = Omit<
  AnalyticsProps,
  'bus' | 'profileTable' | 'key' | 'stage' | 'removalPolicy' | 'logRetention'
>;

/** The topology refers to something that does not exist or cannot work. */
export class TopologyError extends Error {
  override readonly name = 'TopologyError';
}

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
  private readonly removalPolicy: RemovalPolicy;
  private readonly sourceMaps: boolean;
  private readonly logRetention: logs.RetentionDays;
  private readonly tableDefinitions: ReadonlyMap<string, TableDefinition>;
  /** Connector secrets as they are created, for consumers that read them (sync destinations). */
  private readonly connectorSecrets = new Map<string, secretsmanager.Secret>();

  constructor(scope: Construct, id: string, props: IntegrationHubProps = {}) {
    super(scope, id);

    try {
      this.topology = selectTopology(props.topology ?? defaultTopology, {
        ...(props.connectors ? { connectors: props.connectors } : {}),
        ...(props.destinations ? { destinations: props.destinations } : {}),
      });
    } catch (error) {
      throw new TopologyError(error instanceof Error ? error.message : String(error));
    }
    this.removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const throttle: Required<WebhookThrottle> = {
      rateLimit: props.webhookThrottle?.rateLimit ?? 100,
      burstLimit: props.webhookThrottle?.burstLimit ?? 200,
    };
    const deliveryRetry: Required<DeliveryRetry> = {
      maxEventAge: props.deliveryRetry?.maxEventAge ?? Duration.hours(24),
      retryAttempts: props.deliveryRetry?.retryAttempts ?? 185,
    };
    const archiveRetentionDays = props.archiveRetentionDays ?? this.topology.bus.archiveRetentionDays;
    const busName = props.stage ? `${this.topology.bus.name}-${props.stage}` : this.topology.bus.name;
    assertUniqueIds(this.topology);
    this.tableDefinitions = new Map(this.topology.tables.map((table) => [table.id, table]));

    this.key = this.createKey();
    this.tables = this.createTables();

    this.busDeadLetterQueue = new sqs.Queue(this, 'BusDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: this.removalPolicy,
    });
    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: busName,
      description: 'Canonical Omnihub events (CloudEvents-style envelope in `detail`).',
      kmsKey: this.key,
      deadLetterQueue: this.busDeadLetterQueue,
    });
    this.busDeadLetterQueue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgeBusDeadLetters',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.busDeadLetterQueue.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.bus.eventBusArn } },
      }),
    );
    Validations.of(this.busDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter queue: the event bus DeadLetterConfig, which cdk-nag does not follow.',
    });

    // The archive refers to the bus by its formatted ARN, not by GetAtt: its key-policy statement would
    // otherwise make the key depend on the bus while the bus depends on the key (a cycle).
    this.archive = new events.Archive(this, 'Archive', {
      sourceEventBus: events.EventBus.fromEventBusName(this, 'BusByName', busName),
      description: `Every ${EVENT_SOURCE_PREFIX}* event, kept for replay.`,
      eventPattern: { source: events.Match.prefix(EVENT_SOURCE_PREFIX) },
      retention: Duration.days(archiveRetentionDays),
      kmsKey: this.key,
    });
    this.archive.node.addDependency(this.bus);

    const accessLogs = this.createLogGroup(this, 'ApiAccessLogs');
    this.api = new apigwv2.HttpApi(this, 'Api', {
      apiName: `${busName}-webhooks`,
      description: 'Omnihub: vendor webhooks (POST /webhooks/<connector>) and the profile API (IAM).',
      createDefaultStage: false,
    });
    const domainName = props.customDomain
      ? new apigwv2.DomainName(this, 'Domain', {
          domainName: props.customDomain.domainName,
          certificate: props.customDomain.certificate,
        })
      : undefined;
    this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle,
      ...(domainName ? { domainMapping: { domainName } } : {}),
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        // No body, no headers: deliveries carry personal data.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            sourceIp: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            integrationStatus: '$context.integrationStatus',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    this.sourceMaps = props.sourceMaps ?? false;
    this.publicUrl =
      props.publicUrl?.replace(/\/+$/, '') ??
      (props.customDomain ? `https://${props.customDomain.domainName}` : this.api.apiEndpoint);

    const functions: Record<string, NodejsFunction> = {};
    const secrets: Record<string, secretsmanager.Secret> = {};
    const ingestScope = new Construct(this, 'Ingest');
    for (const route of this.topology.ingest) {
      const built = this.createIngest(new Construct(ingestScope, route.connector.id), route);
      functions[route.connector.id] = built.fn;
      secrets[route.connector.id] = built.secret;
    }

    const queues: Record<string, sqs.Queue> = {};
    const deadLetterQueues: Record<string, sqs.Queue> = {};
    const targetDeadLetterQueues: Record<string, sqs.Queue> = {};
    const rules: Record<string, events.CfnRule> = {};
    const consumerScope = new Construct(this, 'Consumers');
    for (const consumer of this.topology.consumers) {
      const built = this.createConsumer(new Construct(consumerScope, consumer.id), consumer, deliveryRetry);
      functions[consumer.id] = built.fn;
      queues[consumer.id] = built.queue;
      deadLetterQueues[consumer.id] = built.deadLetterQueue;
      targetDeadLetterQueues[consumer.id] = built.targetDeadLetterQueue;
      rules[consumer.id] = built.rule;
    }

    const apiScope = new Construct(this, 'ApiFunctions');
    for (const api of this.topology.api) {
      functions[api.id] = this.createApiFunction(new Construct(apiScope, api.id), api);
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
            removalPolicy: this.removalPolicy,
            logRetention: this.logRetention,
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
    for (const [tableId, level] of Object.entries(access.tables ?? {})) {
      const table = this.tables[tableId];
      const definition = this.tableDefinitions.get(tableId);
      if (!table || !definition) {
        throw new TopologyError(
          `${fn.node.path} needs table '${tableId}', which the topology does not declare.`,
        );
      }
      if (level === 'read') {
        table.grantReadData(fn);
      } else {
        table.grantReadWriteData(fn);
        Validations.of(fn.role ?? fn).acknowledge(
          {
            id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
            reason: `DynamoDB writes to '${tableId}' need data keys from the hub key; the statement is scoped to that one key ARN.`,
          },
          {
            id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
            reason: `CDK's DynamoDB write grant on the CMK-encrypted '${tableId}' table; scoped to the hub key ARN only.`,
          },
        );
      }
      if (definition.globalSecondaryIndexes?.length) {
        Validations.of(fn.role ?? fn).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${nagReference(this, table.tableArn)}/index/*]`,
          reason: `Queries on the '${tableId}' table's own secondary indexes; no other table is reachable.`,
        });
      }
      fn.addEnvironment(definition.envVar, table.tableName);
    }
    if (access.publishes) {
      this.bus.grantPutEventsTo(fn);
      fn.addEnvironment(ENV.busName, this.bus.eventBusName);
    }
  }

  private createKey(): kms.Key {
    const key = new kms.Key(this, 'Key', {
      description: 'Omnihub: encryption at rest for tables, queues, bus, archive, secrets and logs.',
      enableKeyRotation: true,
      removalPolicy: this.removalPolicy,
    });
    // CloudWatch Logs encrypts log groups as the regional logs service, not as the caller.
    const stack = Stack.of(this);
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsEncryption',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    // EventBridge itself writes to the CMK-encrypted consumer queues and their target DLQs. The key
    // policy cannot name the rules (they depend on the queues, which depend on the key), so it is
    // limited to this account; each queue policy then admits only its own rule.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgeToEncryptedQueues',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    return key;
  }

  private createTables(): Record<string, dynamodb.Table> {
    const scope = new Construct(this, 'Tables');
    const tables: Record<string, dynamodb.Table> = {};
    for (const definition of this.topology.tables) {
      // Table rather than TableV2: TableV2 with a customer-managed key only synthesizes in stacks with a
      // concrete region, and the hub must also work in environment-agnostic stacks.
      const table = new dynamodb.Table(scope, definition.id, {
        partitionKey: attribute(definition.partitionKey),
        sortKey: definition.sortKey && attribute(definition.sortKey),
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: this.key,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        timeToLiveAttribute: definition.ttlAttribute,
        removalPolicy: this.removalPolicy,
      });
      for (const index of definition.globalSecondaryIndexes ?? []) {
        table.addGlobalSecondaryIndex({
          indexName: index.indexName,
          partitionKey: attribute(index.partitionKey),
          sortKey: index.sortKey && attribute(index.sortKey),
        });
      }
      tables[definition.id] = table;
    }
    return tables;
  }

  private createIngest(scope: Construct, route: IngestRoute) {
    const { connector } = route;
    // Placeholders only: the template never carries a secret value. Operators put the vendor's values
    // with `aws secretsmanager put-secret-value`. CloudFormation leaves them alone until the connector's
    // set of secret names changes; that deploy resets the value to fresh placeholders (put them again).
    // One secret per connector: its webhook secrets and, for sync destinations, its API credentials.
    const secretNames = [
      ...Object.keys(connector.secrets),
      ...Object.keys(connector.outbound?.secrets ?? {}),
    ];
    const secret = new secretsmanager.Secret(scope, 'Secret', {
      description: `Omnihub ${connector.name} secrets (JSON keys: ${secretNames.join(', ') || 'none'}).`,
      encryptionKey: this.key,
      secretObjectValue: Object.fromEntries(secretNames.map((name) => [name, emptyPlaceholder()])),
      removalPolicy: this.removalPolicy,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: `Webhook signing secrets are issued by ${connector.name} and rotated in its admin; Secrets Manager cannot rotate them.`,
    });

    const fn = this.createFunction(
      scope,
      `Ingest ${connector.name} webhooks (${route.method} ${route.path}).`,
      route,
    );
    fn.addEnvironment(ENV.publicUrl, this.publicUrl);
    this.connectorSecrets.set(connector.id, secret);
    this.grantSecretRead(fn, secret);
    this.grantAccess(fn, route);

    const httpRoute = new apigwv2.HttpRoute(scope, 'Route', {
      httpApi: this.api,
      routeKey: apigwv2.HttpRouteKey.with(route.path, apigwv2.HttpMethod[route.method]),
      integration: new HttpLambdaIntegration(`${connector.id}-integration`, fn, {
        payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
      }),
    });
    Validations.of(httpRoute).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: `${connector.name} cannot send API credentials; each delivery is authenticated by its HMAC signature, verified over the raw body in the function before anything is parsed.`,
    });
    return { fn, secret };
  }

  /** A function behind routes of the hub's own API, each route IAM-authorized (SigV4). */
  private createApiFunction(scope: Construct, api: ApiFunctionDefinition): NodejsFunction {
    const fn = this.createFunction(scope, api.description, api);
    this.grantAccess(fn, api);
    const integration = new HttpLambdaIntegration(`${api.id}-integration`, fn, {
      payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
    });
    const authorizer = new HttpIamAuthorizer();
    for (const route of api.routes) {
      new apigwv2.HttpRoute(scope, `${route.method}${route.path.replace(/[^A-Za-z0-9]+/g, '-')}`, {
        httpApi: this.api,
        routeKey: apigwv2.HttpRouteKey.with(route.path, apigwv2.HttpMethod[route.method]),
        integration,
        authorizer,
      });
    }
    return fn;
  }

  /**
   * GetSecretValue on one connector's secret only (no DescribeSecret, no other secret), the key only as
   * Secrets Manager uses it to decrypt that value, and `OMNIHUB_SECRET_ARN` to find it.
   */
  private grantSecretRead(fn: lambda.Function, secret: secretsmanager.Secret): void {
    fn.addEnvironment(ENV.secretArn, secret.secretArn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [this.key.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
        },
      }),
    );
  }

  private createConsumer(scope: Construct, consumer: ConsumerDefinition, retry: Required<DeliveryRetry>) {
    const timeoutSeconds = consumer.timeoutSeconds ?? DEFAULTS.timeoutSeconds;
    const visibilityTimeoutSeconds = visibilityTimeoutOf(consumer);
    if (visibilityTimeoutSeconds < timeoutSeconds) {
      // Messages would reappear while still being processed and be handled twice.
      throw new TopologyError(
        `Consumer '${consumer.id}': queue visibility timeout (${visibilityTimeoutSeconds}s) is shorter than its function timeout (${timeoutSeconds}s).`,
      );
    }

    const deadLetterQueue = new sqs.Queue(scope, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(DEFAULTS.deadLetterRetentionSeconds),
      removalPolicy: this.removalPolicy,
    });
    const queue = new sqs.Queue(scope, 'Queue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(visibilityTimeoutSeconds),
      retentionPeriod: Duration.seconds(retentionOf(consumer)),
      deadLetterQueue: {
        queue: deadLetterQueue,
        maxReceiveCount: consumer.queue?.maxReceiveCount ?? DEFAULTS.maxReceiveCount,
      },
    });
    const targetDeadLetterQueue = new sqs.Queue(scope, 'TargetDeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(DEFAULTS.deadLetterRetentionSeconds),
      removalPolicy: this.removalPolicy,
    });
    Validations.of(targetDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: `This queue is itself a dead-letter queue: the DeadLetterConfig of the '${consumer.id}' bus rule target, which cdk-nag does not follow.`,
    });

    // L1 on purpose: the L2 Rule takes a camelCase EventPattern and rewrites keys; this passes the
    // topology's pattern byte for byte, exactly as the local hub matches it.
    const rule = new events.CfnRule(scope, 'Rule', {
      description: consumer.description.slice(0, 512),
      eventBusName: this.bus.eventBusName,
      eventPattern: consumer.pattern,
      state: 'ENABLED',
      targets: [
        {
          id: 'Queue',
          arn: queue.queueArn,
          retryPolicy: {
            maximumEventAgeInSeconds: retry.maxEventAge.toSeconds(),
            maximumRetryAttempts: retry.retryAttempts,
          },
          deadLetterConfig: { arn: targetDeadLetterQueue.queueArn },
        },
      ],
    });
    for (const target of [queue, targetDeadLetterQueue]) {
      target.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'EventBridgeRuleDelivery',
          principals: [new iam.ServicePrincipal('events.amazonaws.com')],
          actions: ['sqs:SendMessage'],
          resources: [target.queueArn],
          conditions: { ArnEquals: { 'aws:SourceArn': rule.attrArn } },
        }),
      );
    }

    const fn = this.createFunction(scope, consumer.description, consumer);
    fn.addEventSource(
      new SqsEventSource(queue, {
        batchSize: consumer.queue?.batchSize ?? DEFAULTS.batchSize,
        maxBatchingWindow: Duration.seconds(
          consumer.queue?.maxBatchingWindowSeconds ?? DEFAULTS.maxBatchingWindowSeconds,
        ),
        reportBatchItemFailures: true,
      }),
    );
    this.grantAccess(fn, consumer);
    if (consumer.secret) {
      // The connector's own secret when its webhooks are routed here, else one for this consumer.
      const secret =
        this.connectorSecrets.get(consumer.secret.connector) ??
        new secretsmanager.Secret(scope, 'Secret', {
          description: `Omnihub ${consumer.secret.connector} secrets (JSON keys: ${consumer.secret.names.join(', ')}).`,
          encryptionKey: this.key,
          secretObjectValue: Object.fromEntries(
            consumer.secret.names.map((name) => [name, emptyPlaceholder()]),
          ),
          removalPolicy: this.removalPolicy,
        });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: `API credentials are issued by ${consumer.secret.connector} and rotated in its admin; Secrets Manager cannot rotate them.`,
      });
      this.grantSecretRead(fn, secret);
    }
    if (consumer.deadLettersItself) {
      // Refused deliveries go to the DLQ at once, with the reason (core/sync/consumer.ts).
      // (Its queue's GetQueueUrl / GetQueueAttributes come with the event source's consume grant.)
      deadLetterQueue.grantSendMessages(fn);
    }
    return { fn, queue, deadLetterQueue, targetDeadLetterQueue, rule };
  }

  /** A function with its own role (no AWS managed policy) and its own CMK-encrypted log group. */
  private createFunction(
    scope: Construct,
    description: string,
    definition: FunctionDefinition,
  ): NodejsFunction {
    if (!existsSync(path.resolve(REPO_ROOT, definition.entry))) {
      throw new TopologyError(
        `${scope.node.path}: entry '${definition.entry}' does not exist under ${REPO_ROOT}.`,
      );
    }
    const logGroup = this.createLogGroup(scope, 'LogGroup');
    const role = new iam.Role(scope, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Omnihub ${scope.node.id}: only what its topology entry declares.`,
    });
    logGroup.grantWrite(role);
    return omnihubFunction(scope, {
      entry: definition.entry,
      description,
      memorySize: definition.memoryMiB ?? DEFAULTS.memoryMiB,
      timeout: Duration.seconds(definition.timeoutSeconds ?? DEFAULTS.timeoutSeconds),
      role,
      logGroup,
      serviceName: scope.node.id,
      ...(definition.environment ? { environment: definition.environment } : {}),
      ...(this.sourceMaps ? { sourceMaps: true } : {}),
    });
  }

  private createLogGroup(scope: Construct, id: string): logs.LogGroup {
    return new logs.LogGroup(scope, id, {
      encryptionKey: this.key,
      retention: this.logRetention,
      removalPolicy: this.removalPolicy,
    });
  }
}

function attribute(key: { readonly name: string; readonly type: AttributeType }): dynamodb.Attribute {
  return {
    name: key.name,
    type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
  };
}

/** An explicitly empty value: the secret's shape is in the template, its content never is. */
function emptyPlaceholder() {
  return SecretValue.unsafePlainText('');
}

/**
 * How cdk-nag names an attribute in a finding id: `<LogicalId.Arn>` for `Fn::GetAtt`, `<LogicalId>` for
 * `Ref`, so a finding on a wildcard under a specific resource can be acknowledged for that resource only.
 */
function nagReference(scope: Construct, token: string): string {
  const resolved: unknown = Stack.of(scope).resolve(token);
  if (typeof resolved === 'object' && resolved !== null) {
    if ('Fn::GetAtt' in resolved && Array.isArray(resolved['Fn::GetAtt'])) {
      return `<${resolved['Fn::GetAtt'].join('.')}>`;
    }
    if ('Ref' in resolved && typeof resolved.Ref === 'string') {
      return `<${resolved.Ref}>`;
    }
  }
  return String(resolved);
}

/** Function ids (connector and consumer ids) share one namespace: `functions` and construct paths. */
function assertUniqueIds(topology: Topology): void {
  const seen = new Set<string>();
  for (const id of [
    ...topology.ingest.map((route) => route.connector.id),
    ...topology.consumers.map((c) => c.id),
    ...topology.api.map((api) => api.id),
  ]) {
    if (seen.has(id)) {
      throw new TopologyError(
        `Function id '${id}' is used twice (connector, consumer and API function ids must be unique).`,
      );
    }
    seen.add(id);
  }
  const tableIds = new Set<string>();
  for (const table of topology.tables) {
    if (tableIds.has(table.id)) {
      throw new TopologyError(`Table id '${table.id}' is declared twice.`);
    }
    tableIds.add(table.id);
  }
}
