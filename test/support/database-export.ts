/**
 * A whole IndexedDB database as JSON: its version, each object store's key path and indexes, and every record.
 * Bytes travel as base64 (`{ $bytes }`, `{ $float32 }`), so an export is a plain JSON file that a test loads into
 * any engine with raw IndexedDB writes at the version it names, whatever schema the current code would create.
 */

export type JsonRecord = unknown;

export interface StoreExport {
  keyPath: string | string[] | null;
  autoIncrement: boolean;
  indexes: { name: string; keyPath: string | string[]; unique: boolean; multiEntry: boolean }[];
  records: JsonRecord[];
  /** For a store that keeps its keys out of line (`keyPath` null): each record's key, in the same order. */
  keys?: JsonRecord[];
}

export interface DatabaseExport {
  version: number;
  stores: Record<string, StoreExport>;
}

function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (let offset = 0; offset < bytes.length; offset += 0x8000) text += String.fromCharCode(...bytes.subarray(offset, offset + 0x8000));
  return btoa(text);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

/** A structured-clone value as JSON: typed arrays become tagged base64, everything else stays as it is. */
export function encodeValue(value: unknown): unknown {
  if (value instanceof Float32Array) return { $float32: toBase64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  if (value instanceof Uint8Array) return { $bytes: toBase64(value) };
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date || value instanceof Map || value instanceof Set) {
    throw new Error(`A database export cannot hold ${Object.prototype.toString.call(value)}; add its encoding here.`);
  }
  if (Array.isArray(value)) return value.map(encodeValue);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, encodeValue(inner)]));
  }
  return value;
}

/** The inverse of `encodeValue`. */
export function decodeValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeValue);
  if (value !== null && typeof value === 'object') {
    const tagged = value as { $bytes?: string; $float32?: string };
    if (typeof tagged.$bytes === 'string') return fromBase64(tagged.$bytes);
    if (typeof tagged.$float32 === 'string') return new Float32Array(fromBase64(tagged.$float32).buffer);
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, decodeValue(inner)]));
  }
  return value;
}

function requestDone<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Reads a whole database (which must exist) into an export. */
export async function exportDatabase(name: string): Promise<DatabaseExport> {
  const db = await requestDone(indexedDB.open(name));
  try {
    const stores: Record<string, StoreExport> = {};
    const names = [...db.objectStoreNames];
    const tx = db.transaction(names, 'readonly');
    for (const storeName of names) {
      const store = tx.objectStore(storeName);
      const indexes = [...store.indexNames].map((indexName) => {
        const index = store.index(indexName);
        return { name: indexName, keyPath: index.keyPath, unique: index.unique, multiEntry: index.multiEntry };
      });
      const records = (await requestDone(store.getAll())).map(encodeValue);
      const exported: StoreExport = { keyPath: store.keyPath, autoIncrement: store.autoIncrement, indexes, records };
      // Both reads run in key order, so the keys line up with the records.
      if (store.keyPath === null) exported.keys = (await requestDone(store.getAllKeys())).map(encodeValue);
      stores[storeName] = exported;
    }
    return { version: db.version, stores };
  } finally {
    db.close();
  }
}

/**
 * Writes an export as a new database `name` at the export's version, with raw IndexedDB: its stores, indexes and
 * records exactly, as the code of that version left them.
 */
export async function importDatabase(exported: DatabaseExport, name: string): Promise<void> {
  const open = indexedDB.open(name, exported.version);
  open.onupgradeneeded = () => {
    const db = open.result;
    if (db.objectStoreNames.length > 0) throw new Error(`Database "${name}" already exists; import into a fresh name.`);
    for (const [storeName, store] of Object.entries(exported.stores)) {
      const created = db.createObjectStore(storeName, { keyPath: store.keyPath, autoIncrement: store.autoIncrement });
      for (const index of store.indexes) created.createIndex(index.name, index.keyPath, { unique: index.unique, multiEntry: index.multiEntry });
    }
  };
  const db = await requestDone(open);
  try {
    const names = Object.keys(exported.stores);
    if (names.length === 0) return;
    const tx = db.transaction(names, 'readwrite');
    for (const [storeName, store] of Object.entries(exported.stores)) {
      const target = tx.objectStore(storeName);
      store.records.forEach((record, index) => {
        if (store.keys) target.put(decodeValue(record), decodeValue(store.keys[index]) as IDBValidKey);
        else target.put(decodeValue(record));
      });
    }
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}
