/**
 * Where the hub keeps its state between runs, and the lock that keeps two hubs off the same
 * directory (two processes appending to one queue journal would corrupt it).
 *
 * Layout: `dynamodb/` (dynalite's LevelDB), `queues/<queue>.jsonl` (journals), `archive/events.jsonl`,
 * `raw/<connector>/yyyy/MM/dd/HH/` (the raw archive of verified deliveries), `hub.lock` (pid of the
 * running hub).
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The `OMNIHUB_DATA_DIR` value that keeps everything in memory. */
export const IN_MEMORY = ':memory:';

export interface DataDirectory {
  /** Absolute path, or undefined in memory. */
  readonly root: string | undefined;
  readonly dynamoDbPath: string | undefined;
  journalPath(queueName: string): string | undefined;
  readonly archivePath: string | undefined;
  /** The raw archive's partitions, or undefined in memory. */
  readonly rawArchivePath: string | undefined;
  /** Releases the lock. */
  release(): void;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function acquireLock(lockPath: string): void {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(owner) && owner !== process.pid && processIsAlive(owner)) {
        throw new Error(`${lockPath}: another local hub (pid ${owner}) is using this data directory`);
      }
      // Left behind by a hub that was killed: take it over.
      rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`${lockPath}: could not take the data directory lock`);
}

/** Prepares (and locks) the data directory, or an in-memory stand-in for `:memory:`. */
export function openDataDirectory(root: string): DataDirectory {
  if (root === IN_MEMORY) {
    return {
      root: undefined,
      dynamoDbPath: undefined,
      journalPath: () => undefined,
      archivePath: undefined,
      rawArchivePath: undefined,
      release: () => undefined,
    };
  }
  mkdirSync(join(root, 'queues'), { recursive: true });
  mkdirSync(join(root, 'archive'), { recursive: true });
  mkdirSync(join(root, 'dynamodb'), { recursive: true });
  const lockPath = join(root, 'hub.lock');
  acquireLock(lockPath);
  return {
    root,
    dynamoDbPath: join(root, 'dynamodb'),
    journalPath: (queueName) => join(root, 'queues', `${queueName}.jsonl`),
    archivePath: join(root, 'archive', 'events.jsonl'),
    rawArchivePath: join(root, 'raw'),
    release: () => rmSync(lockPath, { force: true }),
  };
}
