import * as Comlink from 'comlink';
import { startDefaultWorker } from '../default-worker.js';
import { CheckpointError } from '../errors.js';
import { resolveStorageOptions, type BrowserSaverOptions } from '../saver/browser-saver.js';
import { StoredCheckpointSaver } from '../saver/stored-saver.js';
import type { Durability } from '../storage/checkpoint-store.js';
import type { Acknowledgement, StorageHostApi } from './protocol.js';
import { RemoteCheckpointStorage } from './remote-storage.js';

export interface WorkerSaverOptions extends BrowserSaverOptions {
  /**
   * The worker (or a `MessagePort` to one) that serves storage with `exposeCheckpointStorage()`.
   * Without it, the saver starts the package's own worker and ends it on `close()`.
   */
  worker?: Worker | MessagePort;
  /**
   * `'committed'` (default): writes resolve after their transaction completed. `'queued'`: writes resolve once
   * the worker holds them and commit in batches behind; `flush()` waits for them.
   */
  ack?: Acknowledgement;
}

const ACKNOWLEDGEMENTS: readonly Acknowledgement[] = ['committed', 'queued'];

/**
 * A LangGraph.js checkpointer whose IndexedDB work runs in a Web Worker, so storage never blocks the page.
 * Values are serialized here with `serde`; only bytes cross to the worker.
 */
export class WorkerSaver extends StoredCheckpointSaver {
  readonly durability: Durability;
  readonly ack: Acknowledgement;
  readonly #remote: RemoteCheckpointStorage;
  readonly #flushOnHide = () => {
    void this.flush().catch((error: unknown) => console.error('juncture-browser: flushing on page hide failed', error));
  };

  constructor(options: WorkerSaverOptions = {}) {
    const { dbName, durability } = resolveStorageOptions(options);
    const ack = options.ack ?? 'committed';
    if (!ACKNOWLEDGEMENTS.includes(ack)) {
      throw new CheckpointError('INVALID_CONFIG', `ack must be one of ${ACKNOWLEDGEMENTS.join(', ')}, got ${JSON.stringify(ack)}.`);
    }
    if (options.worker === undefined && typeof Worker === 'undefined') {
      throw new CheckpointError('UNAVAILABLE', 'WorkerSaver needs Web Workers, which this context lacks; use BrowserSaver.');
    }
    const owned = options.worker === undefined ? startDefaultWorker() : undefined;
    const endpoint = options.worker ?? owned!;
    const host = Comlink.wrap<StorageHostApi>(endpoint);
    const remote = new RemoteCheckpointStorage(host, { dbName, durability, ack }, () => {
      // Releasing tells the other end to stop serving; a caller's worker may serve other savers, so only our own.
      if (!owned) return;
      host[Comlink.releaseProxy]();
      owned.terminate();
    });
    super(remote, dbName, options);
    this.#remote = remote;
    this.durability = durability;
    this.ack = ack;
    if (ack === 'queued' && typeof addEventListener === 'function') addEventListener('pagehide', this.#flushOnHide);
  }

  /** Resolves once every write made so far is committed; rejects with the error of a queued write that failed. */
  flush(): Promise<void> {
    return this.#remote.flush();
  }

  /** Flushes, closes the database, releases the worker proxy and ends the worker the saver started. */
  override async close(): Promise<void> {
    if (typeof removeEventListener === 'function') removeEventListener('pagehide', this.#flushOnHide);
    await this.#remote.close();
  }
}
