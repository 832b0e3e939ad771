/**
 * The analytics construct (lib/analytics.ts) on a stand-alone stack with its own key, bus and
 * profile table, as the hub passes them. Each test synthesizes a fresh stack.
 */
import { App, type CfnResource, Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { SNAPSHOT_PREFIX } from '../../analytics/lambda/profile-snapshot.ts';
import { tables } from '../../analytics/schema.ts';
import { ordersView, views } from '../../analytics/views.ts';
import { Analytics, type AnalyticsProps } from '../../lib/analytics.ts';
import { IntegrationHub } from '../../lib/integration-hub.ts';
import {
  acknowledgedFindings,
  forService,
  logicalIdOf,
  propertiesOf,
  statementsOf,
  TEST_CONTEXT,
  testTopology,
} from './support.ts';

function synthAnalytics(props: Partial<AnalyticsProps> = {}) {
  const app = new App({ context: TEST_CONTEXT });
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const bus = new events.EventBus(stack, 'Bus', { eventBusName: 'omnihub-test' });
  const profileTable = new dynamodb.Table(stack, 'Profiles', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: key,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  });
  const analytics = new Analytics(stack, 'Analytics', { bus, profileTable, key, stage: 'test', ...props });
  return { app, stack, key, bus, profileTable, analytics, template: Template.fromStack(stack) };
}

/** Properties of an L1 resource as synthesized. */
function cfnProperties(
  template: Template,
  stack: Stack,
  resource: CfnResource | undefined,
): Record<string, unknown> {
  if (!resource) throw new Error('no such resource');
  const id = stack.resolve(resource.logicalId) as string;
  return (
    (template.toJSON().Resources as Record<string, { Properties: Record<string, unknown> }>)[id]
      ?.Properties ?? {}
  );
}

const ref = (stack: Stack, construct: Parameters<typeof logicalIdOf>[1]) => ({
  Ref: logicalIdOf(stack, construct),
});
const arnOf = (stack: Stack, construct: Parameters<typeof logicalIdOf>[1]) => ({
  'Fn::GetAtt': [logicalIdOf(stack, construct), 'Arn'],
});

