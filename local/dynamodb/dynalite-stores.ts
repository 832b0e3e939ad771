/**
 * A hook on dynalite's store factory (`dynalite/db` `create`), which the local hub uses to tune every
 * store dynalite opens: table descriptions kept in memory (table-cache.ts), point reads answered with
 * `getSync` (sync-reads.ts). Each tuning is installed once per process, whatever the number of stores.
 */

interface DynaliteDbModule {
  create: (options: unknown) => unknown;
}

const installed = new Set<string>();

/**
 * Runs `tune` on every dynalite store created from now on; a second call with the same `name` is a
 * no-op. Fails loudly when the pinned dynalite no longer has the shape this relies on.
 *
 * @example
 * onEveryDynaliteStore(createRequire(import.meta.url), 'sync-reads', (store) => readSynchronously(store));
 */
export function onEveryDynaliteStore<Store>(
  require: NodeJS.Require,
  name: string,
  tune: (store: Store) => void,
): void {
  if (installed.has(name)) return;
  installed.add(name);
  const db = require('dynalite/db') as DynaliteDbModule;
  if (typeof db.create !== 'function') throw new Error('dynalite/db no longer exports create()');
  const create = db.create;
  db.create = (options) => {
    const store = create(options);
    tune(store as Store);
    return store;
  };
}
