/**
 * The deployment settings functions read from their environment: set by props on every hub function,
 * checked at synth time, and never a way to put a secret or a hub-owned variable into the template.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../bin/app.ts';
import { HubSettingsError, IntegrationHub, type IntegrationHubProps } from '../../lib/integration-hub.ts';
import { TEST_CONTEXT } from './support.ts';

function hubFunctions(props: IntegrationHubProps) {
  const app = new App({ context: TEST_CONTEXT });
  const stack = new Stack(app, 'Test', { env: { account: '111122223333', region: 'eu-west-1' } });
  const hub = new IntegrationHub(stack, 'Hub', { stage: 'test', analytics: false, ...props });
  const template = Template.fromStack(stack);
  return {
    hub,
    template,
    ids: Object.values(hub.functions).map((fn) => stack.getLogicalId(fn.node.defaultChild as never)),
  };
}

function environmentOf(template: Template, logicalId: string): Record<string, unknown> {
  const resource = template.toJSON().Resources[logicalId] as {
    Properties: { Environment?: { Variables?: Record<string, unknown> } };
  };
  return resource.Properties.Environment?.Variables ?? {};
}

describe('IntegrationHub: deployment settings', () => {
  it('sets the phone region, timeline retention and passed-through settings on every hub function', () => {
    const { template, ids } = hubFunctions({
      defaultPhoneRegion: 'GB',
      timelineRetentionDays: 90,
      functionEnvironment: {
        SENDGRID_SIGNATURE_MAX_AGE_SECONDS: '86400',
        HUBSPOT_API_URL: 'https://sandbox.example',
      },
    });
    expect(ids.length).toBeGreaterThan(5);
    for (const id of ids) {
      expect(environmentOf(template, id)).toMatchObject({
        OMNIHUB_DEFAULT_REGION: 'GB',
        OMNIHUB_TIMELINE_RETENTION_DAYS: '90',
        SENDGRID_SIGNATURE_MAX_AGE_SECONDS: '86400',
        HUBSPOT_API_URL: 'https://sandbox.example',
      });
    }
  });

  it('leaves the defaults to the code that reads them when no setting is given', () => {
    const { template, ids } = hubFunctions({});
    for (const id of ids) {
      const variables = environmentOf(template, id);
      expect(variables).not.toHaveProperty('OMNIHUB_DEFAULT_REGION');
      expect(variables).not.toHaveProperty('OMNIHUB_TIMELINE_RETENTION_DAYS');
    }
    // The functions' own variables are still there beside the (absent) settings.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'profile-writer' }) },
    });
  });

  it.each<[string, IntegrationHubProps, RegExp]>([
    [
      'a region that is not an ISO code',
      { defaultPhoneRegion: 'uk' },
      /defaultPhoneRegion must be an ISO 3166-1 alpha-2/,
    ],
    ['a retention of no days', { timelineRetentionDays: 0 }, /timelineRetentionDays must be a whole number/],
    [
      'a fractional retention',
      { timelineRetentionDays: 1.5 },
      /timelineRetentionDays must be a whole number/,
    ],
    [
      'a hub variable',
      { functionEnvironment: { OMNIHUB_BUS_NAME: 'other' } },
      /OMNIHUB_BUS_NAME is set by the hub/,
    ],
    ['an AWS variable', { functionEnvironment: { AWS_REGION: 'us-west-2' } }, /AWS_REGION is set by the hub/],
    [
      'NODE_OPTIONS',
      { functionEnvironment: { NODE_OPTIONS: '--inspect' } },
      /NODE_OPTIONS is set by the hub/,
    ],
    [
      'an inbound secret',
      { functionEnvironment: { SHOPIFY_WEBHOOK_SECRET: 'x' } },
      /SHOPIFY_WEBHOOK_SECRET is a connector secret; put it in the connector's Secrets Manager secret/,
    ],
    [
      'an outbound secret',
      { functionEnvironment: { HUBSPOT_ACCESS_TOKEN: 'x' } },
      /HUBSPOT_ACCESS_TOKEN is a connector secret/,
    ],
    [
      'a malformed name',
      { functionEnvironment: { 'NOT A NAME': 'x' } },
      /'NOT A NAME' is not an environment variable name/,
    ],
  ])('refuses %s at synth time', (_, props, message) => {
    expect(() => hubFunctions(props)).toThrow(HubSettingsError);
    expect(() => hubFunctions(props)).toThrow(message);
  });

  it('takes the phone region and retention from the repository app context', () => {
    const { stack } = createApp({
      context: {
        ...TEST_CONTEXT,
        'omnihub:analytics': 'false',
        'omnihub:defaultPhoneRegion': 'DE',
        'omnihub:timelineRetentionDays': '30',
      },
      environment: {},
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'profile-writer',
          OMNIHUB_DEFAULT_REGION: 'DE',
          OMNIHUB_TIMELINE_RETENTION_DAYS: '30',
        }),
      },
    });
  });
});
