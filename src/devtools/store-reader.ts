import { openStoreReader, type StoreReader } from '../storage/items/item-reader.js';
import type { StoredItem } from '../storage/items/item-storage.js';
import { ITEM_STORE_NAMES } from '../storage/items/records.js';
import type { JsonValue, StoreItemQuery, StoreItemView } from './data-source.js';
import { holdsStores, readDatabaseNames } from './reader.js';

/** Namespaces listed at most: far beyond what a page keeps, bounded so a runaway store cannot stall the panel. */
const NAMESPACE_LIMIT = 10_000;

/** Which of these names are store databases that exist (see `readDatabaseNames`). */
export function readStoreDatabaseNames(candidates: Iterable<string>): Promise<string[]> {
  return readDatabaseNames(candidates, ITEM_STORE_NAMES);
}

/**
 * Reads through `openStoreReader` (no TTL refreshed, no embeddings needed), only once the database is known to
 * exist as a store database, so that a read never creates one; the connection closes after each read.
 */
async function withStore<T>(dbName: string, read: (reader: StoreReader) => Promise<T>): Promise<T> {
  if (!(await holdsStores(dbName, ITEM_STORE_NAMES))) throw new Error(`"${dbName}" is not a store database of this page.`);
  const reader = openStoreReader(dbName);
  try {
    return await read(reader);
  } finally {
    await reader.close();
  }
}

const isoOrNull = (time: number | undefined) => (time === undefined ? null : new Date(time).toISOString());

function viewOf(item: StoredItem): StoreItemView {
  return {
    namespace: item.namespace,
    key: item.key,
    // Values were checked to be JSON objects when they were put.
    value: item.value as JsonValue,
    created_at: new Date(item.createdAt).toISOString(),
    updated_at: new Date(item.updatedAt).toISOString(),
    expires_at: isoOrNull(item.expiresAt),
  };
}

/** Every namespace that holds items. Listing deletes items already expired, as the store's own listing does. */
export function readStoreNamespaces(dbName: string): Promise<string[][]> {
  return withStore(dbName, (reader) => reader.listNamespaces({ limit: NAMESPACE_LIMIT }));
}

export function readStoreItems(dbName: string, { namespace, text, limit }: StoreItemQuery): Promise<StoreItemView[]> {
  return withStore(dbName, async (reader) => (await reader.listItems(namespace, { ...(text ? { text } : {}), limit })).map(viewOf));
}
