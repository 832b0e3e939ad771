/**
 * The CDK app as `cdk synth` runs it (bin/app.ts): stage and environment resolution, outputs, and
 * cdk-nag failing the synth on any unacknowledged finding.
 */
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { createApp, PLACEHOLDER_ACCOUNT, PLACEHOLDER_REGION } from '../../bin/app.ts';
import { acme, TEST_CONTEXT, testTopology } from './support.ts';

function appWith(context: Record<string, unknown>, environment: Record<string, string | undefined> = {}) {
  return createApp({
    context: { ...TEST_CONTEXT, ...context },
    environment,
    hub: { topology: testTopology },
  });
}

describe('App: bin/app.ts', () => {
  it('names the stack after the stage and takes account and region from context first', () => {
    const { stack } = appWith(
      { 'omnihub:stage': 'qa', 'omnihub:account': '111122223333', 'omnihub:region': 'eu-west-1' },
      { CDK_DEFAULT_ACCOUNT: '444455556666', CDK_DEFAULT_REGION: 'us-west-2' },
    );

    expect(stack.stackName).toBe('Omnihub-qa');
    expect([stack.account, stack.region]).toEqual(['111122223333', 'eu-west-1']);
    Template.fromStack(stack).hasResourceProperties('AWS::Events::EventBus', { Name: 'omnihub-test-qa' });
  });

  it('takes connectors, destinations, the alarm topic, a custom domain and analytics from context', () => {
    const { stack } = appWith({
      'omnihub:connectors': '',
      'omnihub:destinations': 'hubspot,sendgrid',
      'omnihub:alarmTopicArn': 'arn:aws:sns:us-east-1:111122223333:pager',
      'omnihub:domainName': 'hooks.example.com',
      'omnihub:certificateArn': 'arn:aws:acm:us-east-1:111122223333:certificate/abc',
      'omnihub:analytics': 'false',
    });
    expect(stack.hub.topology.ingest).toEqual([]);
    expect(stack.hub.topology.consumers.flatMap((c) => (c.destination ? [c.destination] : []))).toEqual([
      'hubspot',
      'sendgrid',
    ]);
    expect(stack.hub.analytics).toBeUndefined();
    expect(stack.hub.publicUrl).toBe('https://hooks.example.com');
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.hasOutput('AlarmTopicArn', { Value: 'arn:aws:sns:us-east-1:111122223333:pager' });
    expect(() => appWith({ 'omnihub:domainName': 'hooks.example.com' })).toThrow(/go together/);
  });

  it('synthesizes the same template twice (a second synth shows no diff)', () => {
    const context = {
      'omnihub:stage': 'prod',
      'omnihub:account': '111122223333',
      'omnihub:region': 'eu-west-1',
    };
    const first = Template.fromStack(appWith(context).stack).toJSON();
    const second = Template.fromStack(appWith(context).stack).toJSON();
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
  });

  it('falls back to the CLI credentials environment', () => {
    const { stack } = appWith({}, { CDK_DEFAULT_ACCOUNT: '444455556666', CDK_DEFAULT_REGION: 'us-west-2' });

    expect(stack.stackName).toBe('Omnihub-dev');
    expect([stack.account, stack.region]).toEqual(['444455556666', 'us-west-2']);
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('Not deployable'));
  });

  it('synthesizes offline with placeholders, and says so', () => {
    const { stack } = appWith({});

    expect([stack.account, stack.region]).toEqual([PLACEHOLDER_ACCOUNT, PLACEHOLDER_REGION]);
    Annotations.fromStack(stack).hasWarning(
      `/${stack.stackName}`,
      Match.stringLikeRegexp(
        `No account or region from context or credentials: synthesized for ${PLACEHOLDER_ACCOUNT}/${PLACEHOLDER_REGION}`,
      ),
    );
  });

  it('outputs the API URL, bus name, table names, and per connector its webhook URL and secret', () => {
    const { stack } = appWith({});
    const { hub } = stack;
    const template = Template.fromStack(stack);

    template.hasOutput('ApiUrl', { Value: stack.resolve(hub.publicUrl) });
    template.hasOutput('BusName', { Value: stack.resolve(hub.bus.eventBusName) });
    template.hasOutput('IdempotencyTableName', { Value: stack.resolve(hub.tables.idempotency?.tableName) });
    template.hasOutput('ProfilesTableName', { Value: stack.resolve(hub.tables.profiles?.tableName) });
    template.hasOutput('AcmeWebhookUrl', {
      Value: { 'Fn::Join': ['', [stack.resolve(hub.api.apiEndpoint), `/webhooks/${acme.id}`]] },
    });
    template.hasOutput('AcmeSecretArn', { Value: stack.resolve(hub.secrets[acme.id]?.secretArn) });
  });

  it('synthesizes with the cdk-nag plugin and nothing unacknowledged', () => {
    const { app } = appWith({});

    expect(() => app.synth()).not.toThrow();
  });

  it.each([
    [
      'an error',
      'AwsSolutions-SQS4',
      (stack: ReturnType<typeof appWith>['stack']) => new sqs.Queue(stack, 'Plain'),
    ],
    [
      'a warning',
      'AwsSolutions-DDB3',
      (stack: ReturnType<typeof appWith>['stack']) =>
        new dynamodb.Table(stack, 'NoRecovery', {
          partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
        }),
    ],
  ])('fails the synth on %s (%s) nobody acknowledged', (_level, ruleId, addOffendingResource) => {
    const { app, stack } = appWith({});
    addOffendingResource(stack);

    expect(() => app.synth()).toThrow(ruleId);
  });
});
