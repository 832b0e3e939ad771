/**
 * Keeps dynalite's table descriptions in memory.
 *
 * Why: dynalite reads the table's description from LevelDB (a native get and a JSON decode) before
 * every item operation, which was a tenth of its CPU per ledger write in the local hub; a table's
 * description changes only by CreateTable, UpdateTable and DeleteTable.
 *
 * How: the store's table sub-database (`store.tableDb`) answers `get` from a map filled by the
 * reads that reach LevelDB; every `put`, `del` and `batch` drops the keys it touches when it is
 * issued and again when it completes, and a read only fills the map when no write to its key was
 * issued while it ran, so a description read before a change never outlives it. Each hit gets its
 * own copy (UpdateTable and DeleteTable modify the object they get before writing it back), parsed
 * from the description's JSON text: a description is plain JSON (LevelDB stores it as JSON), and
 * `JSON.parse` of a few hundred bytes costs a fraction of `structuredClone` of the object.
 */

import { onEveryDynaliteStore } from './dynalite-stores.ts';

type Callback = (error: unknown, value?: unknown) => void;

interface SubDatabase {
  get(key: string, callback: Callback): void;
  put(key: string, value: unknown, callback: (error?: unknown) => void): void;
  del(key: string, callback: (error?: unknown) => void): void;
  batch(operations: readonly { key: string }[], callback: (error?: unknown) => void): void;
}

interface DynaliteStore {
  tableDb: SubDatabase;
}

function cacheTables(tableDb: SubDatabase): void {
  /** Table name -> its description as JSON text. */
  const cached = new Map<string, string>();
  const writes = new Map<string, number>();
  const invalidate = (key: string) => {
    cached.delete(key);
    writes.set(key, (writes.get(key) ?? 0) + 1);
  };
  const { get, put, del, batch } = tableDb;
  tableDb.get = (key, callback) => {
    const text = cached.get(key);
    if (text !== undefined) {
      const value: unknown = JSON.parse(text);
      process.nextTick(() => callback(null, value));
      return;
    }
    const writesBefore = writes.get(key) ?? 0;
    get.call(tableDb, key, (error, value) => {
      if (!error && value !== undefined && (writes.get(key) ?? 0) === writesBefore) {
        cached.set(key, JSON.stringify(value));
      }
      callback(error, value);
    });
  };
  tableDb.put = (key, value, callback) => {
    invalidate(key);
    put.call(tableDb, key, value, (error) => {
      invalidate(key);
      callback(error);
    });
  };
  tableDb.del = (key, callback) => {
    invalidate(key);
    del.call(tableDb, key, (error) => {
      invalidate(key);
      callback(error);
    });
  };
  tableDb.batch = (operations, callback) => {
    for (const operation of operations) invalidate(operation.key);
    batch.call(tableDb, operations, (error) => {
      for (const operation of operations) invalidate(operation.key);
      callback(error);
    });
  };
}

/**
 * Makes every dynalite store created from now on cache its table descriptions (once per process).
 *
 * @example
 * cacheDynaliteTables(createRequire(import.meta.url));
 */
export function cacheDynaliteTables(require: NodeJS.Require): void {
  onEveryDynaliteStore<DynaliteStore>(require, 'table-cache', (store) => {
    if (store.tableDb && typeof store.tableDb.get === 'function') cacheTables(store.tableDb);
  });
}
