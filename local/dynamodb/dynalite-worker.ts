/**
 * The worker-thread side of `startLocalDynamoDbThread` (dynalite-thread.ts): starts dynalite in this
 * thread, posts `{ url }`, and on `'close'` closes it and posts `'closed'`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type DynamoDbSigning, startLocalDynamoDb } from './local-dynamodb.ts';

const port = parentPort;
if (!port) throw new Error('dynalite-worker.ts runs only as a worker thread');
const { path, signing } = workerData as { path?: string; signing?: DynamoDbSigning };
const dynamoDb = await startLocalDynamoDb(path, signing ? { signing } : {});
port.on('message', (message) => {
  if (message !== 'close') return;
  dynamoDb.close().then(
    () => port.postMessage('closed'),
    (error: unknown) => port.postMessage({ closeError: String(error) }),
  );
});
port.postMessage({ url: dynamoDb.url });
