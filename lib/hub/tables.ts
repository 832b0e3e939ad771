/**
 * The topology's DynamoDB tables: on demand, encrypted with the hub key, point-in-time recovery on.
 */
import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { AttributeType, TableDefinition } from '../../core/tables.ts';

/** One table per definition under `Tables/<table id>`, by table id. */
export function createTables(
  hub: Construct,
  definitions: readonly TableDefinition[],
  key: kms.IKey,
  removalPolicy: RemovalPolicy,
): Record<string, dynamodb.Table> {
  const scope = new Construct(hub, 'Tables');
  const tables: Record<string, dynamodb.Table> = {};
  for (const definition of definitions) {
    // Table rather than TableV2: TableV2 with a customer-managed key only synthesizes in stacks with a
    // concrete region, and the hub must also work in environment-agnostic stacks.
    const table = new dynamodb.Table(scope, definition.id, {
      partitionKey: attribute(definition.partitionKey),
      sortKey: definition.sortKey && attribute(definition.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: definition.ttlAttribute,
      removalPolicy,
    });
    for (const index of definition.globalSecondaryIndexes ?? []) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        sortKey: index.sortKey && attribute(index.sortKey),
      });
    }
    tables[definition.id] = table;
  }
  return tables;
}

function attribute(key: { readonly name: string; readonly type: AttributeType }): dynamodb.Attribute {
  return {
    name: key.name,
    type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
  };
}
