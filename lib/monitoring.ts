/**
 * Alarms and one dashboard for an integration hub (`IntegrationHub` builds one for itself): what an on-call engineer needs to see that
 * webhooks are accepted, events reach their consumers and nothing piles up in a dead-letter queue.
 *
 * Alarms (each notifies the alarm topic, in alarm and back to OK):
 * - every dead-letter queue (consumer DLQs, rule-target DLQs, the bus DLQ): any visible message;
 * - the HTTP API: any 5xx in a 5-minute period (ingest or profile API failing: vendors will retry);
 * - every bus rule: EventBridge `FailedInvocations` (events that could not be put on the queue);
 * - every function: `Throttles` and `Errors`;
 * - every connector: `DeliveriesQuarantined` (verified deliveries its schema or translator refused:
 *   kept, answered 2xx, waiting for a fix and `omnihub retranslate --quarantined`);
 * - every raw archive stream: `DeliveryToS3.DataFreshness` over twice its 15-minute buffer (Firehose
 *   cannot write to the bucket; it keeps records 24 hours).
 */
import { Duration, Fn, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { pascalCase } from './naming.ts';
import type { Topology } from './topology.ts';

/** The parts of a hub that are watched: what `IntegrationHub` exposes, by the same names. */
export interface MonitoredHub {
  readonly key: kms.IKey;
  readonly bus: events.IEventBus;
  readonly busDeadLetterQueue: sqs.IQueue;
  readonly api: apigwv2.IHttpApi;
  readonly topology: Topology;
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly queues: Readonly<Record<string, sqs.IQueue>>;
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  readonly targetDeadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  readonly rules: Readonly<Record<string, events.CfnRule>>;
  /** The raw archive's Firehose streams, by connector id. */
  readonly rawArchive?: { readonly streams: Readonly<Record<string, { readonly ref: string }>> };
}

export interface HubMonitoringProps {
  readonly hub: MonitoredHub;
  /**
   * Where alarms notify (e.g. a topic your paging tool subscribes to).
   * @default a new topic encrypted with the hub key
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Name of the CloudWatch dashboard.
   * @default CloudFormation generates one
   */
  readonly dashboardName?: string;
}

const PERIOD = Duration.minutes(5);

export class HubMonitoring extends Construct {
  public readonly alarmTopic: sns.ITopic;
  public readonly alarms: readonly cloudwatch.Alarm[];
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: HubMonitoringProps) {
    super(scope, id);
    const { hub } = props;
    this.alarmTopic = props.alarmTopic ?? this.createTopic(hub);
    const alarms: cloudwatch.Alarm[] = [];
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string, threshold = 1) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(new actions.SnsAction(this.alarmTopic));
      created.addOkAction(new actions.SnsAction(this.alarmTopic));
      alarms.push(created);
      return created;
    };
    const depth = (queue: sqs.IQueue) =>
      queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' });

    const deadLetters: [string, sqs.IQueue, string][] = [
      [
        'BusDeadLetters',
        hub.busDeadLetterQueue,
        'Events the bus could not process (encryption failure). See docs/operations.md.',
      ],
    ];
    for (const [consumerId, queue] of Object.entries(hub.deadLetterQueues)) {
      deadLetters.push([
        `${pascalCase(consumerId)}DeadLetters`,
        queue,
        `Messages ${consumerId} failed to process after every retry: inspect with \`npx omnihub dlq list\`, redrive after the fix.`,
      ]);
    }
    for (const [consumerId, queue] of Object.entries(hub.targetDeadLetterQueues)) {
      deadLetters.push([
        `${pascalCase(consumerId)}TargetDeadLetters`,
        queue,
        `Events the bus could not deliver to the ${consumerId} queue.`,
      ]);
    }
    for (const [alarmId, queue, description] of deadLetters) alarm(alarmId, depth(queue), description);

    const api5xx = new cloudwatch.Metric({
      namespace: 'AWS/ApiGateway',
      metricName: '5xx',
      dimensionsMap: { ApiId: hub.api.apiId, Stage: '$default' },
      statistic: 'Sum',
      period: PERIOD,
    });
    alarm(
      'Api5xx',
      api5xx,
      'The HTTP API answered 5xx: vendors will retry, but ingest or the profile API is failing.',
    );

    const failedInvocations: cloudwatch.IMetric[] = [];
    for (const [consumerId, rule] of Object.entries(hub.rules)) {
      const metric = new cloudwatch.Metric({
        namespace: 'AWS/Events',
        metricName: 'FailedInvocations',
        // Ref of a rule on a custom bus is `<bus name>|<rule name>`.
        dimensionsMap: {
          EventBusName: hub.bus.eventBusName,
          RuleName: Fn.select(1, Fn.split('|', rule.ref)),
        },
        statistic: 'Sum',
        period: PERIOD,
      });
      failedInvocations.push(metric.with({ label: consumerId }));
      alarm(
        `${pascalCase(consumerId)}FailedInvocations`,
        metric,
        `The bus failed to deliver events to the ${consumerId} queue.`,
      );
    }

    const errors: cloudwatch.IMetric[] = [];
    const throttles: cloudwatch.IMetric[] = [];
    for (const [functionId, fn] of Object.entries(hub.functions)) {
      // Alarms on unlabelled metrics (a label turns the alarm into a metric-math alarm); graphs label them.
      const functionErrors = fn.metricErrors({ period: PERIOD, statistic: 'Sum' });
      const functionThrottles = fn.metricThrottles({ period: PERIOD, statistic: 'Sum' });
      errors.push(functionErrors.with({ label: functionId }));
      throttles.push(functionThrottles.with({ label: functionId }));
      alarm(
        `${pascalCase(functionId)}Errors`,
        functionErrors,
        `The ${functionId} function failed invocations.`,
      );
      alarm(
        `${pascalCase(functionId)}Throttles`,
        functionThrottles,
        `The ${functionId} function is throttled (concurrency).`,
      );
    }
    const connectorIds = hub.topology.ingest.map((route) => route.connector.id);
    const connectorMetric = (metricName: string, connectorId: string) =>
      new cloudwatch.Metric({
        namespace: 'Omnihub',
        metricName,
        dimensionsMap: { service: 'omnihub-ingest', connector: connectorId },
        statistic: 'Sum',
        period: PERIOD,
      });
    for (const connectorId of connectorIds) {
      alarm(
        `${pascalCase(connectorId)}Quarantined`,
        connectorMetric('DeliveriesQuarantined', connectorId),
        `${connectorId} deliveries failed their schema or translator and were quarantined: \`npx omnihub quarantine list --connector ${connectorId}\`, fix the connector, then \`npx omnihub retranslate --quarantined\`.`,
      );
    }
    for (const [connectorId, stream] of Object.entries(hub.rawArchive?.streams ?? {})) {
      alarm(
        `${pascalCase(connectorId)}RawArchiveFreshness`,
        new cloudwatch.Metric({
          namespace: 'AWS/Firehose',
          metricName: 'DeliveryToS3.DataFreshness',
          // Ref of a delivery stream is its name.
          dimensionsMap: { DeliveryStreamName: stream.ref },
          statistic: 'Maximum',
          period: PERIOD,
        }),
        `The ${connectorId} raw archive stream has not written to S3 for 30 minutes (it keeps records 24 hours): see its delivery logs.`,
        1800,
      );
    }
    this.alarms = alarms;

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      ...(props.dashboardName ? { dashboardName: props.dashboardName } : {}),
      defaultInterval: Duration.hours(3),
    });
    const labelled = (metricName: string, connectorId: string) =>
      connectorMetric(metricName, connectorId).with({ label: `${connectorId} ${metricName}` });
    const destinationIds = hub.topology.consumers.flatMap((consumer) =>
      consumer.destination ? [consumer.destination] : [],
    );
    const destinationMetric = (metricName: string, destination: string) =>
      new cloudwatch.Metric({
        namespace: 'Omnihub',
        metricName,
        dimensionsMap: { service: 'omnihub-sync', destination },
        statistic: 'Sum',
        period: PERIOD,
        label: `${destination} ${metricName}`,
      });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          '# Omnihub\nWebhooks in, canonical events on the bus, consumers (profile writer, sync) behind queues. Runbook: docs/operations.md.',
        width: 24,
        height: 2,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24, height: 4 }),
      new cloudwatch.GraphWidget({
        title: 'Webhooks received / published per connector',
        left: connectorIds.map((connectorId) => labelled('WebhooksReceived', connectorId)),
        right: connectorIds.map((connectorId) => labelled('EventsPublished', connectorId)),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Deliveries quarantined per connector',
        left: connectorIds.map((connectorId) => labelled('DeliveriesQuarantined', connectorId)),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'HTTP API: requests, 4xx, 5xx, latency p99',
        left: ['Count', '4xx', '5xx'].map(
          (metricName) =>
            new cloudwatch.Metric({
              namespace: 'AWS/ApiGateway',
              metricName,
              dimensionsMap: { ApiId: hub.api.apiId, Stage: '$default' },
              statistic: 'Sum',
              period: PERIOD,
            }),
        ),
        right: [
          new cloudwatch.Metric({
            namespace: 'AWS/ApiGateway',
            metricName: 'Latency',
            dimensionsMap: { ApiId: hub.api.apiId, Stage: '$default' },
            statistic: 'p99',
            period: PERIOD,
          }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Sync per destination: delivered / retried, throttled, deferred, dead-lettered',
        left: destinationIds.map((destination) => destinationMetric('SyncDelivered', destination)),
        right: destinationIds.flatMap((destination) =>
          ['VendorRetries', 'VendorThrottled', 'SyncDeferred', 'SyncDeadLettered'].map((metricName) =>
            destinationMetric(metricName, destination),
          ),
        ),
        width: 24,
      }),
      new cloudwatch.GraphWidget({ title: 'Function errors', left: errors, width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Function throttles', left: throttles, width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Bus rule failed invocations', left: failedInvocations, width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Queue depth (visible) and oldest message age',
        left: Object.entries(hub.queues).map(([consumerId, queue]) =>
          queue.metricApproximateNumberOfMessagesVisible({
            period: PERIOD,
            statistic: 'Maximum',
            label: consumerId,
          }),
        ),
        right: Object.entries(hub.queues).map(([consumerId, queue]) =>
          queue.metricApproximateAgeOfOldestMessage({
            period: PERIOD,
            statistic: 'Maximum',
            label: consumerId,
          }),
        ),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead letters (visible)',
        left: deadLetters.map(([alarmId, queue]) =>
          queue.metricApproximateNumberOfMessagesVisible({
            period: PERIOD,
            statistic: 'Maximum',
            label: alarmId,
          }),
        ),
        width: 12,
      }),
    );
  }

  private createTopic(hub: MonitoredHub): sns.Topic {
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Omnihub alarms',
      masterKey: hub.key,
      enforceSSL: true,
    });
    // CloudWatch publishes to the CMK-encrypted topic as the cloudwatch service.
    hub.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsToEncryptedTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    return topic;
  }
}
