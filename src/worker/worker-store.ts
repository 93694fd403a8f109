import * as Comlink from 'comlink';
import { startDefaultWorker } from '../default-worker.js';
import { CheckpointError } from '../errors.js';
import type { ItemBatch, ItemReadResult, ItemStorage } from '../storage/items/item-storage.js';
import { resolveStoreOptions, type BrowserStoreOptions } from '../store/browser-store.js';
import { StoredItemStore } from '../store/stored-store.js';
import { valueOf } from './outcome.js';
import type { ItemSession, ItemStorageHostApi, JunctureHostApi } from './store-host.js';

export interface WorkerStoreOptions extends BrowserStoreOptions {
  /**
   * The worker (or a `MessagePort` to one) that serves storage with `exposeJunctureStorage()`, such as the one
   * a `WorkerSaver` uses. Without it, the store starts the package's own worker and ends it on `close()`.
   */
  worker?: Worker | MessagePort;
}

/** `ItemStorage` whose calls run in a worker's item storage host. */
class RemoteItemStorage implements ItemStorage {
  readonly dbName: string;
  readonly #host: Comlink.Remote<ItemStorageHostApi>;
  readonly #session: ItemSession;
  readonly #onClose: () => void;
  #closed = false;

  constructor(host: Comlink.Remote<ItemStorageHostApi>, session: ItemSession, onClose: () => void) {
    this.#host = host;
    this.#session = session;
    this.dbName = session.dbName;
    this.#onClose = onClose;
  }

  #open(): void {
    if (this.#closed) throw new CheckpointError('CLOSED', `The store on IndexedDB database "${this.dbName}" was closed; create a new one.`);
  }

  async execute(batch: ItemBatch): Promise<ItemReadResult[]> {
    this.#open();
    return valueOf(await this.#host.execute(this.#session, batch));
  }

  async sweepExpired(): Promise<number> {
    this.#open();
    return valueOf(await this.#host.sweepExpired(this.#session));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      valueOf(await this.#host.close(this.#session));
    } finally {
      this.#onClose();
    }
  }
}

/**
 * `BrowserStore` whose IndexedDB work runs in a Web Worker. Give it the worker of a `WorkerSaver` and one
 * worker holds both the checkpoints and the long-term memory.
 */
export class WorkerStore extends StoredItemStore {
  constructor(options: WorkerStoreOptions = {}) {
    const session = resolveStoreOptions(options);
    if (options.worker === undefined && typeof Worker === 'undefined') {
      throw new CheckpointError('UNAVAILABLE', 'WorkerStore needs Web Workers, which this context lacks; use BrowserStore.');
    }
    const owned = options.worker === undefined ? startDefaultWorker() : undefined;
    const host = Comlink.wrap<JunctureHostApi>(options.worker ?? owned!);
    // Comlink calls nested members by their path; its types see a plain property as a value to await, though.
    const items = host.items as unknown as Comlink.Remote<ItemStorageHostApi>;
    super(
      new RemoteItemStorage(items, session, () => {
        // Releasing ends the other end's serving; a caller's worker may serve savers and stores, so only our own.
        if (!owned) return;
        host[Comlink.releaseProxy]();
        owned.terminate();
      }),
      options,
    );
  }
}
