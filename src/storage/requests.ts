/** Small helpers over the plain IndexedDB API, shared by the reads, the writes and retention. */

/** Everything under a key prefix: arrays sort after strings, so `[...prefix, []]` bounds every longer key. */
export function prefixRange(prefix: IDBValidKey[]): IDBKeyRange {
  return IDBKeyRange.bound(prefix, [...prefix, []]);
}

export function requestResult<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export interface KeyedRecord<T> {
  key: IDBValidKey;
  value: T;
}

/** `getAllRecords` (Chromium 141+): a key range newest first in one request, with the keys to resume from. */
interface RecordsSource {
  getAllRecords(options: {
    query: IDBKeyRange | null;
    count?: number;
    direction?: IDBCursorDirection;
  }): IDBRequest<KeyedRecord<unknown>[]>;
}

function hasGetAllRecords(source: IDBObjectStore | IDBIndex): source is (IDBObjectStore | IDBIndex) & RecordsSource {
  return typeof (source as Partial<RecordsSource>).getAllRecords === 'function';
}

/** Up to `count` records of `range`, newest first: in one request where the browser can, else by cursor. */
export async function newestRecords<T>(source: IDBObjectStore | IDBIndex, range: IDBKeyRange | null, count: number): Promise<KeyedRecord<T>[]> {
  if (hasGetAllRecords(source)) {
    return (await requestResult(source.getAllRecords({ query: range, count, direction: 'prev' }))) as KeyedRecord<T>[];
  }
  const records: KeyedRecord<T>[] = [];
  const request = source.openCursor(range, 'prev');
  let cursor = await requestResult(request);
  while (cursor) {
    records.push({ key: cursor.key, value: cursor.value as T });
    if (records.length === count) break;
    cursor.continue();
    cursor = await requestResult(request);
  }
  return records;
}
