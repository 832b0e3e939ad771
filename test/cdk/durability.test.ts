/**
 * What the hub builds so that nothing verified is lost: the quarantine table and the raw archive
 * (Firehose streams into an encrypted, private, expiring bucket), their least-privilege grants, the
 * alarms, and the retention setting from props and from the app's context.
 */
import type { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../bin/app.ts';
import { quarantineTable } from '../../core/tables.ts';
import { HubSettingsError } from '../../lib/integration-hub.ts';
import {
  acme,
  forService,
  logicalIdOf,
  propertiesOf,
  type Statement,
  statementsOf,
  synthHub,
  TEST_CONTEXT,
  testTopology,
} from './support.ts';

/** The statements of a role's inline policies (AWS::IAM::Policy resources attached to it). */
function roleStatements(template: Template, roleLogicalId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: roleLogicalId }]) },
  });
  return Object.values(policies).flatMap((policy) =>
    (policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>).map((statement) => ({
      Effect: statement.Effect as string,
      Action: [statement.Action].flat() as string[],
      Resource: [statement.Resource].flat(),
      Condition: statement.Condition,
    })),
  );
}

describe('Construct: IntegrationHub, durability', () => {
  describe('quarantine', () => {
    it('is a table encrypted with the hub key, with point-in-time recovery and TTL on expiresAt', () => {
      const { stack, hub, template } = synthHub();
      const table = hub.tables[quarantineTable.id];
      if (!table) throw new Error('quarantine table missing');
      expect(propertiesOf(template, stack, table)).toMatchObject({
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: stack.resolve(hub.key.keyArn) },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      });
    });

    it('is written by the ingest functions with PutItem alone, and read by no function', () => {
      const { stack, hub, template } = synthHub();
      const arn = JSON.stringify(stack.resolve(hub.tables[quarantineTable.id]?.tableArn));
      for (const [id, fn] of Object.entries(hub.functions)) {
        const onQuarantine = forService(statementsOf(template, stack, fn), 'dynamodb').filter((statement) =>
          statement.Resource.some((resource) => JSON.stringify(resource).startsWith(arn.slice(0, -1))),
        );
        expect(onQuarantine.flatMap((statement) => statement.Action)).toEqual(
          id === acme.id ? ['dynamodb:PutItem'] : [],
        );
      }
    });

    it('alarms per connector on DeliveriesQuarantined, saying what to run', () => {
      const { template } = synthHub();
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'Omnihub',
        MetricName: 'DeliveriesQuarantined',
        Dimensions: Match.arrayWith([
          { Name: 'connector', Value: acme.id },
          { Name: 'service', Value: 'omnihub-ingest' },
        ]),
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmDescription: Match.stringLikeRegexp('omnihub retranslate --quarantined'),
      });
    });
  });

  describe('raw archive', () => {
    it('is a bucket encrypted with the hub key (Bucket Key), private, TLS only, expiring after 30 days', () => {
      const { stack, hub, template } = synthHub();
      expect(propertiesOf(template, stack, hub.rawArchive.bucket)).toMatchObject({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: stack.resolve(hub.key.keyArn),
              },
            },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LifecycleConfiguration: {
          Rules: [
            {
              Id: 'RawRetention',
              Status: 'Enabled',
              ExpirationInDays: 30,
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            },
          ],
        },
      });
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: logicalIdOf(stack, hub.rawArchive.bucket) },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it('has one Direct PUT stream per connector, encrypted with the hub key, GZIP under raw/<connector>/<hour>/', () => {
      const { stack, hub, template } = synthHub();
      const streams = template.findResources('AWS::KinesisFirehose::DeliveryStream');
      expect(Object.keys(streams)).toHaveLength(testTopology.ingest.length);
      expect(Object.keys(hub.rawArchive.streams)).toEqual([acme.id]);
      const keyArn = stack.resolve(hub.key.keyArn);
      template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
        DeliveryStreamName: 'omnihub-test-test-raw-acme',
        DeliveryStreamType: 'DirectPut',
        DeliveryStreamEncryptionConfigurationInput: { KeyType: 'CUSTOMER_MANAGED_CMK', KeyARN: keyArn },
        ExtendedS3DestinationConfiguration: Match.objectLike({
          BucketARN: stack.resolve(hub.rawArchive.bucket.bucketArn),
          Prefix: 'raw/acme/!{timestamp:yyyy/MM/dd/HH}/',
          ErrorOutputPrefix: 'raw-errors/acme/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/',
          CompressionFormat: 'GZIP',
          // Few, large objects: a PUT per 15 minutes or 128 MB, never one per delivery.
          BufferingHints: { IntervalInSeconds: 900, SizeInMBs: 128 },
          EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: keyArn } },
          CloudWatchLoggingOptions: Match.objectLike({ Enabled: true }),
        }),
      });
    });

    it('gives each stream a role that writes under its own prefixes only, and never deletes', () => {
      const { stack, hub, template } = synthHub();
      const stream = hub.rawArchive.streams[acme.id];
      if (!stream) throw new Error('acme stream missing');
      const roleArn = (stack.resolve(stream.extendedS3DestinationConfiguration) as { roleArn: unknown })
        .roleArn as {
        'Fn::GetAtt': [string, string];
      };
      const roleId = roleArn['Fn::GetAtt'][0];
      const role = template.toJSON().Resources[roleId] as {
        Properties: { AssumeRolePolicyDocument: unknown };
      };
      expect(role.Properties.AssumeRolePolicyDocument).toMatchObject({
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Principal: { Service: 'firehose.amazonaws.com' },
            Condition: { StringEquals: { 'sts:ExternalId': stack.resolve(stack.account) } },
          },
        ],
      });
      const statements = roleStatements(template, roleId);
      const actions = statements.flatMap((statement) => statement.Action).sort();
      expect(actions).toEqual(
        [
          'kms:Decrypt',
          'kms:GenerateDataKey',
          'logs:PutLogEvents',
          's3:AbortMultipartUpload',
          's3:GetBucketLocation',
          's3:GetObject',
          's3:ListBucket',
          's3:ListBucketMultipartUploads',
          's3:PutObject',
        ].sort(),
      );
      const objects = statements.find((statement) => statement.Action.includes('s3:PutObject'));
      expect(JSON.stringify(objects?.Resource)).toContain('/raw/acme/*');
      expect(JSON.stringify(objects?.Resource)).toContain('/raw-errors/acme/*');
      expect(objects?.Resource).toHaveLength(2);
      const kms = statements.find((statement) => statement.Action.includes('kms:GenerateDataKey'));
      expect(kms?.Condition).toMatchObject({ StringEquals: { 'kms:ViaService': expect.anything() } });
      expect(kms?.Resource).toEqual([stack.resolve(hub.key.keyArn)]);
    });

    it("lets the ingest function put records on its connector's stream only, and no other function", () => {
      const { stack, hub, template } = synthHub();
      for (const [id, fn] of Object.entries(hub.functions)) {
        const firehose = forService(statementsOf(template, stack, fn), 'firehose');
        if (id === acme.id) {
          expect(firehose).toEqual([
            {
              Effect: 'Allow',
              Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
              Resource: [stack.resolve(hub.rawArchive.streams[acme.id]?.attrArn)],
              Condition: undefined,
            },
          ]);
        } else expect(firehose).toEqual([]);
      }
    });

    it('alarms when a stream stops writing to S3', () => {
      const { stack, hub, template } = synthHub();
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Firehose',
        MetricName: 'DeliveryToS3.DataFreshness',
        Dimensions: [
          { Name: 'DeliveryStreamName', Value: stack.resolve(hub.rawArchive.streams[acme.id]?.ref) },
        ],
        Statistic: 'Maximum',
        Threshold: 1800,
      });
    });

    it('keeps deliveries rawRetentionDays: the lifecycle and every function, from props or the app context', () => {
      const { stack, hub, template } = synthHub({ rawRetentionDays: 7 });
      expect(propertiesOf(template, stack, hub.rawArchive.bucket)).toMatchObject({
        LifecycleConfiguration: { Rules: [{ ExpirationInDays: 7 }] },
      });
      for (const fn of Object.values(hub.functions)) {
        expect(propertiesOf(template, stack, fn).Environment).toMatchObject({
          Variables: { OMNIHUB_RAW_RETENTION_DAYS: '7' },
        });
      }
      expect(() => synthHub({ rawRetentionDays: 0.5 })).toThrow(HubSettingsError);

      const { stack: appStack } = createApp({
        context: { ...TEST_CONTEXT, 'omnihub:rawRetentionDays': '14', 'omnihub:analytics': 'false' },
        hub: { topology: testTopology },
        environment: {},
      });
      const fromContext = Template.fromStack(appStack as Stack);
      fromContext.hasResourceProperties('AWS::S3::Bucket', {
        LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'RawRetention', ExpirationInDays: 14 })] },
      });
    });
  });
});
