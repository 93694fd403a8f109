import * as Comlink from 'comlink';
import { CheckpointError } from '../errors.js';
import type { ItemBatch, ItemReadResult, ItemStorage } from '../storage/items/item-storage.js';
import { resolveStoreOptions, type BrowserStoreOptions } from '../store/browser-store.js';
import { StoredItemStore } from '../store/stored-store.js';
import { HostConnection } from './host-connection.js';
import type { HostLoss } from './liveness.js';
import type { ItemSession, ItemStorageHostApi, JunctureHostApi } from './store-host.js';

export interface WorkerStoreOptions extends BrowserStoreOptions {
  /**
   * The worker (or a `MessagePort` to one) that serves storage with `exposeJunctureStorage()`, such as the one
   * a `WorkerSaver` uses. Without it, the store starts the package's own worker and ends it on `close()`.
   */
  worker?: Worker | MessagePort;
  /** How long the worker may take to answer its first message before calls reject with `UNAVAILABLE`. Default 10 s. */
  startTimeout?: number;
}

/** `ItemStorage` whose calls run in a worker's item storage host; once the host is gone they reject with `UNAVAILABLE`. */
class RemoteItemStorage implements ItemStorage {
  readonly dbName: string;
  readonly #connection: HostConnection<JunctureHostApi>;
  readonly #items: Comlink.Remote<ItemStorageHostApi>;
  readonly #session: ItemSession;
  #closed = false;

  constructor(connection: HostConnection<JunctureHostApi>, session: ItemSession) {
    this.#connection = connection;
    // Comlink calls nested members by their path; its types see a plain property as a value to await, though.
    this.#items = connection.host.items as unknown as Comlink.Remote<ItemStorageHostApi>;
    this.#session = session;
    this.dbName = session.dbName;
  }

  #open(): void {
    if (this.#closed) throw new CheckpointError('CLOSED', `The store on IndexedDB database "${this.dbName}" was closed; create a new one.`);
  }

  async execute(batch: ItemBatch): Promise<ItemReadResult[]> {
    this.#open();
    return this.#connection.call(() => this.#items.execute(this.#session, batch));
  }

  async sweepExpired(): Promise<number> {
    this.#open();
    return this.#connection.call(() => this.#items.sweepExpired(this.#session));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (!this.#connection.loss) await this.#connection.call(() => this.#items.close(this.#session));
    } finally {
      await this.#connection.release();
    }
  }
}

/**
 * `BrowserStore` whose IndexedDB work runs in a Web Worker. Give it the worker of a `WorkerSaver` and one
 * worker holds both the checkpoints and the long-term memory.
 */
export class WorkerStore extends StoredItemStore {
  readonly #connection: HostConnection<JunctureHostApi>;

  constructor(options: WorkerStoreOptions = {}) {
    const session = resolveStoreOptions(options);
    const connection = new HostConnection<JunctureHostApi>({
      worker: options.worker,
      dbName: session.dbName,
      startTimeout: options.startTimeout,
      owner: 'WorkerStore',
    });
    super(new RemoteItemStorage(connection, session), options);
    this.#connection = connection;
  }

  /**
   * Why the worker cannot answer, once it cannot (every call then rejects with `UNAVAILABLE`), and whether a new
   * `WorkerStore` would start a working one; undefined while it answers.
   */
  get unavailable(): HostLoss | undefined {
    return this.#connection.loss;
  }
}
