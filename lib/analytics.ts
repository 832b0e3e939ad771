/**
 * Analyst access in AWS: the same tables and views as `omnihub sql` locally, queried with Athena.
 *
 * - Canonical events: a rule on the hub's bus -> Firehose -> a transformation Lambda (`flattenEvent`,
 *   the local export's code) -> gzipped JSON lines under `events/dt=YYYY-MM-DD/` (partition projection).
 * - Profiles: a scheduled Lambda scans the profile table and replaces one gzipped JSON-lines snapshot
 *   per table (`flattenProfileItems`, the local export's code) under `profiles/<table>/`.
 * - A Glue database with one table per `analytics/schema.ts` table and a Presto view per
 *   `analytics/views.ts` view, so the same SQL runs on DuckDB and Athena.
 * - An Athena workgroup that enforces its settings: results encrypted with the hub's key in their own
 *   bucket, and a per-query bytes-scanned cutoff.
 */
import { Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV_BUCKET, ENV_TABLE, SNAPSHOT_PREFIX } from '../analytics/lambda/profile-snapshot.ts';
import { type ColumnType, type TableDefinition, tables } from '../analytics/schema.ts';
import { type ViewDefinition, views } from '../analytics/views.ts';
import { omnihubFunction } from './bundling.ts';

/** Wildcard KMS actions of CDK's grants on an encrypted resource (scoped to the one key). */
const KEY_ACTIONS = ['kms:GenerateDataKey*', 'kms:ReEncrypt*'];

/** Where the Firehose stream writes events: one folder per UTC day of arrival. */
export const EVENTS_PREFIX = 'events/';

export interface AnalyticsProps {
  /** The hub's bus: every canonical event (`source` prefix `omnihub.`) is streamed to S3. */
  readonly bus: events.IEventBus;
  /** The hub's profile table, read by the scheduled snapshot. */
  readonly profileTable: dynamodb.ITable;
  /**
   * Customer-managed key for the buckets, the stream, the query results and the log groups. Its
   * policy must let CloudWatch Logs use it (the hub's key does).
   */
  readonly key: kms.IKey;
  /** Stage name, part of the Glue database and workgroup names. @default 'dev' */
  readonly stage?: string;
  /** Glue database name (lower case, digits, `_`). @default `omnihub_<stage>` */
  readonly databaseName?: string;
  /** Athena workgroup name. @default `omnihub-<stage>` */
  readonly workGroupName?: string;
  /** How often the profile snapshot runs. @default Duration.hours(6) */
  readonly snapshotInterval?: Duration;
  /** Queries that would scan more are cancelled (minimum 10 MB). @default 1 GiB */
  readonly bytesScannedCutoffPerQuery?: Size;
  /** How long Firehose buffers events before writing an object. @default Duration.minutes(5) */
  readonly eventBufferInterval?: Duration;
  /** First day of the `dt` partition projection (YYYY-MM-DD). @default '2025-01-01' */
  readonly eventsSince?: string;
  /**
   * How long streamed canonical events are kept in S3 (they name people: erasure reaches them only
   * when they expire).
   * @default Duration.days(365)
   */
  readonly eventRetention?: Duration;
  /** How long query results are kept. @default Duration.days(30) */
  readonly resultRetention?: Duration;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

const GLUE_TYPES: Record<ColumnType, string> = {
  VARCHAR: 'string',
  BIGINT: 'bigint',
  INTEGER: 'int',
  BOOLEAN: 'boolean',
  TIMESTAMP: 'timestamp',
};

/** Types as Athena (Trino) reports them for Hive columns, for the Presto view definitions. */
const PRESTO_TYPES: Record<ColumnType, string> = {
  VARCHAR: 'varchar',
  BIGINT: 'bigint',
  INTEGER: 'integer',
  BOOLEAN: 'boolean',
  TIMESTAMP: 'timestamp(3)',
};

const JSON_STORAGE = {
  inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
  serdeInfo: { serializationLibrary: 'org.apache.hive.hcatalog.data.JsonSerDe' },
};

/**
 * The Glue form of a Presto view, as Athena writes it for `CREATE VIEW`: the SQL and its columns,
 * base64 JSON in `ViewOriginalText`.
 */
export function prestoViewText(view: ViewDefinition, databaseName: string): string {
  const definition = {
    originalSql: view.sql,
    catalog: 'awsdatacatalog',
    schema: databaseName,
    columns: view.columns.map((column) => ({ name: column.name, type: PRESTO_TYPES[column.type] })),
  };
  return `/* Presto View: ${Buffer.from(JSON.stringify(definition), 'utf8').toString('base64')} */`;
}

/**
 * @example
 * const hub = new IntegrationHub(this, 'Hub', { stage: 'prod' });
 * new Analytics(this, 'Analytics', {
 *   bus: hub.bus,
 *   profileTable: hub.tables.profiles,
 *   key: hub.key,
 *   stage: 'prod',
 * });
 */
export class Analytics extends Construct {
  /** Events (`events/`) and profile snapshots (`profiles/`), encrypted with the key. */
  public readonly dataBucket: s3.Bucket;
  /** Athena query results, encrypted with the key, expired after `resultRetention`. */
  public readonly resultsBucket: s3.Bucket;
  /** Server access logs of the two buckets above. */
  public readonly accessLogsBucket: s3.Bucket;
  public readonly deliveryStream: firehose.DeliveryStream;
  /** Events the bus could not hand to Firehose after its retries. */
  public readonly deadLetterQueue: sqs.Queue;
  public readonly flattenFunction: NodejsFunction;
  public readonly snapshotFunction: NodejsFunction;
  public readonly database: glue.CfnDatabase;
  public readonly databaseName: string;
  /** Glue tables and views by name (`events`, `profiles`, ..., `orders`). */
  public readonly tables: Readonly<Record<string, glue.CfnTable>>;
  public readonly workGroup: athena.CfnWorkGroup;
  public readonly workGroupName: string;

