/**
 * The raw archive in AWS: every verified webhook as received (`core/ingest/raw-archive.ts`), kept
 * `rawRetentionDays`, so `omnihub retranslate` can run today's translators over it.
 *
 * One Firehose Direct PUT stream per connector (`<bus>-raw-<connector>`; Direct PUT has no hourly
 * charge), encrypted with the hub key, into one bucket under `raw/<connector>/yyyy/MM/dd/HH/` (GZIP,
 * 15-minute or 128 MB buffers: few S3 PUTs, never one per delivery; bench/cost.ts), errors under
 * `raw-errors/<connector>/`. The bucket: hub key with an S3 Bucket Key, all public access blocked, TLS
 * only, objects expired after the retention. Each stream has its own role that can put objects
 * under its own prefixes and nothing else (an L1 stream: the L2 destination grants read, write and
 * delete on the whole bucket).
 */
import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { createLogGroup, type HubContext } from './context.ts';
import { nagReference } from './grants.ts';

/** Where a connector's deliveries land in the bucket. */
export function rawPrefixOf(connectorId: string): string {
  return `raw/${connectorId}/`;
}

export interface HubRawArchive {
  readonly bucket: s3.Bucket;
  /** Streams by connector id. */
  readonly streams: Readonly<Record<string, firehose.CfnDeliveryStream>>;
  /** `OMNIHUB_RAW_STREAM_PREFIX`: a connector's stream is this + its id. */
  readonly streamPrefix: string;
}

/** `RawArchive/Bucket`, `RawArchive/DeliveryLogs` and per connector `RawArchive/<id>/{Role,Stream}` under `hub`. */
export function createRawArchive(
  hub: Construct,
  context: HubContext,
  props: {
    readonly streamPrefix: string;
    readonly connectors: readonly string[];
    readonly retentionDays: number;
  },
): HubRawArchive {
  const scope = new Construct(hub, 'RawArchive');
  const stack = Stack.of(hub);
  const bucket = new s3.Bucket(scope, 'Bucket', {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: context.key,
    // One data key per bucket instead of a KMS call per object Firehose writes.
    bucketKeyEnabled: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    lifecycleRules: [
      {
        id: 'RawRetention',
        expiration: Duration.days(props.retentionDays),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      },
    ],
    removalPolicy: context.removalPolicy,
  });
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason:
      'Only the raw archive streams write here and only omnihub retranslate reads; S3 server access logs would add a log object per Firehose write. Turn on CloudTrail S3 data events for an audit of reads.',
  });
  const logGroup = createLogGroup(scope, 'DeliveryLogs', context);
  const bucketRef = nagReference(hub, bucket.bucketArn);

  const streams: Record<string, firehose.CfnDeliveryStream> = {};
  for (const connectorId of props.connectors) {
    const own = new Construct(scope, connectorId);
    const prefixes = [rawPrefixOf(connectorId), `raw-errors/${connectorId}/`];
    const logStream = new logs.LogStream(own, 'DeliveryLogStream', {
      logGroup,
      removalPolicy: context.removalPolicy,
    });
    const role = new iam.Role(own, 'Role', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
        conditions: { StringEquals: { 'sts:ExternalId': stack.account } },
      }),
      description: `Omnihub raw archive of ${connectorId}: objects under its own prefixes of the raw bucket only.`,
    });
    const policy = new iam.Policy(own, 'Policy', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
          resources: prefixes.map((prefix) => bucket.arnForObjects(`${prefix}*`)),
        }),
        new iam.PolicyStatement({
          actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
          resources: [bucket.bucketArn],
        }),
        new iam.PolicyStatement({
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [context.key.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` },
            // With an S3 Bucket Key the encryption context is the bucket, not the object.
            StringLike: { 'kms:EncryptionContext:aws:s3:arn': bucket.bucketArn },
          },
        }),
        new iam.PolicyStatement({
          actions: ['logs:PutLogEvents'],
          resources: [
            stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: `${logGroup.logGroupName}:log-stream:${logStream.logStreamName}`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      ],
    });
    Validations.of(policy).acknowledge(
      ...prefixes.map((prefix) => ({
        id: `AwsSolutions-IAM5[Resource::${bucketRef}/${prefix}*]`,
        reason: `Firehose names each object it writes under ${prefix} (time partitions, its own object names): the grant is that prefix of the raw bucket only.`,
      })),
    );
    const stream = new firehose.CfnDeliveryStream(own, 'Stream', {
      deliveryStreamName: `${props.streamPrefix}${connectorId}`,
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: {
        keyType: 'CUSTOMER_MANAGED_CMK',
        keyArn: context.key.keyArn,
      },
      extendedS3DestinationConfiguration: {
        bucketArn: bucket.bucketArn,
        roleArn: role.roleArn,
        prefix: `${rawPrefixOf(connectorId)}!{timestamp:yyyy/MM/dd/HH}/`,
        errorOutputPrefix: `raw-errors/${connectorId}/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/`,
        compressionFormat: 'GZIP',
        fileExtension: '.jsonl.gz',
        bufferingHints: { intervalInSeconds: 900, sizeInMBs: 128 },
        encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: context.key.keyArn } },
        cloudWatchLoggingOptions: {
          enabled: true,
          logGroupName: logGroup.logGroupName,
          logStreamName: logStream.logStreamName,
        },
      },
    });
    // Firehose checks its role when the stream is created: the policy must be there first.
    stream.node.addDependency(policy);
    streams[connectorId] = stream;
  }
  return { bucket, streams, streamPrefix: props.streamPrefix };
}

/**
 * PutRecord and PutRecordBatch on one connector's stream, and `OMNIHUB_RAW_STREAM_PREFIX` to find it.
 * The stream is encrypted by Firehose with its own grant on the key: the producer needs no KMS
 * permission.
 */
export function grantRawArchive(
  fn: lambda.Function,
  archive: HubRawArchive,
  connectorId: string,
  envVar: string,
): boolean {
  const stream = archive.streams[connectorId];
  if (!stream) return false;
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
      resources: [stream.attrArn],
    }),
  );
  fn.addEnvironment(envVar, archive.streamPrefix);
  return true;
}
