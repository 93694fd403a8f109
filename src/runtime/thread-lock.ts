/** Tails of the in-context lock queues, for contexts without Web Locks. */
const localQueues = new Map<string, Promise<unknown>>();

function lockName(dbName: string, threadId: string): string {
  return `juncture:${dbName}:${threadId}`;
}

/**
 * Runs `body` while holding the lock of one thread of one database, across every tab and worker of the origin
 * (Web Locks), so that two tabs never run the same conversation at once. Where Web Locks are missing (Node), the
 * lock holds within this context only.
 */
export async function withThreadLock<T>(dbName: string, threadId: string, body: () => Promise<T> | T): Promise<T> {
  const name = lockName(dbName, threadId);
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  if (locks) return locks.request(name, async () => body()) as Promise<T>;
  const previous = localQueues.get(name) ?? Promise.resolve();
  const run = previous.then(() => body(), () => body());
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  localQueues.set(name, tail);
  try {
    return await run;
  } finally {
    if (localQueues.get(name) === tail) localQueues.delete(name);
  }
}
