/** Everything under a key prefix: arrays sort after strings, so `[...prefix, []]` bounds every longer key. */
export function prefixRange(prefix: IDBValidKey[]): IDBKeyRange {
  return IDBKeyRange.bound(prefix, [...prefix, []]);
}
