/** Alarms and the dashboard every IntegrationHub builds (lib/monitoring.ts), on the test topology. */

import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { IntegrationHub } from '../../lib/integration-hub.ts';
import { synthHub, TEST_CONTEXT, testTopology } from './support.ts';

const alarmsOf = (template: Template) =>
  Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
    (alarm) => alarm.Properties as Record<string, unknown>,
  );

describe('Monitoring of the hub', () => {
  it('alarms on every dead-letter queue: consumer DLQs, rule-target DLQs and the bus DLQ', () => {
    const { stack, hub, template } = synthHub();
    const watched = alarmsOf(template)
      .filter((alarm) => alarm.MetricName === 'ApproximateNumberOfMessagesVisible')
      .map((alarm) => JSON.stringify(alarm.Dimensions));
    const queues = [
      hub.busDeadLetterQueue,
      ...Object.values(hub.deadLetterQueues),
      ...Object.values(hub.targetDeadLetterQueues),
    ];
    expect(watched).toHaveLength(queues.length);
    for (const queue of queues) {
      expect(watched).toContain(
        JSON.stringify([{ Name: 'QueueName', Value: stack.resolve(queue.queueName) }]),
      );
    }
  });

  it('alarms on API 5xx, FailedInvocations of every rule, and errors and throttles of every function', () => {
    const { hub, template } = synthHub();
    const alarms = alarmsOf(template);
    const count = (metricName: string) => alarms.filter((alarm) => alarm.MetricName === metricName).length;
    expect(count('5xx')).toBe(1);
    expect(count('FailedInvocations')).toBe(Object.keys(hub.rules).length);
    expect(count('Errors')).toBe(Object.keys(hub.functions).length);
    expect(count('Throttles')).toBe(Object.keys(hub.functions).length);
    for (const alarm of alarms) {
      // Counts alarm at 1; the raw archive's freshness (seconds) at twice its 15-minute buffer.
      const threshold = alarm.MetricName === 'DeliveryToS3.DataFreshness' ? 1800 : 1;
      expect(alarm).toMatchObject({
        Threshold: threshold,
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
      expect(alarm.AlarmActions).toHaveLength(1);
      expect(alarm.OKActions).toHaveLength(1);
    }
  });

  it('creates an encrypted, TLS-only alarm topic by default, and uses the given one otherwise', () => {
    const { stack, hub, template } = synthHub();
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: stack.resolve(hub.key.keyArn) });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });

    const pager = 'arn:aws:sns:eu-west-1:111122223333:pager';
    const app = new App({ context: TEST_CONTEXT });
    const own = new Stack(app, 'Own');
    new IntegrationHub(own, 'Hub', {
      topology: testTopology,
      analytics: false,
      alarmTopic: sns.Topic.fromTopicArn(own, 'Pager', pager),
    });
    const given = Template.fromStack(own);
    given.resourceCountIs('AWS::SNS::Topic', 0);
    for (const alarm of alarmsOf(given)) expect(alarm.AlarmActions).toEqual([pager]);
  });

  it('builds one dashboard with ingest and per-destination sync metrics, and passes cdk-nag AwsSolutions', () => {
    const { stack, template } = synthHub();
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]);
    for (const metric of [
      'WebhooksReceived',
      'EventsPublished',
      'SyncDelivered',
      'VendorThrottled',
      'SyncDeadLettered',
    ]) {
      expect(body).toContain(metric);
    }
    expect(
      new AwsSolutionsChecks().validateScope(stack).violations.map((violation) => violation.ruleName),
    ).toEqual([]);
  });
});