describe('Construct: Analytics', () => {
  describe('events: bus -> Firehose -> S3', () => {
    it('routes every canonical event on the bus to the stream, with retries and a DLQ', () => {
      const { stack, bus, analytics, template } = synthAnalytics();
      template.hasResourceProperties('AWS::Events::Rule', {
        EventBusName: stack.resolve(bus.eventBusName),
        EventPattern: { source: [{ prefix: 'omnihub.' }] },
        Targets: [
          Match.objectLike({
            Arn: arnOf(stack, analytics.deliveryStream),
            DeadLetterConfig: { Arn: arnOf(stack, analytics.deadLetterQueue) },
            RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
          }),
        ],
      });
      // Only that rule may put dead letters on the queue.
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [ref(stack, analytics.deadLetterQueue)],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'sqs:SendMessage',
              Principal: { Service: 'events.amazonaws.com' },
              Condition: { ArnEquals: { 'aws:SourceArn': Match.anyValue() } },
            }),
          ]),
        },
      });
    });

    it('expires streamed events after the retention (a year unless configured)', () => {
      const rule = (template: Template) =>
        Object.values(template.findResources('AWS::S3::Bucket'))
          .flatMap((bucket) => bucket.Properties.LifecycleConfiguration?.Rules ?? [])
          .find((candidate: { Id?: string }) => candidate.Id === 'EventRetention');
      expect(rule(synthAnalytics().template)).toMatchObject({
        Prefix: 'events/',
        ExpirationInDays: 365,
        Status: 'Enabled',
      });
      expect(rule(synthAnalytics({ eventRetention: Duration.days(90) }).template)).toMatchObject({
        ExpirationInDays: 90,
      });
    });

    it('writes gzipped rows flattened by the Lambda, partitioned by day, encrypted with the key', () => {
      const { stack, key, analytics } = synthAnalytics();
      const template = Template.fromStack(stack);
      const props = propertiesOf(template, stack, analytics.deliveryStream) as {
        DeliveryStreamEncryptionConfigurationInput: unknown;
        ExtendedS3DestinationConfiguration: Record<string, unknown>;
      };
      expect(props.DeliveryStreamEncryptionConfigurationInput).toEqual({
        KeyARN: arnOf(stack, key),
        KeyType: 'CUSTOMER_MANAGED_CMK',
      });
      const destination = props.ExtendedS3DestinationConfiguration;
      expect(destination).toMatchObject({
        BucketARN: arnOf(stack, analytics.dataBucket),
        Prefix: 'events/dt=!{timestamp:yyyy-MM-dd}/',
        ErrorOutputPrefix: 'errors/events/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/',
        CompressionFormat: 'GZIP',
        EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: arnOf(stack, key) } },
      });
      const processor = (
        destination.ProcessingConfiguration as { Processors: Array<Record<string, unknown>> }
      ).Processors[0];
      expect(processor?.Type).toBe('Lambda');
      expect(JSON.stringify(processor?.Parameters)).toContain(logicalIdOf(stack, analytics.flattenFunction));
    });
  });

  describe('profiles: scheduled snapshot', () => {
    it('runs on a schedule and may only read the table and put snapshot objects', () => {
      const { stack, profileTable, analytics, template } = synthAnalytics({
        snapshotInterval: Duration.hours(2),
      });
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(2 hours)',
        Targets: [Match.objectLike({ Arn: arnOf(stack, analytics.snapshotFunction) })],
      });
      const fn = analytics.snapshotFunction;
      expect(propertiesOf(template, stack, fn.role ?? fn).ManagedPolicyArns).toBeUndefined();
      const statements = statementsOf(template, stack, fn);
      const dynamo = forService(statements, 'dynamodb');
      expect(dynamo).toEqual([
        {
          Effect: 'Allow',
          Action: ['dynamodb:Scan'],
          Resource: [arnOf(stack, profileTable)],
          Condition: undefined,
        },
      ]);
      const s3 = forService(statements, 's3');
      expect(s3.flatMap((s) => s.Action).filter((a) => /Get|Delete|List/.test(a))).toEqual([]);
      expect(JSON.stringify(s3.flatMap((s) => s.Resource))).toContain(`/${SNAPSHOT_PREFIX}*`);
      expect(propertiesOf(template, stack, fn)).toMatchObject({
        Environment: {
          Variables: {
            OMNIHUB_ANALYTICS_BUCKET: ref(stack, analytics.dataBucket),
            OMNIHUB_PROFILE_TABLE: ref(stack, profileTable),
          },
        },
      });
    });
  });

  describe('Glue catalog: the same tables and views as DuckDB', () => {
    it.each(tables.map((table) => [table.name, table] as const))(
      'table %s has the schema columns',
      (name, table) => {
        const { stack, analytics } = synthAnalytics();
        const template = Template.fromStack(stack);
        const input = (
          cfnProperties(template, stack, analytics.tables[name]) as {
            TableInput: {
              Name: string;
              StorageDescriptor: {
                Columns: Array<{ Name: string; Type: string }>;
                Location: unknown;
                SerdeInfo: unknown;
              };
              PartitionKeys: Array<{ Name: string }>;
              Parameters: Record<string, unknown>;
            };
          }
        ).TableInput;
        expect(input.Name).toBe(name);
        const columns = [
          ...input.StorageDescriptor.Columns.map((c) => c.Name),
          ...input.PartitionKeys.map((p) => p.Name),
        ];
        expect(columns).toEqual(table.columns.map((c) => c.name));
        expect(input.StorageDescriptor.SerdeInfo).toEqual({
          SerializationLibrary: 'org.apache.hive.hcatalog.data.JsonSerDe',
        });
        expect(JSON.stringify(stack.resolve(input.StorageDescriptor.Location))).toContain(
          table.origin === 'events' ? 'events/' : `${SNAPSHOT_PREFIX}${name}/`,
        );
        if (table.origin === 'events') {
          expect(input.Parameters).toMatchObject({
            'projection.enabled': 'true',
            'projection.dt.type': 'date',
            'projection.dt.format': 'yyyy-MM-dd',
            'projection.dt.range': '2025-01-01,NOW',
          });
        }
      },
    );

    it('creates the orders view from the very SQL DuckDB runs', () => {
      const { stack, analytics } = synthAnalytics();
      const template = Template.fromStack(stack);
      const input = (
        cfnProperties(template, stack, analytics.tables.orders) as {
          TableInput: {
            TableType: string;
            ViewOriginalText: string;
            ViewExpandedText: string;
            Parameters: unknown;
          };
        }
      ).TableInput;
      expect(input.TableType).toBe('VIRTUAL_VIEW');
      expect(input.ViewExpandedText).toBe('/* Presto View */');
      const encoded = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(input.ViewOriginalText)?.[1] ?? '';
      const definition = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as {
        originalSql: string;
        schema: string;
        columns: Array<{ name: string; type: string }>;
      };
      expect(definition.originalSql).toBe(ordersView.sql);
      expect(definition.schema).toBe('omnihub_test');
      expect(definition.columns.map((c) => c.name)).toEqual(ordersView.columns.map((c) => c.name));
      expect(definition.columns.find((c) => c.name === 'placed_at')?.type).toBe('timestamp(3)');
      expect(views.map((v) => v.name)).toEqual(['orders']);
    });
  });

  describe('Athena workgroup', () => {
    it('enforces encrypted results in their own bucket and a bytes-scanned cutoff', () => {
      const { stack, key, analytics, template } = synthAnalytics({
        bytesScannedCutoffPerQuery: Size.gibibytes(5),
      });
      const output = new Capture();
      template.hasResourceProperties('AWS::Athena::WorkGroup', {
        Name: 'omnihub-test',
        WorkGroupConfiguration: {
          EnforceWorkGroupConfiguration: true,
          BytesScannedCutoffPerQuery: 5 * 1024 ** 3,
          ResultConfiguration: {
            OutputLocation: output,
            EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: arnOf(stack, key) },
          },
        },
      });
      expect(JSON.stringify(output.asObject())).toContain(logicalIdOf(stack, analytics.resultsBucket));
    });

    it('refuses a cutoff below Athena minimum of 10 MB', () => {
      expect(() => synthAnalytics({ bytesScannedCutoffPerQuery: Size.mebibytes(1) })).toThrow(
        /at least 10 MB/,
      );
    });
  });

  describe('buckets', () => {
    it('encrypts data and results with the key, blocks public access, logs access, refuses plain HTTP', () => {
      const { stack, key, analytics, template } = synthAnalytics();
      for (const bucket of [analytics.dataBucket, analytics.resultsBucket]) {
        expect(propertiesOf(template, stack, bucket)).toMatchObject({
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              {
                ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: arnOf(stack, key) },
              },
            ],
          },
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          LoggingConfiguration: { DestinationBucketName: ref(stack, analytics.accessLogsBucket) },
        });
        template.hasResourceProperties('AWS::S3::BucketPolicy', {
          Bucket: ref(stack, bucket),
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            ]),
          },
        });
      }
    });

    it('keeps data by default and lets the caller destroy it', () => {
      const kept = synthAnalytics();
      expect(
        kept.template.toJSON().Resources[logicalIdOf(kept.stack, kept.analytics.dataBucket)].DeletionPolicy,
      ).toBe('Retain');
      const destroyed = synthAnalytics({ removalPolicy: RemovalPolicy.DESTROY });
      expect(
        destroyed.template.toJSON().Resources[logicalIdOf(destroyed.stack, destroyed.analytics.dataBucket)]
          .DeletionPolicy,
      ).toBe('Delete');
    });
  });

  describe('cdk-nag AwsSolutions', () => {
    it('reports no unacknowledged finding', () => {
      const { stack } = synthAnalytics();
      const report = new AwsSolutionsChecks().validateScope(stack);
      expect(
        report.violations.map(
          (violation) => `${violation.ruleName} ${JSON.stringify(violation.violatingResources ?? '')}`,
        ),
      ).toEqual([]);
    });

    it('acknowledges findings on specific resources inside the construct, each with a reason', () => {
      const { stack, analytics } = synthAnalytics();
      const acknowledged = acknowledgedFindings(stack);
      expect(acknowledged.length).toBeGreaterThan(0);
      for (const { path, rules } of acknowledged) {
        expect(path.startsWith(`${analytics.node.path}/`)).toBe(true);
        for (const reason of Object.values(rules)) expect(reason.length).toBeGreaterThan(20);
      }
    });
  });

  describe('beside the IntegrationHub', () => {
    it("takes the hub's bus, profile table and key, and the stack stays free of cdk-nag findings", () => {
      const app = new App({ context: TEST_CONTEXT });
      const stack = new Stack(app, 'Test');
      const hub = new IntegrationHub(stack, 'Hub', { topology: testTopology, stage: 'test' });
      const profiles = hub.tables.profiles;
      if (!profiles) throw new Error('the hub has no profiles table');
      const analytics = new Analytics(stack, 'Analytics', {
        bus: hub.bus,
        profileTable: profiles,
        key: hub.key,
        stage: 'test',
      });
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::Events::Rule', {
        EventBusName: stack.resolve(hub.bus.eventBusName),
        Targets: [Match.objectLike({ Arn: arnOf(stack, analytics.deliveryStream) })],
      });
      expect(propertiesOf(template, stack, analytics.snapshotFunction)).toMatchObject({
        Environment: { Variables: { OMNIHUB_PROFILE_TABLE: ref(stack, profiles) } },
      });
      const report = new AwsSolutionsChecks().validateScope(stack);
      expect(report.violations.map((violation) => violation.ruleName)).toEqual([]);
    });
  });
});
