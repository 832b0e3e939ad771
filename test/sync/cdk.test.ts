/**
 * Construct: the sync consumers in the CDK stack: one queue, DLQ and rule per destination (pattern
 * exactly the topology's), API credentials from the connector's Secrets Manager secret, and only the
 * access the sync needs (profiles read-only, sync-state read-write, its own DLQ for refused deliveries).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { maxReceiveCountFor } from '../../core/sync/redelivery.ts';
import { IntegrationHub, type IntegrationHubProps } from '../../lib/integration-hub.ts';
import { topology } from '../../lib/topology.ts';
import { TEST_CONTEXT } from '../cdk/support.ts';

function build(props: Partial<IntegrationHubProps> = {}) {
  const app = new App({ context: TEST_CONTEXT });
  const stack = new Stack(app, 'Test', { env: { account: '111122223333', region: 'eu-west-1' } });
  const hub = new IntegrationHub(stack, 'Hub', { stage: 'test', ...props });
  return { hub, stack, template: Template.fromStack(stack) };
}

/** The CloudFormation properties of one consumer's queue. */
function queueProperties(template: Template, stack: Stack, hub: IntegrationHub, id: string) {
  const queues = template.findResources('AWS::SQS::Queue');
  const logicalId = stack.resolve(hub.queues[id]?.queueArn)['Fn::GetAtt'][0] as string;
  return queues[logicalId]?.Properties as {
    MessageRetentionPeriod: number;
    RedrivePolicy: { maxReceiveCount: number; deadLetterTargetArn: unknown };
  };
}

const DESTINATIONS = ['hubspot', 'shopify', 'square', 'sendgrid'] as const;

describe('Construct: IntegrationHub sync consumers', () => {
  it.each(DESTINATIONS)('sync-%s: rule pattern excludes its own changes at the bus', (id) => {
    const { hub, stack } = build();
    const pattern = stack.resolve(hub.rules[`sync-${id}`]?.eventPattern);
    expect(pattern).toEqual({
      source: ['omnihub.profiles'],
      $or: [
        {
          'detail-type': ['profile.updated'],
          detail: { data: { causedBy: { connector: [{ 'anything-but': id }] } } },
        },
        { 'detail-type': ['profile.merged'] },
      ],
    });
    expect(topology.consumers.find((consumer) => consumer.id === `sync-${id}`)?.pattern).toEqual(pattern);
  });

  it.each(DESTINATIONS)(
    'sync-%s reads its connector secret, and the secret lists the API credentials',
    (id) => {
      const { hub, stack, template } = build();
      const fn = hub.functions[`sync-${id}`];
      const secret = hub.secrets[id];
      if (!fn || !secret) throw new Error(`missing sync-${id} or the ${id} secret`);
      const environment = stack.resolve((fn.node.defaultChild as { environment?: unknown }).environment) as {
        variables: Record<string, unknown>;
      };
      expect(environment.variables.OMNIHUB_SECRET_ARN).toEqual(stack.resolve(secret.secretArn));
      expect(JSON.parse(String(environment.variables.OMNIHUB_SYNC_CONFIG))).toMatchObject({
        owners: { company: 'hubspot' },
        delivery: { maxAttempts: 5 },
      });
      const names = Object.keys(
        JSON.parse(
          String(
            (stack.resolve(
              (secret.node.defaultChild as { generateSecretString?: unknown; secretString?: unknown })
                .secretString,
            ) as string) ?? '{}',
          ),
        ),
      );
      const expected: Record<string, string> = {
        hubspot: 'HUBSPOT_ACCESS_TOKEN',
        shopify: 'SHOPIFY_ADMIN_TOKEN',
        square: 'SQUARE_ACCESS_TOKEN',
        sendgrid: 'SENDGRID_API_KEY',
      };
      expect(names).toContain(expected[id]);
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp(`Consumerssync${id}Role`) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'secretsmanager:GetSecretValue',
              Resource: stack.resolve(secret.secretArn),
            }),
          ]),
        },
      });
    },
  );

  it.each(DESTINATIONS)(
    'sync-%s: the redrive allows the receives of 24 h of redeliveries, the queue keeps messages 4 days',
    (id) => {
      const { hub, stack, template } = build();
      const queue = queueProperties(template, stack, hub, `sync-${id}`);
      // 197 receives at the shortest waits (redelivery.test.ts), and 5 for other failures.
      expect(queue.RedrivePolicy.maxReceiveCount).toBe(202);
      expect(queue.RedrivePolicy.deadLetterTargetArn).toEqual(
        stack.resolve(hub.deadLetterQueues[`sync-${id}`]?.queueArn),
      );
      expect(queue.MessageRetentionPeriod).toBe(4 * 86_400);
    },
  );

  it('a longer retryFor raises the redrive count and keeps messages a day longer than it', () => {
    const { hub, stack, template } = build({
      sync: { delivery: { retryFor: '7d', redeliveryDelay: { first: '1m', max: '1h' } } },
    });
    const queue = queueProperties(template, stack, hub, 'sync-hubspot');
    expect(queue.RedrivePolicy.maxReceiveCount).toBe(
      maxReceiveCountFor({ retryForMs: 7 * 86_400_000, firstDelayMs: 60_000, maxDelayMs: 3_600_000 }),
    );
    expect(queue.RedrivePolicy.maxReceiveCount).toBeGreaterThan(300);
    expect(queue.MessageRetentionPeriod).toBe(8 * 86_400);
    // The profile writer's queue is not a sync queue: SQS's defaults.
    expect(queueProperties(template, stack, hub, 'profile-writer').RedrivePolicy.maxReceiveCount).toBe(5);
  });

  it('sync functions read profiles but never write them, write sync-state, and may send to their own DLQ', () => {
    const { hub, stack, template } = build();
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('Consumerssynchubspot') }] },
    });
    const statements = Object.values(policies).flatMap(
      (policy) =>
        (
          policy as {
            Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } };
          }
        ).Properties.PolicyDocument.Statement,
    );
    const onTable = (id: string) => {
      const arn = stack.resolve(hub.tables[id]?.tableArn);
      return statements
        .filter((statement) => JSON.stringify(statement.Resource).includes(JSON.stringify(arn)))
        .flatMap((statement) => [statement.Action].flat());
    };
    expect(onTable('profiles')).toContain('dynamodb:GetItem');
    expect(onTable('profiles')).not.toContain('dynamodb:PutItem');
    expect(onTable('sync-state')).toContain('dynamodb:PutItem');
    const dlqArn = stack.resolve(hub.deadLetterQueues['sync-hubspot']?.queueArn);
    const onDlq = statements
      .filter((statement) => JSON.stringify(statement.Resource) === JSON.stringify(dlqArn))
      .flatMap((statement) => [statement.Action].flat());
    expect(onDlq).toContain('sqs:SendMessage');
    // Another destination's DLQ is out of reach.
    const otherDlq = JSON.stringify(stack.resolve(hub.deadLetterQueues['sync-square']?.queueArn));
    expect(statements.some((statement) => JSON.stringify(statement.Resource) === otherDlq)).toBe(false);
  });
});
