import { CheckpointError } from '../errors.js';
import { resolveStorageOptions, type BrowserSaverOptions } from '../saver/browser-saver.js';
import { StoredCheckpointSaver } from '../saver/stored-saver.js';
import type { Durability } from '../storage/storage.js';
import { HostConnection } from './host-connection.js';
import type { HostLoss } from './liveness.js';
import type { Acknowledgement, StorageHostApi } from './protocol.js';
import { RemoteCheckpointStorage } from './remote-storage.js';

export interface WorkerSaverOptions extends BrowserSaverOptions {
  /**
   * The worker (or a `MessagePort` to one) that serves storage with `exposeCheckpointStorage()`.
   * Without it, the saver starts the package's own worker and ends it on `close()`.
   */
  worker?: Worker | MessagePort;
  /**
   * `'committed'` (default): writes resolve after their transaction completed. `'queued'`: writes resolve at
   * once and commit in batches behind; `flush()` waits for them.
   */
  ack?: Acknowledgement;
  /** How long the worker may take to answer its first message before calls reject with `UNAVAILABLE`. Default 10 s. */
  startTimeout?: number;
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
  readonly #release: () => Promise<void>;
  readonly #flushOnHide = () => {
    void this.flush().catch((error: unknown) => console.error('juncture-browser: flushing on page hide failed', error));
  };

  constructor(options: WorkerSaverOptions = {}) {
    const { dbName, durability } = resolveStorageOptions(options);
    const ack = options.ack ?? 'committed';
    if (!ACKNOWLEDGEMENTS.includes(ack)) {
      throw new CheckpointError('INVALID_CONFIG', `ack must be one of ${ACKNOWLEDGEMENTS.join(', ')}, got ${JSON.stringify(ack)}.`);
    }
    const connection = new HostConnection<StorageHostApi>({ worker: options.worker, dbName, startTimeout: options.startTimeout, owner: 'WorkerSaver' });
    const remote = new RemoteCheckpointStorage(connection, { dbName, durability }, ack);
    super(remote, dbName, options);
    this.#remote = remote;
    this.#release = () => connection.release();
    this.durability = durability;
    this.ack = ack;
    if (ack === 'queued' && typeof addEventListener === 'function') addEventListener('pagehide', this.#flushOnHide);
  }

  /**
   * Why the worker cannot answer, once it cannot (every call then rejects with `UNAVAILABLE`), and whether a new
   * `WorkerSaver` would start a working one; undefined while it answers.
   */
  get unavailable(): HostLoss | undefined {
    return this.#remote.loss;
  }

  /** Waits for every write made before it, closes the database, and ends the worker the saver started. */
  override async close(): Promise<void> {
    if (typeof removeEventListener === 'function') removeEventListener('pagehide', this.#flushOnHide);
    try {
      await super.close();
    } finally {
      await this.#release();
    }
  }
}
