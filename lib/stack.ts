/**
 * Omnihub's own deployable stack: one {@link IntegrationHub} plus the outputs an operator needs to
 * register webhooks and find the data.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { IntegrationHub, type IntegrationHubProps } from './integration-hub.ts';

/**
 * @example
 * const props: OmnihubStackProps = { env: { account: '111122223333', region: 'eu-west-1' }, hub: { stage: 'prod' } };
 */
export interface OmnihubStackProps extends StackProps {
  /**
   * Passed to the hub as given.
   * @default the hub's defaults (the repository's topology, no stage suffix)
   */
  readonly hub?: IntegrationHubProps;
}

/**
 * A deployable stack: one {@link IntegrationHub}, plus outputs for the API URL, bus, tables, each
 * connector's webhook URL and secret.
 *
 * @example
 * new OmnihubStack(app, 'Omnihub-dev', { env, hub: { stage: 'dev' } });
 */
export class OmnihubStack extends Stack {
  public readonly hub: IntegrationHub;

  constructor(scope: Construct, id: string, props: OmnihubStackProps = {}) {
    super(scope, id, props);
    this.hub = new IntegrationHub(this, 'Hub', props.hub);

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL vendors post webhooks to (OMNIHUB_PUBLIC_URL).',
      value: this.hub.publicUrl,
    });
    new CfnOutput(this, 'BusName', {
      description: 'Event bus of canonical events.',
      value: this.hub.bus.eventBusName,
    });
    for (const [tableId, table] of Object.entries(this.hub.tables)) {
      new CfnOutput(this, `${pascalCase(tableId)}TableName`, {
        description: `DynamoDB table '${tableId}'.`,
        value: table.tableName,
      });
    }
    for (const route of this.hub.topology.ingest) {
      new CfnOutput(this, `${pascalCase(route.connector.id)}WebhookUrl`, {
        description: `Register this URL in ${route.connector.name}'s webhook settings.`,
        value: `${this.hub.publicUrl}${route.path}`,
      });
    }
    for (const [connectorId, secret] of Object.entries(this.hub.secrets)) {
      new CfnOutput(this, `${pascalCase(connectorId)}SecretArn`, {
        description: `Put the ${connectorId} webhook secrets (JSON) here.`,
        value: secret.secretArn,
      });
    }
  }
}

/** CloudFormation output ids are alphanumeric: `profile-writer` -> `ProfileWriter`. */
function pascalCase(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');
}
