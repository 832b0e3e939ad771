/**
 * Serves dynalite's point reads with LevelDB's synchronous `getSync`.
 *
 * Why: dynalite reads the current item before every PutItem, UpdateItem and DeleteItem (and the
 * table description before those). Its store calls the asynchronous `get`, which hands each read to
 * libuv's thread pool and back: measured on classic-level 3, about 65 µs of CPU per read, against
 * under 3 µs for `getSync` of the same key (LevelDB's block cache and memtable answer in place).
 * Two to three reads per webhook made this the largest CPU cost of dynalite in the local hub.
 *
 * What stays the same: the callback is still called asynchronously (`setImmediate`, as dynalite's
 * own wrapper does), with the same value (`undefined` for a missing key). A read sees every write
 * whose callback has run, as before; dynalite's per-key locks order an item's reads and writes, so
 * reading at call time instead of on a pool thread changes no outcome. Anything unusual (the store
 * closing or closed, a read that throws, e.g. an undecodable value) goes through dynalite's own
 * asynchronous path, which reports it as before. Writes, batches and iterators are untouched.
 */

import { onEveryDynaliteStore } from './dynalite-stores.ts';

type GetCallback = (error: unknown, value?: unknown) => void;

interface LevelDatabase {
  readonly status: string;
  readonly supports?: { readonly getSync?: boolean };
  getSync?: (key: string) => unknown;
  get: (key: string, callback?: GetCallback) => unknown;
}

interface DynaliteStore {
  db?: LevelDatabase;
  lifecycleManager?: { getState(): string };
}

function readSynchronously(store: DynaliteStore): void {
  const db = store.db;
  if (!db) return;
  const getSync = db.getSync;
  if (db.supports?.getSync !== true || typeof getSync !== 'function') return;
  const get = db.get;
  db.get = function (this: LevelDatabase, key: string, callback?: GetCallback) {
    if (
      typeof callback !== 'function' ||
      db.status !== 'open' ||
      (store.lifecycleManager && store.lifecycleManager.getState() !== 'open')
    ) {
      return get.call(db, key, callback);
    }
    let value: unknown;
    try {
      value = getSync.call(db, key);
    } catch {
      return get.call(db, key, callback);
    }
    setImmediate(callback, null, value);
    return undefined;
  };
}

/**
 * Makes every dynalite store created from now on answer point reads synchronously (once per process).
 *
 * @example
 * readDynaliteSynchronously(createRequire(import.meta.url));
 */
export function readDynaliteSynchronously(require: NodeJS.Require): void {
  onEveryDynaliteStore(require, 'sync-reads', readSynchronously);
}
