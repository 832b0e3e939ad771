/**
 * `npm start`: the local hub with the repository's topology. See local/README.md.
 */
import { runLocalHubCli } from './cli.ts';

try {
  await runLocalHubCli();
} catch (error) {
  console.error(
    `Omnihub local hub failed to start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
}
