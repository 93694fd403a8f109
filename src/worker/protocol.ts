/**
 * The one protocol between `WorkerSaver` (page) and the storage host (worker), carried by Comlink.
 * Values cross as structured clones; their bytes are transferred, not copied. Every answer is an `Outcome`,
 * so that a `CheckpointError` arrives with its code (Comlink would pass only a plain Error).
 */
import type { CheckpointErrorCode } from '../errors.js';
import type {
  CheckpointPage,
  CheckpointQuery,
  Durability,
  ListResume,
  StoredTuple,
  TuplePage,
  WriteOperation,
} from '../storage/checkpoint-store.js';
import type { CheckpointRecord } from '../storage/records.js';
import type { PruneOptions } from '../storage/retention.js';

/**
 * When a write resolves. `'committed'`: after its transaction completed (durable). `'queued'`: as soon as the
 * worker holds it; the worker commits in batches behind it (`flush()` waits for them).
 */
export type Acknowledgement = 'committed' | 'queued';

/** Which database a call is for, and how; a worker can serve several. */
export interface StorageSession {
  dbName: string;
  durability: Durability;
  ack: Acknowledgement;
}

export interface SerializedCheckpointError {
  code: CheckpointErrorCode;
  message: string;
  cause?: { name: string; message: string };
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: SerializedCheckpointError };

/** The answer to a batch of writes. */
export interface WriteAnswer {
  /** With ack `'committed'`: one outcome per operation, once each committed or failed. With `'queued'`: none. */
  outcomes: Outcome<void>[];
  /** With ack `'queued'`: an earlier queued write that failed since the last answer. */
  failure?: SerializedCheckpointError;
}

export interface StorageHostApi {
  /** Stores operations in order, each atomically; the page sends what it has in one call. */
  write(session: StorageSession, operations: WriteOperation[]): Promise<Outcome<WriteAnswer>>;
  getTuple(session: StorageSession, thread_id: string, checkpoint_ns: string, checkpoint_id?: string): Promise<Outcome<StoredTuple | undefined>>;
  listCheckpoints(session: StorageSession, query: CheckpointQuery, pageSize: number, resume?: ListResume): Promise<Outcome<CheckpointPage>>;
  loadTuples(session: StorageSession, records: CheckpointRecord[]): Promise<Outcome<StoredTuple[]>>;
  listTuples(session: StorageSession, query: CheckpointQuery, pageSize: number, resume?: ListResume): Promise<Outcome<TuplePage>>;
  prune(session: StorageSession, threadIds: string[] | undefined, options: PruneOptions): Promise<Outcome<number>>;
  copyThread(session: StorageSession, from: string, to: string): Promise<Outcome<number>>;
  /** Waits until every write sent so far is committed; rejects with any failure of a queued write. */
  flush(session: StorageSession): Promise<Outcome<void>>;
  /** Flushes, then closes the session's database connection. */
  close(session: StorageSession): Promise<Outcome<void>>;
}
