/**
 * The local hub in its own process for the load benchmark, as `npm start` runs it (durable data
 * directory, consumers running), so that the load generator does not share its event loop.
 *
 * argv: <data dir> [running|paused]. env BENCH_HUB_ENV: JSON of the hub's env (connector secrets, public URL).
 * stdout: `{"url": ...}` when ready; `stop` on stdin stops it cleanly.
 */
import { createInterface } from 'node:readline';
import { startLocalHub } from '../../local/hub.ts';

const hub = await startLocalHub({
  port: 0,
  dataDir: process.argv[2] ?? ':memory:',
  env: JSON.parse(process.env.BENCH_HUB_ENV ?? '{}') as Record<string, string>,
  consumers: process.argv[3] === 'paused' ? 'paused' : 'running',
  log: () => {},
});
process.stdout.write(`${JSON.stringify({ url: hub.url })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'stop') {
    await hub.stop();
    process.exit(0);
  }
}
