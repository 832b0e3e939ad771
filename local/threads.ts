/**
 * Worker threads of the local hub that run a TypeScript module. A thread starts in
 * `thread-bootstrap.mjs`, which registers tsx's loader in it (a worker started from vitest or a plain
 * `node` does not inherit one) and then imports the module at `workerData.entry`.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * @example
 * const worker = startTypeScriptThread(new URL('./dynalite-worker.ts', import.meta.url), { workerData: { path } });
 */
export function startTypeScriptThread(
  entry: URL,
  options: Omit<WorkerOptions, 'workerData'> & {
    readonly workerData?: Readonly<Record<string, unknown>>;
  } = {},
): Worker {
  return new Worker(new URL('./thread-bootstrap.mjs', import.meta.url), {
    ...options,
    workerData: { ...options.workerData, entry: entry.href },
  });
}
