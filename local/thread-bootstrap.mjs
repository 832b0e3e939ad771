// Entry of the hub's worker threads (started by threads.ts): registers tsx's TypeScript loader in
// this thread (a worker started from vitest or a plain `node` does not inherit one), then runs the
// module in workerData.entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
