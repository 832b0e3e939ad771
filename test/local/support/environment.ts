import { type LocalHub, startLocalHub } from '../../../local/hub.ts';
import { testTopology } from './test-topology.ts';

/**
 * Test workers are throwaway processes: clear the AWS and Omnihub variables a developer's shell may
 * carry (profiles, endpoints, region), so the hub applies its own defaults and the tests are deterministic.
 */
export function clearAwsAndOmnihubEnvironment(): void {
  for (const name of Object.keys(process.env)) {
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

/** What an SDK client needs to talk to the hub: its endpoint and region, and dummy credentials. */
export function hubClientConfig(hub: LocalHub) {
  return {
    endpoint: hub.url,
    region: hub.region,
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  };
}