  private readonly key: kms.IKey;
  private readonly removalPolicy: RemovalPolicy;
  private readonly logRetention: logs.RetentionDays;

  constructor(scope: Construct, id: string, props: AnalyticsProps) {
    super(scope, id);
    const stage = props.stage ?? 'dev';
    this.key = props.key;
    this.removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.databaseName = props.databaseName ?? `omnihub_${stage.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
    if (!/^[a-z0-9_]{1,255}$/.test(this.databaseName)) {
      throw new Error(`databaseName '${this.databaseName}' must be lower case letters, digits and _`);
    }
    this.workGroupName = props.workGroupName ?? `omnihub-${stage}`;
    const cutoff = props.bytesScannedCutoffPerQuery ?? Size.gibibytes(1);
    if (cutoff.toBytes() < 10_000_000) throw new Error('bytesScannedCutoffPerQuery must be at least 10 MB');

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      // S3 server access logs can only be delivered to a bucket with S3-managed encryption.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: this.removalPolicy,
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket of the analytics buckets; logging it to itself would loop.',
    });
    this.dataBucket = this.encryptedBucket('Data', 'data/');
    this.dataBucket.addLifecycleRule({
      id: 'EventRetention',
      prefix: EVENTS_PREFIX,
      expiration: props.eventRetention ?? Duration.days(365),
    });
    this.resultsBucket = this.encryptedBucket(
      'Results',
      'results/',
      props.resultRetention ?? Duration.days(30),
    );

    this.flattenFunction = this.createFunction(
      'FlattenEvents',
      'analytics/lambda/flatten-events.ts',
      'Flattens canonical events into analytics rows for Firehose.',
      { memorySize: 256, timeout: Duration.minutes(1) },
    );
    this.deliveryStream = this.createDeliveryStream(props.eventBufferInterval ?? Duration.minutes(5));
    this.deadLetterQueue = new sqs.Queue(this, 'EventsDeadLetterQueue', {
      // SQS-managed keys: a problem with the CMK must not also lose the events that failed.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: this.removalPolicy,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the events rule target; nothing consumes it.',
    });
    new events.Rule(this, 'EventsToS3', {
      eventBus: props.bus,
      description: 'Every canonical event to the analytics stream.',
      eventPattern: { source: events.Match.prefix('omnihub.') },
      targets: [new eventsTargets.FirehoseDeliveryStream(this.deliveryStream)],
    });
    this.attachDeadLetterQueue();

    this.snapshotFunction = this.createFunction(
      'ProfileSnapshot',
      'analytics/lambda/profile-snapshot.ts',
      'Writes the flattened profile table to the analytics bucket.',
      { memorySize: 1024, timeout: Duration.minutes(15) },
    );
    this.snapshotFunction.addEnvironment(ENV_BUCKET, this.dataBucket.bucketName);
    this.snapshotFunction.addEnvironment(ENV_TABLE, props.profileTable.tableName);
    // Scan of the base table only (no index, no item reads or writes), and decrypting what it reads.
    iam.Grant.addToPrincipal({
      grantee: this.snapshotFunction,
      actions: ['dynamodb:Scan'],
      resourceArns: [props.profileTable.tableArn],
    });
    (props.profileTable.encryptionKey ?? this.key).grantDecrypt(this.snapshotFunction);
    this.dataBucket.grantPut(this.snapshotFunction, `${SNAPSHOT_PREFIX}*`);
    Validations.of(this.snapshotFunction.role ?? this.snapshotFunction).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::${nagReference(this, this.dataBucket.bucketArn)}/${SNAPSHOT_PREFIX}*]`,
        reason:
          'The snapshot replaces one object per table under profiles/; the grant is that prefix of the data bucket only.',
      },
      {
        id: 'AwsSolutions-IAM5[Action::s3:Abort*]',
        reason: "CDK's put grant lets an interrupted upload be aborted; on the profiles/ prefix only.",
      },
      ...KEY_ACTIONS.map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason:
          'Reading the CMK-encrypted table and writing KMS-encrypted objects need the hub key; scoped to that one key ARN.',
      })),
    );
    new events.Rule(this, 'SnapshotSchedule', {
      description: 'Refreshes the profile tables of the analytics database.',
      schedule: events.Schedule.rate(props.snapshotInterval ?? Duration.hours(6)),
      targets: [new eventsTargets.LambdaFunction(this.snapshotFunction, { retryAttempts: 2 })],
    });

    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Stack.of(this).account,
      databaseInput: {
        name: this.databaseName,
        description: 'Omnihub analytics: canonical events and unified profiles (docs/analytics.md).',
      },
    });
    const glueTables: Record<string, glue.CfnTable> = {};
    for (const table of tables)
      glueTables[table.name] = this.createTable(table, props.eventsSince ?? '2025-01-01');
    for (const view of views) glueTables[view.name] = this.createView(view);
    this.tables = glueTables;

    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: 'Omnihub analytics: enforced result encryption and bytes-scanned cutoff.',
      state: 'ENABLED',
      recursiveDeleteOption: this.removalPolicy === RemovalPolicy.DESTROY,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: cutoff.toBytes(),
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: this.resultsBucket.s3UrlForObject('results/'),
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: this.key.keyArn },
          expectedBucketOwner: Stack.of(this).account,
        },
      },
    });
    this.workGroup.applyRemovalPolicy(this.removalPolicy);
  }

  /**
   * Lets an analyst role query: run queries in the workgroup, read the catalog of this database,
   * read the data, write and read results, use the key.
   */
  grantQuery(grantee: iam.IGrantable): void {
    const stack = Stack.of(this);
    iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'athena:StartQueryExecution',
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:StopQueryExecution',
        'athena:GetWorkGroup',
      ],
      resourceArns: [
        stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workGroupName }),
      ],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'glue:GetDatabase',
        'glue:GetTable',
        'glue:GetTables',
        'glue:GetPartition',
        'glue:GetPartitions',
      ],
      resourceArns: [
        stack.formatArn({ service: 'glue', resource: 'catalog' }),
        stack.formatArn({ service: 'glue', resource: 'database', resourceName: this.databaseName }),
        stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/*` }),
      ],
    });
    this.dataBucket.grantRead(grantee);
    this.resultsBucket.grantReadWrite(grantee);
  }

  private encryptedBucket(id: string, logPrefix: string, expiration?: Duration): s3.Bucket {
    return new s3.Bucket(this, id, {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: logPrefix,
      ...(expiration ? { lifecycleRules: [{ expiration }] } : {}),
      removalPolicy: this.removalPolicy,
    });
  }

  private createDeliveryStream(bufferInterval: Duration): firehose.DeliveryStream {
    const logGroup = this.createLogGroup(this, 'DeliveryLogGroup');
    const stream = new firehose.DeliveryStream(this, 'EventStream', {
      encryption: firehose.StreamEncryption.customerManagedKey(this.key),
      destination: new firehose.S3Bucket(this.dataBucket, {
        dataOutputPrefix: `${EVENTS_PREFIX}dt=!{timestamp:yyyy-MM-dd}/`,
        errorOutputPrefix: 'errors/events/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/',
        compression: firehose.Compression.GZIP,
        fileExtension: '.json.gz',
        bufferingInterval: bufferInterval,
        bufferingSize: Size.mebibytes(64),
        encryptionKey: this.key,
        loggingConfig: new firehose.EnableLogging(logGroup),
        processors: [
          new firehose.LambdaFunctionProcessor(this.flattenFunction, {
            bufferInterval: Duration.minutes(1),
            bufferSize: Size.mebibytes(1),
            retries: 3,
          }),
        ],
      }),
    });
    const bucket = nagReference(this, this.dataBucket.bucketArn);
    Validations.of(stream).acknowledge(
      ...['s3:Abort*', 's3:DeleteObject*', 's3:GetBucket*', 's3:GetObject*', 's3:List*'].map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: `CDK's Firehose S3 destination grant (the multipart upload, location and listing actions Firehose documents as required), on the analytics data bucket only.`,
      })),
      {
        id: `AwsSolutions-IAM5[Resource::${bucket}/*]`,
        reason:
          'Firehose writes event objects anywhere under the prefixes it computes per day; the grant is the analytics data bucket only.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${nagReference(this, this.flattenFunction.functionArn)}:*]`,
        reason:
          'Firehose invokes the flattening function and its versions; the grant names that one function.',
      },
      ...KEY_ACTIONS.map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason:
          'Firehose encrypts the stream and the objects it writes with the hub key; scoped to that one key ARN.',
      })),
    );
    return stream;
  }

  /** The L2 target has no DLQ option; the rule's Cfn target gets one, and the queue admits only it. */
  private attachDeadLetterQueue(): void {
    const rule = this.node.findChild('EventsToS3') as events.Rule;
    const cfnRule = rule.node.defaultChild as events.CfnRule;
    cfnRule.addPropertyOverride('Targets.0.DeadLetterConfig', { Arn: this.deadLetterQueue.queueArn });
    cfnRule.addPropertyOverride('Targets.0.RetryPolicy', {
      MaximumRetryAttempts: 185,
      MaximumEventAgeInSeconds: 86_400,
    });
    this.deadLetterQueue.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.deadLetterQueue.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
      }),
    );
  }

  private createTable(table: TableDefinition, eventsSince: string): glue.CfnTable {
    const bucket = this.dataBucket.bucketName;
    const isEvents = table.origin === 'events';
    const columns = table.columns
      .filter((column) => !(isEvents && column.name === 'dt'))
      .map((column) => ({
        name: column.name,
        type: GLUE_TYPES[column.type],
        comment: column.description.slice(0, 255),
      }));
    const location = isEvents
      ? `s3://${bucket}/${EVENTS_PREFIX}`
      : `s3://${bucket}/${SNAPSHOT_PREFIX}${table.name}/`;
    const glueTable = new glue.CfnTable(this, `Table-${table.name}`, {
      catalogId: Stack.of(this).account,
      databaseName: this.databaseName,
      tableInput: {
        name: table.name,
        description: table.description,
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          classification: 'json',
          compressionType: 'gzip',
          ...(isEvents
            ? {
                'projection.enabled': 'true',
                'projection.dt.type': 'date',
                'projection.dt.format': 'yyyy-MM-dd',
                'projection.dt.range': `${eventsSince},NOW`,
                'projection.dt.interval': '1',
                'projection.dt.interval.unit': 'DAYS',
                'storage.location.template': `s3://${bucket}/${EVENTS_PREFIX}dt=\${dt}/`,
              }
            : {}),
        },
        partitionKeys: isEvents
          ? [{ name: 'dt', type: 'string', comment: 'UTC date the bus delivered the event' }]
          : [],
        storageDescriptor: { ...JSON_STORAGE, location, columns },
      },
    });
    glueTable.node.addDependency(this.database);
    return glueTable;
  }

  private createView(view: ViewDefinition): glue.CfnTable {
    const glueView = new glue.CfnTable(this, `View-${view.name}`, {
      catalogId: Stack.of(this).account,
      databaseName: this.databaseName,
      tableInput: {
        name: view.name,
        description: view.description,
        tableType: 'VIRTUAL_VIEW',
        parameters: { presto_view: 'true', comment: 'Presto View' },
        viewOriginalText: prestoViewText(view, this.databaseName),
        viewExpandedText: '/* Presto View */',
        storageDescriptor: {
          columns: view.columns.map((column) => ({ name: column.name, type: GLUE_TYPES[column.type] })),
          serdeInfo: {},
        },
      },
    });
    glueView.node.addDependency(this.database);
    return glueView;
  }

  /** Same shape as the hub's functions: own role, CMK-encrypted log group, ESM bundle, arm64. */
  private createFunction(
    id: string,
    entry: string,
    description: string,
    sizing: { memorySize: number; timeout: Duration },
  ): NodejsFunction {
    const scope = new Construct(this, id);
    const logGroup = this.createLogGroup(scope, 'LogGroup');
    const role = new iam.Role(scope, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Omnihub analytics ${id}: only what it needs.`,
    });
    logGroup.grantWrite(role);
    return omnihubFunction(scope, {
      entry,
      description,
      ...sizing,
      role,
      logGroup,
      serviceName: `analytics-${id}`,
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

/** How cdk-nag names a token in a finding id: `<LogicalId.Arn>` for `Fn::GetAtt`, `<LogicalId>` for `Ref`. */
function nagReference(scope: Construct, token: string): string {
  const resolved: unknown = Stack.of(scope).resolve(token);
  if (typeof resolved === 'object' && resolved !== null) {
    if ('Fn::GetAtt' in resolved && Array.isArray(resolved['Fn::GetAtt']))
      return `<${resolved['Fn::GetAtt'].join('.')}>`;
    if ('Ref' in resolved && typeof resolved.Ref === 'string') return `<${resolved.Ref}>`;
  }
  return String(resolved);
}
