import * as Comlink from 'comlink';
import { startDefaultWorker } from '../default-worker.js';
import { CheckpointError } from '../errors.js';
import { resolveStorageOptions, type BrowserSaverOptions } from '../saver/browser-saver.js';
import { StoredCheckpointSaver } from '../saver/stored-saver.js';
import type { Durability } from '../storage/storage.js';
import { watchHost, type HostLoss } from './liveness.js';
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
const DEFAULT_START_TIMEOUT = 10_000;
/** How long `close()` waits for the saver's own worker to end itself before terminating it. */
const END_GRACE = 2_000;

function startOwnWorker(): Worker {
  try {
    return startDefaultWorker();
  } catch (error) {
    // A Content-Security-Policy that forbids the worker may refuse it here already.
    throw new CheckpointError(
      'UNAVAILABLE',
      `WorkerSaver could not start its worker (${String(error)}); allow it (worker-src) or use BrowserSaver.`,
      { cause: error },
    );
  }
}

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
    const startTimeout = options.startTimeout ?? DEFAULT_START_TIMEOUT;
    if (!(typeof startTimeout === 'number' && startTimeout > 0 && Number.isFinite(startTimeout))) {
      throw new CheckpointError('INVALID_CONFIG', `startTimeout must be a positive number of milliseconds, got ${JSON.stringify(startTimeout)}.`);
    }
    if (options.worker === undefined && typeof Worker === 'undefined') {
      throw new CheckpointError('UNAVAILABLE', 'WorkerSaver needs Web Workers, which this context lacks; use BrowserSaver.');
    }
    const owned = options.worker === undefined ? startOwnWorker() : undefined;
    const endpoint = options.worker ?? owned!;
    const host = Comlink.wrap<StorageHostApi>(endpoint);
    const remote = new RemoteCheckpointStorage(host, { dbName, durability }, ack);
    const stopWatching = watchHost({
      endpoint,
      greeting: host.hello().then((outcome) => (outcome.ok ? outcome.value : {})),
      startTimeout,
      onLoss: (loss) => remote.lose(loss),
    });
    super(remote, dbName, options);
    this.#remote = remote;
    let released = false;
    this.#release = async () => {
      if (released) return;
      released = true;
      // A caller's worker may serve other savers: only our own is ended, from inside first (see `end`).
      if (owned) await remote.endHost(END_GRACE);
      stopWatching();
      if (!owned) return;
      host[Comlink.releaseProxy]();
      owned.terminate();
    };
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
