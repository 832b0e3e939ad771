import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalDynamoDbThread } from '../../local/dynamodb/dynalite-thread.ts';
import { LOCAL_HUB_CREDENTIALS } from '../../local/hub-environment.ts';
import { testDynamoDbClient } from './support/environment.ts';

const directories: string[] = [];
/** What testDynamoDbClient signs with. */
const signing = { credentials: LOCAL_HUB_CREDENTIALS, region: 'us-east-1' };
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('dynalite in a worker thread', () => {
  it('serves the DynamoDB API from another thread, and its LevelDB data survives a restart', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'omnihub-dynalite-thread-'));
    directories.push(directory);
    const failures: unknown[] = [];
    const first = await startLocalDynamoDbThread(join(directory, 'db'), signing, (error) =>
      failures.push(error),
    );
    const client = testDynamoDbClient(first);
    await client.send(
      new CreateTableCommand({
        TableName: 'items',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    await client.send(new PutItemCommand({ TableName: 'items', Item: { pk: { S: 'a' }, n: { N: '1' } } }));
    client.destroy();
    await first.close();

    const second = await startLocalDynamoDbThread(join(directory, 'db'), signing, (error) =>
      failures.push(error),
    );
    const again = testDynamoDbClient(second);
    const { Item } = await again.send(new GetItemCommand({ TableName: 'items', Key: { pk: { S: 'a' } } }));
    again.destroy();
    await second.close();
    expect(Item).toEqual({ pk: { S: 'a' }, n: { N: '1' } });
    // A clean close is not a failure.
    expect(failures).toEqual([]);
  });
});
