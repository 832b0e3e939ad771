import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type LocalDynamoDb, startLocalDynamoDb } from '../../../local/dynamodb/local-dynamodb.ts';
import { type LocalHub, startLocalHub } from '../../../local/hub.ts';
import { LOCAL_HUB_CREDENTIALS } from '../../../local/hub-environment.ts';
import { testTopology } from './test-topology.ts';

/** Set for every test by vitest.config.ts (fixtures are dated in the past), not by a developer's shell. */
const KEPT_TEST_SETTINGS = new Set(['OMNIHUB_LOCAL_TTL_SWEEP_SECONDS']);

/**
 * Test workers are throwaway processes: clear the AWS and Omnihub variables a developer's shell may
 * carry (profiles, endpoints, region), so the hub applies its own defaults and the tests are deterministic.
 */
export function clearAwsAndOmnihubEnvironment(): void {
  for (const name of Object.keys(process.env)) {
    if (KEPT_TEST_SETTINGS.has(name)) continue;
    if (name.startsWith('AWS_') || name.startsWith('OMNIHUB_')) delete process.env[name];
  }
}

/**
 * A local hub on the test topology for the AWS API tests: clean environment, any free port, nothing
 * kept, consumers paused (messages stay in the queues for the test to read).
 */
export async function startPausedTestHub(): Promise<LocalHub> {
  clearAwsAndOmnihubEnvironment();
  return startLocalHub({
    topology: testTopology(),
    port: 0,
    dataDir: ':memory:',
    consumers: 'paused',
    log: () => {},
  });
}

/** What an SDK client needs to talk to the hub: its endpoint and region, and the hub's credentials. */
export function hubClientConfig(hub: LocalHub) {
  return { endpoint: hub.url, region: hub.region, credentials: LOCAL_HUB_CREDENTIALS };
}

/** An SDK client of a local dynalite that does not retry, so a test sees every error. */
export function testDynamoDbClient(dynamoDb: LocalDynamoDb): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: dynamoDb.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

/**
 * The hub's own dynalite on durable storage in a fresh temporary directory, with an SDK client that
 * does not retry (a test sees every error); `close()` stops it and removes the directory.
 */
export async function startTestDynamoDb(
  prefix: string,
): Promise<{ dynamoDb: LocalDynamoDb; client: DynamoDBClient; close(): Promise<void> }> {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  const dynamoDb = await startLocalDynamoDb(join(directory, 'dynamodb'));
  const client = testDynamoDbClient(dynamoDb);
  return {
    dynamoDb,
    client,
    async close() {
      client.destroy();
      await dynamoDb.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
