/**
 * A consumer of canonical events: bus rule -> SQS queue (with its DLQ) -> Lambda with partial batch
 * failures, plus the rule target's own dead-letter queue for events EventBridge could not deliver.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { type ConsumerDefinition, DEFAULTS, retentionOf, visibilityTimeoutOf } from '../topology.ts';
import { createHubFunction, type HubWiring } from './functions.ts';
import { grantSecretRead } from './grants.ts';
import type { DeliveryRetry } from './props.ts';
import { createPlaceholderSecret } from './secrets.ts';
import { TopologyError } from './topology-checks.ts';

export interface HubConsumer {
  readonly fn: NodejsFunction;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly targetDeadLetterQueue: sqs.Queue;
  readonly rule: events.CfnRule;
}

/**
 * `DeadLetterQueue`, `Queue`, `TargetDeadLetterQueue`, `Rule`, the function and, for a consumer that
 * reads a connector secret not built by the ingest side, `Secret`, under `scope`.
 *
 * @param connectorSecrets the connector secrets the ingest routes created, by connector id.
 */
export function createConsumer(
  scope: Construct,
  hub: HubWiring,
  consumer: ConsumerDefinition,
  retry: Required<DeliveryRetry>,
  connectorSecrets: ReadonlyMap<string, secretsmanager.Secret>,
): HubConsumer {
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
    encryptionMasterKey: hub.key,
    enforceSSL: true,
    retentionPeriod: Duration.seconds(DEFAULTS.deadLetterRetentionSeconds),
    removalPolicy: hub.removalPolicy,
  });
  const queue = new sqs.Queue(scope, 'Queue', {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: hub.key,
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
    encryptionMasterKey: hub.key,
    enforceSSL: true,
    retentionPeriod: Duration.seconds(DEFAULTS.deadLetterRetentionSeconds),
    removalPolicy: hub.removalPolicy,
  });
  Validations.of(targetDeadLetterQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is itself a dead-letter queue: the DeadLetterConfig of the '${consumer.id}' bus rule target, which cdk-nag does not follow.`,
  });

  // L1 on purpose: the L2 Rule takes a camelCase EventPattern and rewrites keys; this passes the
  // topology's pattern byte for byte, exactly as the local hub matches it.
  const rule = new events.CfnRule(scope, 'Rule', {
    description: consumer.description.slice(0, 512),
    eventBusName: hub.bus.eventBusName,
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

  const fn = createHubFunction(scope, hub, consumer.description, consumer);
  fn.addEventSource(
    new SqsEventSource(queue, {
      batchSize: consumer.queue?.batchSize ?? DEFAULTS.batchSize,
      maxBatchingWindow: Duration.seconds(
        consumer.queue?.maxBatchingWindowSeconds ?? DEFAULTS.maxBatchingWindowSeconds,
      ),
      reportBatchItemFailures: true,
    }),
  );
  hub.grantAccess(fn, consumer);
  if (consumer.secret) {
    // The connector's own secret when its webhooks are routed here, else one for this consumer.
    const secret =
      connectorSecrets.get(consumer.secret.connector) ??
      createPlaceholderSecret(
        scope,
        hub,
        `Omnihub ${consumer.secret.connector} secrets (JSON keys: ${consumer.secret.names.join(', ')}).`,
        consumer.secret.names,
      );
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: `API credentials are issued by ${consumer.secret.connector} and rotated in its admin; Secrets Manager cannot rotate them.`,
    });
    grantSecretRead(fn, secret, hub.key);
  }
  if (consumer.deadLettersItself) {
    // Refused deliveries go to the DLQ at once, with the reason (core/sync/consumer.ts).
    // (Its queue's GetQueueUrl / GetQueueAttributes come with the event source's consume grant.)
    deadLetterQueue.grantSendMessages(fn);
  }
  return { fn, queue, deadLetterQueue, targetDeadLetterQueue, rule };
}
