/**
 * The hub's one customer-managed key, with the service statements the services that encrypt with it
 * need (CloudWatch Logs, EventBridge delivering to encrypted queues).
 */
import { ArnFormat, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

/** The key `Key` under `hub`, rotation on. */
export function createHubKey(hub: Construct, removalPolicy: RemovalPolicy): kms.Key {
  const key = new kms.Key(hub, 'Key', {
    description: 'Omnihub: encryption at rest for tables, queues, bus, archive, secrets and logs.',
    enableKeyRotation: true,
    removalPolicy,
  });
  // CloudWatch Logs encrypts log groups as the regional logs service, not as the caller.
  const stack = Stack.of(hub);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchLogsEncryption',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
  );
  // EventBridge itself writes to the CMK-encrypted consumer queues and their target DLQs. The key
  // policy cannot name the rules (they depend on the queues, which depend on the key), so it is
  // limited to this account; each queue policy then admits only its own rule.
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'EventBridgeToEncryptedQueues',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
  );
  return key;
}
