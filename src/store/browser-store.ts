import { resolveStorageOptions } from '../saver/browser-saver.js';
import { IndexedDBItemStorage, type ItemDurability } from '../storage/items/item-storage.js';
import { StoredItemStore, type StoreOptions } from './stored-store.js';

/** The database a store uses unless told otherwise: its own, beside the savers' `'juncture'`. */
export const DEFAULT_STORE_DB_NAME = 'juncture-store';

export interface BrowserStoreOptions extends StoreOptions {
  /** IndexedDB database name; stores on the same name share their items. Default `'juncture-store'`. */
  dbName?: string;
  /** IndexedDB transaction durability, as for `BrowserSaver`. */
  durability?: ItemDurability;
}

/** Checks the options shared by both stores and fills in their defaults. */
export function resolveStoreOptions(options: BrowserStoreOptions): { dbName: string; durability: ItemDurability } {
  return resolveStorageOptions({ ...options, dbName: options.dbName ?? DEFAULT_STORE_DB_NAME });
}

/**
 * LangGraph's long-term memory on IndexedDB: `graph.compile({ checkpointer, store: new BrowserStore() })`, then
 * `config.store` in nodes. Items survive reloads; with `index`, `search` ranks them by meaning.
 */
export class BrowserStore extends StoredItemStore {
  constructor(options: BrowserStoreOptions = {}) {
    super(new IndexedDBItemStorage(resolveStoreOptions(options)), options);
  }

  /** Deletes a store database and everything in it. */
  static deleteDatabase(dbName = DEFAULT_STORE_DB_NAME): Promise<void> {
    return IndexedDBItemStorage.deleteDatabase(resolveStoreOptions({ dbName }).dbName);
  }
}
