/**
 * Access for a function, granted and wired together: each grant also sets the environment variable
 * that leads the function to what it was granted, so access and wiring can never disagree.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { TableDefinition } from '../../core/tables.ts';
import { ENV, type FunctionAccess } from '../topology.ts';
import { grantRawArchive, type HubRawArchive } from './raw-archive.ts';
import { TopologyError } from './topology-checks.ts';

/** What a function can be granted: the hub's tables (with their definitions), its bus, its raw archive. */
export interface GrantableResources {
  readonly tables: Readonly<Record<string, dynamodb.Table>>;
  readonly tableDefinitions: ReadonlyMap<string, TableDefinition>;
  readonly bus: events.IEventBus;
  readonly rawArchive?: HubRawArchive;
}

/** The implementation of `IntegrationHub.grantAccess`; `hub` scopes the cdk-nag references. */
export function grantFunctionAccess(
  hub: Construct,
  resources: GrantableResources,
  fn: lambda.Function,
  access: FunctionAccess,
): void {
  for (const [tableId, level] of Object.entries(access.tables ?? {})) {
    const table = resources.tables[tableId];
    const definition = resources.tableDefinitions.get(tableId);
    if (!table || !definition) {
      throw new TopologyError(
        `${fn.node.path} needs table '${tableId}', which the topology does not declare.`,
      );
    }
    if (level === 'read') {
      table.grantReadData(fn);
    } else if (level === 'put') {
      // PutItem only: no reads, updates or deletes. The key as DynamoDB uses it to encrypt the item.
      table.grant(fn, 'dynamodb:PutItem');
      table.encryptionKey?.grant(fn, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*');
      Validations.of(fn.role ?? fn).acknowledge({
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason: `DynamoDB writes to '${tableId}' need data keys from the hub key; the statement is scoped to that one key ARN.`,
      });
    } else {
      table.grantReadWriteData(fn);
      Validations.of(fn.role ?? fn).acknowledge(
        {
          id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
          reason: `DynamoDB writes to '${tableId}' need data keys from the hub key; the statement is scoped to that one key ARN.`,
        },
        {
          id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
          reason: `CDK's DynamoDB write grant on the CMK-encrypted '${tableId}' table; scoped to the hub key ARN only.`,
        },
      );
    }
    if (definition.globalSecondaryIndexes?.length) {
      Validations.of(fn.role ?? fn).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagReference(hub, table.tableArn)}/index/*]`,
        reason: `Queries on the '${tableId}' table's own secondary indexes; no other table is reachable.`,
      });
    }
    fn.addEnvironment(definition.envVar, table.tableName);
  }
  if (access.publishes) {
    resources.bus.grantPutEventsTo(fn);
    fn.addEnvironment(ENV.busName, resources.bus.eventBusName);
  }
  if (access.archivesRaw !== undefined) {
    const granted =
      resources.rawArchive !== undefined &&
      grantRawArchive(fn, resources.rawArchive, access.archivesRaw, ENV.rawStreamPrefix);
    if (!granted) {
      throw new TopologyError(
        `${fn.node.path} archives the raw deliveries of '${access.archivesRaw}', which has no raw archive stream.`,
      );
    }
  }
}

/**
 * GetSecretValue on one connector's secret only (no DescribeSecret, no other secret), the key only as
 * Secrets Manager uses it to decrypt that value, and `OMNIHUB_SECRET_ARN` to find it.
 */
export function grantSecretRead(fn: lambda.Function, secret: secretsmanager.ISecret, key: kms.IKey): void {
  fn.addEnvironment(ENV.secretArn, secret.secretArn);
  fn.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['kms:Decrypt'],
      resources: [key.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(fn).region}.amazonaws.com` },
      },
    }),
  );
}

/**
 * How cdk-nag names an attribute in a finding id: `<LogicalId.Arn>` for `Fn::GetAtt`, `<LogicalId>` for
 * `Ref`, so a finding on a wildcard under a specific resource can be acknowledged for that resource only.
 */
export function nagReference(scope: Construct, token: string): string {
  const resolved: unknown = Stack.of(scope).resolve(token);
  if (typeof resolved === 'object' && resolved !== null) {
    if ('Fn::GetAtt' in resolved && Array.isArray(resolved['Fn::GetAtt'])) {
      return `<${resolved['Fn::GetAtt'].join('.')}>`;
    }
    if ('Ref' in resolved && typeof resolved.Ref === 'string') {
      return `<${resolved.Ref}>`;
    }
  }
  return String(resolved);
}
