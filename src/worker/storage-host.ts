import * as Comlink from 'comlink';
import { IndexedDBCheckpointStorage } from '../storage/checkpoint-store.js';
import { outcomeOf, serializeError } from './outcome.js';
import type { HostGreeting, Outcome, StorageHostApi, StorageSession } from './protocol.js';
import { buffersOfDeltaHistory, buffersOfPage, buffersOfTuplePage, buffersOfTuples } from './transfer.js';

function sessionKey(session: StorageSession): string {
  return JSON.stringify([session.dbName, session.durability]);
}

/** `outcomeOf`, handing over the buffers of the value's bytes instead of copying them. */
async function outcome<T>(body: () => Promise<T>, transferables: (value: T) => ArrayBuffer[] = () => []): Promise<Outcome<T>> {
  const result = await outcomeOf(body);
  const buffers = result.ok ? transferables(result.value) : [];
  return buffers.length > 0 ? Comlink.transfer(result, buffers) : result;
}

/** Takes a Web Lock that is released only when this context ends, and resolves with its name once held. */
function holdLifetimeLock(): Promise<HostGreeting> {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  if (!locks) return Promise.resolve({});
  const name = `juncture-browser:storage-host:${crypto.randomUUID()}`;
  return new Promise((resolve) => {
    void locks.request(name, () => {
      resolve({ lifetimeLock: name });
      return new Promise<never>(() => undefined);
    });
  });
}

/** The storage side of `WorkerSaver`: IndexedDB and batching, in the worker that runs it. */
export function createStorageHost(): StorageHostApi {
  const databases = new Map<string, IndexedDBCheckpointStorage>();
  let greeting: Promise<HostGreeting> | undefined;
  const storageOf = (session: StorageSession) => {
    const key = sessionKey(session);
    let storage = databases.get(key);
    if (!storage) {
      storage = new IndexedDBCheckpointStorage({ dbName: session.dbName, durability: session.durability });
      databases.set(key, storage);
    }
    return storage;
  };

  return {
    hello: () => outcome(() => (greeting ??= holdLifetimeLock())),
    // Each operation commits (in batches) or fails on its own; the answer waits for all of them.
    write: (session, operations) =>
      outcome(async () => {
        const storage = storageOf(session);
        const settled = await Promise.allSettled(operations.map((operation) => storage.write(operation)));
        return settled.map((result): Outcome<void> =>
          result.status === 'fulfilled' ? { ok: true, value: undefined } : { ok: false, error: serializeError(result.reason) },
        );
      }),
    getTuple: (session, thread_id, checkpoint_ns, checkpoint_id) =>
      outcome(() => storageOf(session).getTuple(thread_id, checkpoint_ns, checkpoint_id), (tuple) => buffersOfTuples([tuple])),
    listCheckpoints: (session, query, pageSize, resume) =>
      outcome(() => storageOf(session).listCheckpoints(query, pageSize, resume), buffersOfPage),
    loadTuples: (session, records) => outcome(() => storageOf(session).loadTuples(records), buffersOfTuples),
    listTuples: (session, query, pageSize, resume) =>
      outcome(() => storageOf(session).listTuples(query, pageSize, resume), buffersOfTuplePage),
    deltaHistory: (session, thread_id, checkpoint_ns, checkpoint_id, channels) =>
      outcome(() => storageOf(session).deltaHistory(thread_id, checkpoint_ns, checkpoint_id, channels), buffersOfDeltaHistory),
    prune: (session, threadIds, options) => outcome(() => storageOf(session).prune(threadIds, options)),
    copyThread: (session, from, to) => outcome(() => storageOf(session).copyThread(from, to)),
    end: () =>
      outcome(async () => {
        const open = [...databases.values()];
        databases.clear();
        await Promise.all(open.map((storage) => storage.close()));
        const scope = globalThis as { WorkerGlobalScope?: abstract new () => unknown; close?: () => void };
        // In a worker only: exposeCheckpointStorage(port) may run in a page, which must never be closed.
        if (scope.WorkerGlobalScope && globalThis instanceof scope.WorkerGlobalScope) setTimeout(() => scope.close?.(), 0);
      }),
    close: (session) =>
      outcome(async () => {
        const key = sessionKey(session);
        const storage = databases.get(key);
        if (!storage) return;
        databases.delete(key);
        await storage.close();
      }),
  };
}

/**
 * Serves checkpoint storage to `WorkerSaver`s on the other end of `endpoint`: the worker's global scope by
 * default, or a `MessagePort`. Call it in a worker of your own; the package's worker entry calls it for you.
 */
export function exposeCheckpointStorage(endpoint: Comlink.Endpoint = self as unknown as Comlink.Endpoint): void {
  Comlink.expose(createStorageHost(), endpoint);
}
