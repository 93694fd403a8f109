import { subscribeToChanges } from '../changes.js';
import type { ItemFilter } from './filter.js';
import { IndexedDBItemStorage, type ItemChange, type ItemRead, type ItemStorage, type StoredItem } from './item-storage.js';

/**
 * A read-only view of a store database for inspection (the devtools): it never refreshes TTLs, needs no
 * embeddings, and shows when items expire. Reads see only live items.
 */
export interface StoreReader {
  readonly dbName: string;
  /** Namespaces that hold items, in key order; `prefix` and `suffix` may use `'*'` for any label. */
  listNamespaces(options?: { prefix?: string[]; suffix?: string[]; maxDepth?: number; limit?: number; offset?: number }): Promise<string[][]>;
  getItem(namespace: string[], key: string): Promise<StoredItem | null>;
  /** Items under a namespace prefix in key order, narrowed by a filter and by plain text (every word, any case). */
  listItems(namespacePrefix: string[], options?: { filter?: ItemFilter; text?: string; limit?: number; offset?: number }): Promise<StoredItem[]>;
  /** Calls `listener` for every item put, deleted or expired on the database, by any context of the origin. */
  subscribe(listener: (change: ItemChange) => void): () => void;
  close(): Promise<void>;
}

export function openStoreReader(dbName: string, storage: ItemStorage = new IndexedDBItemStorage({ dbName, durability: 'default' })): StoreReader {
  const readOne = async <T>(read: ItemRead): Promise<T> => (await storage.execute({ reads: [read], writes: [] }))[0] as T;
  return {
    dbName,
    listNamespaces: ({ prefix, suffix, maxDepth, limit = 100, offset = 0 } = {}) =>
      readOne({ kind: 'namespaces', ...(prefix ? { prefix } : {}), ...(suffix ? { suffix } : {}), ...(maxDepth ? { maxDepth } : {}), limit, offset }),
    getItem: (namespace, key) => readOne({ kind: 'get', namespace, key, refreshTtl: false }),
    listItems: (prefix, { filter, text, limit = 50, offset = 0 } = {}) =>
      readOne({ kind: 'search', prefix, ...(filter ? { filter } : {}), ...(text ? { text } : {}), limit, offset, refreshTtl: false }),
    subscribe: (listener) => subscribeToChanges<ItemChange>(dbName, listener),
    close: () => storage.close(),
  };
}
