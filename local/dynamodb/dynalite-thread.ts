/**
 * dynalite in its own worker thread. In the one-process hub, DynamoDB was the largest single share of
 * the CPU a webhook costs (the ledger's two writes; the profile writer's reads and writes); in a
 * thread of its own it runs on the machine's other core instead of queueing behind the HTTP API, the
 * handlers and the bus on the main event loop, as DynamoDB runs beside Lambda on AWS. Clients reach it
 * exactly as before, over HTTP on 127.0.0.1.
 */

import { startTypeScriptThread } from '../threads.ts';
import type { DynamoDbSigning, LocalDynamoDb } from './local-dynamodb.ts';

/**
 * Starts dynalite (see `startLocalDynamoDb`) in a worker thread, answering only requests signed as
 * `signing` says; `onFailure` hears if the thread dies.
 */
export function startLocalDynamoDbThread(
  path: string | undefined,
  signing: DynamoDbSigning,
  onFailure: (error: unknown) => void,
): Promise<LocalDynamoDb> {
  const worker = startTypeScriptThread(new URL('./dynalite-worker.ts', import.meta.url), {
    workerData: { path, signing },
  });
  let closing = false;
  return new Promise((resolve, reject) => {
    const exitedEarly = (code: number) =>
      reject(new Error(`the dynalite thread exited (${code}) before it started`));
    worker.once('error', reject);
    worker.once('exit', exitedEarly);
    worker.once('message', (message: { url: string }) => {
      worker.off('error', reject);
      worker.off('exit', exitedEarly);
      worker.on('error', onFailure);
      worker.on('exit', (code) => {
        if (!closing) onFailure(new Error(`the dynalite thread exited (${code})`));
      });
      resolve({
        url: message.url,
        close: () => {
          closing = true;
          return new Promise<void>((closed, failed) => {
            // A thread that ends before it answers has nothing left to close.
            worker.once('exit', () => closed());
            worker.once('message', (answer: unknown) => {
              if (answer === 'closed') closed();
              else failed(new Error((answer as { closeError: string }).closeError));
              void worker.terminate();
            });
            worker.postMessage('close');
          });
        },
      });
    });
  });
}
