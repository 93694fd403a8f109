/**
 * The one protocol between `WorkerSaver` (page) and the storage host (worker), carried by Comlink.
 * Values cross as structured clones; their bytes are transferred, not copied. Every answer is an `Outcome`,
 * so that a `CheckpointError` arrives with its code (Comlink would pass only a plain Error).
 */
import type { CheckpointErrorCode } from '../errors.js';
import type { CheckpointRecord } from '../storage/records.js';
import type {
  CheckpointPage,
  CheckpointQuery,
  DeltaHistory,
  Durability,
  ListResume,
  PruneOptions,
  StoredTuple,
  TuplePage,
  WriteOperation,
} from '../storage/storage.js';

/**
 * When a write resolves. `'committed'`: after its transaction completed (durable). `'queued'`: as soon as the
 * page holds it; it commits in batches behind (`flush()` waits for them).
 */
export type Acknowledgement = 'committed' | 'queued';

/** Which database a call is for, and how; a worker can serve several. */
export interface StorageSession {
  dbName: string;
  durability: Durability;
}

export interface SerializedCheckpointError {
  code: CheckpointErrorCode;
  message: string;
  cause?: { name: string; message: string };
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: SerializedCheckpointError };

/** The host's answer to `hello`. */
export interface HostGreeting {
  /**
   * A Web Lock the host holds for as long as its context lives: the page asks for it too, and is granted it
   * once the host's context is gone (terminated, crashed, out of memory). Absent where Web Locks are not.
   */
  lifetimeLock?: string;
}

export interface StorageHostApi {
  /** Answers once the host runs; the page learns from it how to notice that the host has gone. */
  hello(): Promise<Outcome<HostGreeting>>;
  /** Stores operations in order, each atomically; answers with one outcome per operation once each settled. */
  write(session: StorageSession, operations: WriteOperation[]): Promise<Outcome<Outcome<void>[]>>;
  getTuple(session: StorageSession, thread_id: string, checkpoint_ns: string, checkpoint_id?: string): Promise<Outcome<StoredTuple | undefined>>;
  listCheckpoints(session: StorageSession, query: CheckpointQuery, pageSize: number, resume?: ListResume): Promise<Outcome<CheckpointPage>>;
  loadTuples(session: StorageSession, records: CheckpointRecord[]): Promise<Outcome<StoredTuple[]>>;
  listTuples(session: StorageSession, query: CheckpointQuery, pageSize: number, resume?: ListResume): Promise<Outcome<TuplePage>>;
  deltaHistory(
    session: StorageSession,
    thread_id: string,
    checkpoint_ns: string,
    checkpoint_id: string | undefined,
    channels: string[],
  ): Promise<Outcome<DeltaHistory>>;
  prune(session: StorageSession, threadIds: string[] | undefined, options: PruneOptions): Promise<Outcome<number>>;
  copyThread(session: StorageSession, from: string, to: string): Promise<Outcome<number>>;
  /** Waits for the session's calls made before it, then closes its database connection. */
  close(session: StorageSession): Promise<Outcome<void>>;
  /**
   * Closes every database, then ends the worker from inside once it has answered. Only the saver that started
   * the worker asks: a worker that ends itself lets the browser finish closing its connections, where one
   * terminated from outside may leave them open (WebKit), blocking later upgrades and deletions.
   */
  end(): Promise<Outcome<void>>;
}
