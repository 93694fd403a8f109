import { openDB } from 'idb';

/** How many records a store of the item database holds, read without the store's code. */
export async function countRecords(dbName: string, storeName: 'items' | 'vectors' | 'namespaces'): Promise<number> {
  const db = await openDB(dbName);
  try {
    return await db.count(storeName);
  } finally {
    db.close();
  }
}

/** Every record of one store of the item database. */
export async function readRecords<T>(dbName: string, storeName: 'items' | 'vectors' | 'namespaces'): Promise<T[]> {
  const db = await openDB(dbName);
  try {
    return (await db.getAll(storeName)) as T[];
  } finally {
    db.close();
  }
}

/**
 * Counts the records IndexedDB hands out through `getAll`, `get` and cursors while `body` runs, per object
 * store: what a read really touched, in fake-indexeddb and in browsers alike.
 */
export async function countRecordsRead(body: () => Promise<unknown>): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const tally = (request: IDBRequest, storeName: string) => {
    request.addEventListener('success', () => {
      const result = request.result as unknown;
      const read = Array.isArray(result) ? result.length : result instanceof IDBCursor ? 1 : result === undefined ? 0 : 1;
      counts.set(storeName, (counts.get(storeName) ?? 0) + read);
    });
    return request;
  };
  const storeProto = IDBObjectStore.prototype;
  const indexProto = IDBIndex.prototype;
  const originals = {
    getAll: storeProto.getAll,
    get: storeProto.get,
    openCursor: storeProto.openCursor,
    indexGetAll: indexProto.getAll,
  };
  storeProto.getAll = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['getAll']>) {
    return tally(originals.getAll.apply(this, args), this.name);
  } as IDBObjectStore['getAll'];
  storeProto.get = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['get']>) {
    return tally(originals.get.apply(this, args), this.name);
  } as IDBObjectStore['get'];
  storeProto.openCursor = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['openCursor']>) {
    return tally(originals.openCursor.apply(this, args), this.name);
  } as IDBObjectStore['openCursor'];
  indexProto.getAll = function (this: IDBIndex, ...args: Parameters<IDBIndex['getAll']>) {
    return tally(originals.indexGetAll.apply(this, args), `${this.objectStore.name}.${this.name}`);
  } as IDBIndex['getAll'];
  try {
    await body();
  } finally {
    Object.assign(storeProto, { getAll: originals.getAll, get: originals.get, openCursor: originals.openCursor });
    indexProto.getAll = originals.indexGetAll;
  }
  return counts;
}
