/**
 * The local hub in its own process for the load benchmark, as `npm start` runs it (durable data
 * directory, consumers running), so that the load generator does not share its event loop.
 *
 * argv: <data dir> [running|paused]. env BENCH_HUB_ENV: JSON of the hub's env (connector secrets, public URL);
 * BENCH_HUB_LOG: a file for the hub's own log lines (default: none).
 * stdout: `{"url": ...}` when ready; `cpu` on stdin answers `{"cpuUsage": {"user": µs, "system": µs}}`
 * (this process's `process.cpuUsage()`, the hub and its handlers alike); `pause` pauses the consumers
 * and answers `{"paused": true}`; `stop` stops the hub cleanly. The handlers' Powertools lines (metrics, warnings) go to stdout too, in between.
 */
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { startLocalHub } from '../../local/hub.ts';

const logFile = process.env.BENCH_HUB_LOG;
const hub = await startLocalHub({
  port: 0,
  dataDir: process.argv[2] ?? ':memory:',
  env: JSON.parse(process.env.BENCH_HUB_ENV ?? '{}') as Record<string, string>,
  consumers: process.argv[3] === 'paused' ? 'paused' : 'running',
  log: logFile ? (line) => appendFileSync(logFile, `${line}\n`) : () => {},
});
process.stdout.write(`${JSON.stringify({ url: hub.url })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'cpu') process.stdout.write(`${JSON.stringify({ cpuUsage: process.cpuUsage() })}\n`);
  if (line === 'pause') {
    hub.pauseConsumers();
    process.stdout.write(`${JSON.stringify({ paused: true })}\n`);
  }
  if (line === 'stop') {
    await hub.stop();
    process.exit(0);
  }
}
