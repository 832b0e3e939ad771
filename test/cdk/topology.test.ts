/**
 * The real topology, as the CDK builds it: the proof that the bus rules, routes and queues deployed are
 * the ones `lib/topology.ts` declares (the same module the local hub wires its emulators from).
 */
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, topology, visibilityTimeoutOf } from '../../lib/topology.ts';
import { missingEntries, synthHub, withExistingEntries } from './support.ts';

/** Entries still being written elsewhere are swapped for the stub; the next test names them. */
const buildable = withExistingEntries(topology);

describe('Topology: the real one in CDK', () => {
  it('has every function entry on disk (cdk synth bundles them)', () => {
    expect(missingEntries(topology)).toEqual([]);
  });

  it.each(topology.consumers.map((consumer) => [consumer.id, consumer] as const))(
    'rule %s sits on the hub bus with exactly the topology pattern and feeds its queue',
    (id, consumer) => {
      const { stack, hub, template } = synthHub({ topology: buildable });

      template.hasResourceProperties('AWS::Events::Rule', {
        EventBusName: stack.resolve(hub.bus.eventBusName),
        EventPattern: Match.objectEquals({ ...consumer.pattern }),
        Targets: [
          Match.objectLike({
            Arn: stack.resolve(hub.queues[id]?.queueArn),
            DeadLetterConfig: { Arn: stack.resolve(hub.targetDeadLetterQueues[id]?.queueArn) },
            RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
          }),
        ],
      });
      template.hasResourceProperties('AWS::SQS::Queue', {
        VisibilityTimeout: visibilityTimeoutOf(consumer),
        RedrivePolicy: {
          deadLetterTargetArn: stack.resolve(hub.deadLetterQueues[id]?.queueArn),
          maxReceiveCount: consumer.queue?.maxReceiveCount ?? DEFAULTS.maxReceiveCount,
        },
      });
    },
  );

  it('builds exactly the topology rules, every POST /webhooks/<id> route (public) and every API route (IAM)', () => {
    const { stack, hub, template } = synthHub({ topology: buildable });

    const patterns = Object.values(template.findResources('AWS::Events::Rule')).map(
      (rule) => rule.Properties.EventPattern,
    );
    expect(patterns).toEqual(topology.consumers.map((consumer) => consumer.pattern));
    // The connector registry may still be empty while connectors are being written.
    const routeKeys = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (route) => route.Properties.RouteKey,
    );
    expect(routeKeys).toEqual([
      ...topology.ingest.map((route) => `POST /webhooks/${route.connector.id}`),
      ...topology.api.flatMap((api) => api.routes.map((route) => `${route.method} ${route.path}`)),
    ]);
    const authorization = Object.fromEntries(
      Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((route) => [
        route.Properties.RouteKey,
        route.Properties.AuthorizationType,
      ]),
    );
    for (const route of topology.ingest) {
      expect(authorization[`POST /webhooks/${route.connector.id}`]).toBe('NONE');
    }
    for (const api of topology.api) {
      for (const route of api.routes) expect(authorization[`${route.method} ${route.path}`]).toBe('AWS_IAM');
      template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
        IntegrationUri: stack.resolve(hub.functions[api.id]?.functionArn),
        PayloadFormatVersion: '2.0',
      });
    }
    for (const route of topology.ingest) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
        IntegrationUri: stack.resolve(hub.functions[route.connector.id]?.functionArn),
        PayloadFormatVersion: '2.0',
      });
    }
  });

  it('builds the topology tables, on demand with PITR and TTL', () => {
    const { stack, hub, template } = synthHub({ topology: buildable });

    for (const definition of topology.tables) {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: Match.absent(),
        KeySchema: Match.arrayWith([{ AttributeName: definition.partitionKey.name, KeyType: 'HASH' }]),
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: definition.ttlAttribute, Enabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: stack.resolve(hub.key.keyArn) },
      });
    }
  });

  it('passes cdk-nag AwsSolutions with nothing unacknowledged, analytics and monitoring included', () => {
    const { stack, hub } = synthHub({ topology: buildable, analytics: {} });
    expect(hub.analytics).toBeDefined();

    expect(
      new AwsSolutionsChecks().validateScope(stack).violations.map((violation) => violation.ruleName),
    ).toEqual([]);
  });
});
