/**
 * What the hub builds so that nothing verified is lost: the quarantine table, its least-privilege
 * grant to the ingest functions, and the alarm on quarantined deliveries.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { quarantineTable } from '../../core/tables.ts';
import { acme, forService, propertiesOf, statementsOf, synthHub } from './support.ts';

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
});
