/**
 * The custom bus canonical events travel on, its dead-letter queue for events it cannot process, and
 * the archive that keeps every `omnihub.*` event for replay.
 */
import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { EVENT_SOURCE_PREFIX } from '../../core/events/envelope.ts';

export interface HubBusProps {
  readonly busName: string;
  readonly key: kms.IKey;
  readonly removalPolicy: RemovalPolicy;
  readonly archiveRetentionDays: number;
}

export interface HubBus {
  readonly bus: events.EventBus;
  readonly deadLetterQueue: sqs.Queue;
  readonly archive: events.Archive;
}

/** `BusDeadLetterQueue`, `Bus`, `BusByName` and `Archive` under `hub`. */
export function createBus(hub: Construct, props: HubBusProps): HubBus {
  const deadLetterQueue = new sqs.Queue(hub, 'BusDeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy: props.removalPolicy,
  });
  const bus = new events.EventBus(hub, 'Bus', {
    eventBusName: props.busName,
    description: 'Canonical Omnihub events (CloudEvents-style envelope in `detail`).',
    kmsKey: props.key,
    deadLetterQueue,
  });
  deadLetterQueue.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'EventBridgeBusDeadLetters',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['sqs:SendMessage'],
      resources: [deadLetterQueue.queueArn],
      conditions: { ArnEquals: { 'aws:SourceArn': bus.eventBusArn } },
    }),
  );
  Validations.of(deadLetterQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      'This queue is itself a dead-letter queue: the event bus DeadLetterConfig, which cdk-nag does not follow.',
  });

  // The archive refers to the bus by its formatted ARN, not by GetAtt: its key-policy statement would
  // otherwise make the key depend on the bus while the bus depends on the key (a cycle).
  const archive = new events.Archive(hub, 'Archive', {
    sourceEventBus: events.EventBus.fromEventBusName(hub, 'BusByName', props.busName),
    description: `Every ${EVENT_SOURCE_PREFIX}* event, kept for replay.`,
    eventPattern: { source: events.Match.prefix(EVENT_SOURCE_PREFIX) },
    retention: Duration.days(props.archiveRetentionDays),
    kmsKey: props.key,
  });
  archive.node.addDependency(bus);
  return { bus, deadLetterQueue, archive };
}
