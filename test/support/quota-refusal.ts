// A full quota the way Firefox reports it, at the IndexedDB boundary: the first `put` is refused with
// `QuotaExceededError`, and from then on every read-write transaction on the connection it ran on fails with
// `InvalidStateError` (Firefox invalidates that connection; its close event comes later, if at all).

/** Runs `body` with the refusal in place; resolves with what `body` gave and how many puts were refused. */
export async function withFirefoxQuotaRefusal<T>(body: () => Promise<T>): Promise<{ result: T; refusals: number }> {
  const { transaction } = IDBDatabase.prototype;
  const { put } = IDBObjectStore.prototype;
  const invalidated = new WeakSet<IDBDatabase>();
  let refusals = 0;
  IDBObjectStore.prototype.put = function refusing(this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
    if (refusals > 0) return put.apply(this, args);
    refusals += 1;
    invalidated.add(this.transaction.db);
    throw new DOMException('The current transaction exceeded its quota limitations.', 'QuotaExceededError');
  };
  IDBDatabase.prototype.transaction = function invalidating(this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
    if (invalidated.has(this) && args[1] === 'readwrite') {
      throw new DOMException('A mutation operation was attempted on a database that did not allow mutations.', 'InvalidStateError');
    }
    return transaction.apply(this, args);
  } as IDBDatabase['transaction'];
  try {
    return { result: await body(), refusals };
  } finally {
    IDBObjectStore.prototype.put = put;
    IDBDatabase.prototype.transaction = transaction;
  }
}
