import * as Comlink from 'comlink';
import { IndexedDBItemStorage, type ItemBatch, type ItemDurability, type ItemReadResult } from '../storage/items/item-storage.js';
import { outcomeOf } from './outcome.js';
import type { Outcome } from './protocol.js';
import { createStorageHost } from './storage-host.js';

/** Which store database a call is for; a worker can serve several. */
export interface ItemSession {
  dbName: string;
  durability: ItemDurability;
}

/** The protocol between `WorkerStore` (page) and the item storage in the worker. */
export interface ItemStorageHostApi {
  execute(session: ItemSession, batch: ItemBatch): Promise<Outcome<ItemReadResult[]>>;
  sweepExpired(session: ItemSession): Promise<Outcome<number>>;
  close(session: ItemSession): Promise<Outcome<void>>;
}

/** What the package's worker serves: checkpoint storage for `WorkerSaver`, item storage (`items`) for `WorkerStore`. */
export type JunctureHostApi = ReturnType<typeof createStorageHost> & { items: ItemStorageHostApi };

/**
 * The storage side of `WorkerStore`: IndexedDB in the worker that runs it, and `closeAll`, for the host's `end()`
 * (which closes every database it opened, item databases too).
 */
export function createItemStorageHost(): { api: ItemStorageHostApi; closeAll(): Promise<void> } {
  const databases = new Map<string, IndexedDBItemStorage>();
  const keyOf = (session: ItemSession) => JSON.stringify([session.dbName, session.durability]);
  const storageOf = (session: ItemSession) => {
    let storage = databases.get(keyOf(session));
    if (!storage) {
      storage = new IndexedDBItemStorage(session);
      databases.set(keyOf(session), storage);
    }
    return storage;
  };
  return {
    api: {
      execute: (session, batch) => outcomeOf(() => storageOf(session).execute(batch)),
      sweepExpired: (session) => outcomeOf(() => storageOf(session).sweepExpired()),
      close: (session) =>
        outcomeOf(async () => {
          const storage = databases.get(keyOf(session));
          databases.delete(keyOf(session));
          await storage?.close();
        }),
    },
    closeAll: async () => {
      const open = [...databases.values()];
      databases.clear();
      await Promise.all(open.map((storage) => storage.close()));
    },
  };
}

/**
 * Serves both checkpoint storage (`WorkerSaver`) and item storage (`WorkerStore`) on `endpoint`: the worker's
 * global scope by default, or a `MessagePort`. The package's worker entry calls it; call it in a worker of your own.
 */
export function exposeJunctureStorage(endpoint: Comlink.Endpoint = self as unknown as Comlink.Endpoint): void {
  const checkpoints = createStorageHost();
  const items = createItemStorageHost();
  const host: JunctureHostApi = {
    ...checkpoints,
    items: items.api,
    // The worker ends even when an item database failed to close; that failure is the answer then.
    end: async () => {
      const closed = await outcomeOf(() => items.closeAll());
      const ended = await checkpoints.end();
      return closed.ok ? ended : closed;
    },
  };
  Comlink.expose(host, endpoint);
}
