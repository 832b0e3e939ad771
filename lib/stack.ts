/**
 * Omnihub's own deployable stack: one {@link IntegrationHub} plus the outputs an operator needs to
 * register webhooks and find the data.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { IntegrationHub, type IntegrationHubProps } from './integration-hub.ts';
import { pascalCase } from './naming.ts';

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
  /**
   * An existing SNS topic for alarms (e.g. your paging tool's), by ARN.
   * @default the hub creates an encrypted topic
   */
  readonly alarmTopicArn?: string;
  /**
   * Serve the API on your domain with an ACM certificate (in the stack's region), by ARN.
   * @default the execute-api endpoint
   */
  readonly customDomain?: { readonly domainName: string; readonly certificateArn: string };
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
    this.hub = new IntegrationHub(this, 'Hub', {
      ...props.hub,
      ...(props.alarmTopicArn
        ? { alarmTopic: sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn) }
        : {}),
      ...(props.customDomain
        ? {
            customDomain: {
              domainName: props.customDomain.domainName,
              certificate: acm.Certificate.fromCertificateArn(
                this,
                'Certificate',
                props.customDomain.certificateArn,
              ),
            },
          }
        : {}),
    });

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL vendors post webhooks to (OMNIHUB_PUBLIC_URL).',
      value: this.hub.publicUrl,
    });
    new CfnOutput(this, 'BusName', {
      description: 'Event bus of canonical events.',
      value: this.hub.bus.eventBusName,
    });
    new CfnOutput(this, 'RawArchiveBucketName', {
      description: 'Every verified webhook as received, under raw/<connector>/ (omnihub retranslate --aws).',
      value: this.hub.rawArchive.bucket.bucketName,
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
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'Subscribe to this topic to receive Omnihub alarms.',
      value: this.hub.monitoring.alarmTopic.topicArn,
    });
    new CfnOutput(this, 'DashboardName', {
      description: 'The CloudWatch dashboard of this hub.',
      value: this.hub.monitoring.dashboard.dashboardName,
    });
    if (this.hub.analytics) {
      new CfnOutput(this, 'AthenaWorkGroup', {
        description: 'Athena workgroup for SQL over profiles and events (docs/analytics.md).',
        value: this.hub.analytics.workGroupName,
      });
      new CfnOutput(this, 'GlueDatabase', {
        description: 'Glue database with the profiles, identities, events, orders and consent tables.',
        value: this.hub.analytics.databaseName,
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
