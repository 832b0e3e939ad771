/**
 * dynalite in-process on an ephemeral port with the topology's tables, for tests that use the real
 * AWS SDK (`client`) or the hub's own SDK-less document client (`documents`) against a real DynamoDB
 * wire protocol.
 */
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DynamoDBClient,
  type KeySchemaElement,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { DynamoDocumentClient } from '../../core/aws/dynamodb.ts';
import type { TableDefinition } from '../../core/tables.ts';

export interface TestDynamo {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  /** The SDK-less document client the profile store and the sync state use in the Lambdas. */
  readonly documents: DynamoDocumentClient;
  createTable(table: TableDefinition, name?: string): Promise<string>;
  close(): Promise<void>;
}

let counter = 0;

export async function startDynalite(): Promise<TestDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const documents = new DynamoDocumentClient({
    env: { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_DYNAMODB: endpoint },
    credentials: async () => ({ accessKeyId: 'test', secretAccessKey: 'test' }),
  });
  return {
    endpoint,
    client,
    documents,
    async createTable(table, name = `${table.id}-${++counter}`) {
      const keySchema: KeySchemaElement[] = [{ AttributeName: table.partitionKey.name, KeyType: 'HASH' }];
      const attributes = new Map([[table.partitionKey.name, table.partitionKey.type]]);
      if (table.sortKey) {
        keySchema.push({ AttributeName: table.sortKey.name, KeyType: 'RANGE' });
        attributes.set(table.sortKey.name, table.sortKey.type);
      }
      await client.send(
        new CreateTableCommand({
          TableName: name,
          KeySchema: keySchema,
          AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({
            AttributeName,
            AttributeType,
          })),
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      await waitUntilTableExists(
        { client, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.2 },
        { TableName: name },
      );
      return name;
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
