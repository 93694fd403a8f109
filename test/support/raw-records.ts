import { openDB } from 'idb';

/** Every record of every object store of a database, as IndexedDB holds it (no saver in between). */
export async function readEveryRecord(dbName: string): Promise<Record<string, unknown[]>> {
  const db = await openDB(dbName);
  try {
    const records: Record<string, unknown[]> = {};
    for (const store of db.objectStoreNames) records[store] = await db.getAll(store);
    return records;
  } finally {
    db.close();
  }
}

const utf8 = new TextDecoder();

/** Whether `text` occurs anywhere in `value`: in a string, a key, or bytes read as UTF-8. */
export function holdsText(value: unknown, text: string, seen = new Set<unknown>()): boolean {
  if (typeof value === 'string') return value.includes(text);
  if (typeof value !== 'object' || value === null || seen.has(value)) return false;
  seen.add(value);
  if (ArrayBuffer.isView(value)) return utf8.decode(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)).includes(text);
  if (value instanceof ArrayBuffer) return utf8.decode(new Uint8Array(value)).includes(text);
  if (value instanceof Map) return [...value].some((entry) => holdsText(entry, text, seen));
  if (value instanceof Set) return [...value].some((entry) => holdsText(entry, text, seen));
  return Object.entries(value).some(([key, entry]) => key.includes(text) || holdsText(entry, text, seen));
}
