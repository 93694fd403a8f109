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
