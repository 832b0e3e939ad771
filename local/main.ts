/**
 * `npm start`: the local hub with the repository's topology, its sync configuration read as the CDK
 * app reads it (`omnihub.sync.json`, core/sync/config.ts). See local/README.md.
 */
import { readSyncConfig, SYNC_CONFIG_ENV } from '../core/sync/config.ts';
import { createTopology } from '../lib/topology.ts';
import { runLocalHubCli } from './cli.ts';

try {
  const sync = readSyncConfig(process.cwd());
  // The sync functions run in this process and read their configuration from the environment, as the
  // stack hands it to them in AWS.
  process.env[SYNC_CONFIG_ENV] = JSON.stringify(sync);
  await runLocalHubCli({ topology: createTopology({ sync }) });
} catch (error) {
  console.error(
    `Omnihub local hub failed to start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
}
