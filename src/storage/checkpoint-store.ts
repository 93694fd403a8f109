import type { IDBPTransaction, StoreNames } from 'idb';
import { CheckpointError, storageError } from '../errors.js';
import { deleteDatabase, openDatabase, type JunctureDatabase } from './database.js';
import type {
  BlobRecord,
  CheckpointRecord,
  JunctureSchema,
  WriteKey,
  WriteRecord,
} from './records.js';

export type Durability = 'default' | 'strict' | 'relaxed';

/** A checkpoint record with everything needed to rebuild its tuple. */
export interface StoredTuple {
  checkpoint: CheckpointRecord;
  /** Blobs of the checkpoint's `channel_versions`, those that exist. */
  blobs: BlobRecord[];
  /** Pending writes against the checkpoint, in key order. */
  writes: WriteRecord[];
  /** For checkpoints older than format 4: the parent's writes to `__pregel_tasks`. */
  parentSends?: WriteRecord[];
}

/** Which checkpoints a list walks; all bounds are on checkpoint ids, which sort by time. */
export interface CheckpointQuery {
  thread_id?: string;
  checkpoint_ns?: string;
  checkpoint_id?: string;
  /** Only ids strictly less than this. */
  before?: string;
  /** Only ids strictly greater than this. */
  after?: string;
  /** Only checkpoints whose metadata step lies in this range (inclusive). */
  step?: { gte?: number; lte?: number };
}

/** Where the next page of a list starts: the last key the previous page read. */
export type ListResume = IDBValidKey;

export interface CheckpointPage {
  records: CheckpointRecord[];
  /** Absent when the walk reached its end. */
  resume?: ListResume;
}

/**
 * The storage half of the savers: bytes in, bytes out, one IndexedDB transaction per call.
 * It knows nothing about serializers, so it can run in a worker and be called across a message channel.
 */
export interface CheckpointStorage {
  putCheckpoint(checkpoint: CheckpointRecord, blobs: BlobRecord[]): Promise<void>;
  putWrites(writes: WriteRecord[]): Promise<void>;
  /** The checkpoint with this id, or the latest of (thread, namespace) when `checkpoint_id` is absent. */
  getTuple(thread_id: string, checkpoint_ns: string, checkpoint_id?: string): Promise<StoredTuple | undefined>;
  /** Up to `pageSize` checkpoint records, newest first, continuing from `resume`. */
  listCheckpoints(query: CheckpointQuery, pageSize: number, resume?: ListResume): Promise<CheckpointPage>;
  /** Blobs and writes for records returned by `listCheckpoints`, in one transaction. */
  loadTuples(records: CheckpointRecord[]): Promise<StoredTuple[]>;
  deleteThread(thread_id: string): Promise<void>;
  close(): Promise<void>;
}

const TASKS_CHANNEL = '__pregel_tasks';

type ReadTransaction = IDBPTransaction<JunctureSchema, StoreNames<JunctureSchema>[], 'readonly'>;

/** Everything under a key prefix: arrays sort after strings, so `[...prefix, []]` bounds every longer key. */
function prefixRange(prefix: IDBValidKey[]): IDBKeyRange {
  return IDBKeyRange.bound(prefix, [...prefix, []]);
}

type AnyTransaction = { done: Promise<void>; abort(): void };

/**
 * Runs a transaction's requests and waits for its commit. If anything throws, synchronously (an invalid key)
 * or as a failed request, the transaction is aborted so that none of the call's changes are kept.
 */
async function settle<T>(
  tx: AnyTransaction,
  body: (track: <R>(request: Promise<R>) => Promise<R>) => Promise<T>,
): Promise<T> {
  // Requests queued before a synchronous throw reject with AbortError once we abort: mark them handled.
  const track = <R>(request: Promise<R>): Promise<R> => {
    request.catch(() => undefined);
    return request;
  };
  try {
    const result = await body(track);
    await tx.done;
    return result;
  } catch (error) {
    try {
      tx.abort();
    } catch {
      // Already finished or aborted: nothing was committed by this call's failure path.
    }
    tx.done.catch(() => undefined);
    throw error;
  }
}

/** Issues every read for one tuple at once, inside the caller's transaction. */
async function readTuple(tx: ReadTransaction, checkpoint: CheckpointRecord): Promise<StoredTuple> {
  const { thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id } = checkpoint;
  const blobs = tx.objectStore('blobs');
  const writes = tx.objectStore('writes');
  const blobReads = Object.entries(checkpoint.channel_versions).map(([channel, version]) =>
    blobs.get([thread_id, checkpoint_ns, channel, version]),
  );
  const writeRead = writes.getAll(prefixRange([thread_id, checkpoint_ns, checkpoint_id]));
  const sendsRead =
    checkpoint.v < 4 && parent_checkpoint_id !== undefined
      ? writes.getAll(prefixRange([thread_id, checkpoint_ns, parent_checkpoint_id]))
      : undefined;
  const [blobRecords, writeRecords, parentWrites] = await Promise.all([
    Promise.all(blobReads),
    writeRead,
    sendsRead,
  ]);
  const tuple: StoredTuple = {
    checkpoint,
    blobs: blobRecords.filter((blob): blob is BlobRecord => blob !== undefined),
    writes: writeRecords,
  };
  if (parentWrites) tuple.parentSends = parentWrites.filter((write) => write.channel === TASKS_CHANNEL);
  return tuple;
}

function inRange(step: number | undefined, range: CheckpointQuery['step']): boolean {
  if (!range) return true;
  if (step === undefined) return false;
  return (range.gte === undefined || step >= range.gte) && (range.lte === undefined || step <= range.lte);
}

/** The key range a query walks, on the store or on one of its indexes; undefined when it is empty. */
function queryRange(query: CheckpointQuery, resume: ListResume | undefined):
  | { source: 'store' | 'by_thread' | 'by_time'; range: IDBKeyRange | null }
  | undefined {
  const { thread_id, checkpoint_ns, before, after } = query;
  let source: 'store' | 'by_thread' | 'by_time';
  let lower: IDBValidKey[] | undefined;
  let upper: IDBValidKey[] | undefined;
  // Bounds are written so that every key with an id <= after sorts below `lower`
  // and every key with an id >= before sorts at or above `upper`.
  if (thread_id !== undefined && checkpoint_ns !== undefined) {
    source = 'store';
    lower = after !== undefined ? [thread_id, checkpoint_ns, after, []] : [thread_id, checkpoint_ns];
    upper = before !== undefined ? [thread_id, checkpoint_ns, before] : [thread_id, checkpoint_ns, []];
  } else if (thread_id !== undefined) {
    source = 'by_thread';
    lower = after !== undefined ? [thread_id, after, []] : [thread_id];
    upper = before !== undefined ? [thread_id, before] : [thread_id, []];
  } else {
    source = 'by_time';
    lower = after !== undefined ? [after, []] : undefined;
    upper = before !== undefined ? [before] : undefined;
  }
  // Pages walk newest first: the next page ends just below the last key the previous one read.
  const upperKey = resume ?? upper;
  if (lower !== undefined && upperKey !== undefined) {
    if (indexedDB.cmp(lower, upperKey) >= 0) return undefined;
    return { source, range: IDBKeyRange.bound(lower, upperKey, false, true) };
  }
  if (lower !== undefined) return { source, range: IDBKeyRange.lowerBound(lower) };
  if (upperKey !== undefined) return { source, range: IDBKeyRange.upperBound(upperKey, true) };
  return { source, range: null };
}

export interface IndexedDBStorageOptions {
  dbName: string;
  durability: Durability;
}

/** `CheckpointStorage` on one IndexedDB database, opened lazily and reopened after a version change. */
export class IndexedDBCheckpointStorage implements CheckpointStorage {
  readonly dbName: string;
  readonly durability: Durability;
  #connection: Promise<JunctureDatabase> | undefined;
  #closed = false;

  constructor(options: IndexedDBStorageOptions) {
    this.dbName = options.dbName;
    this.durability = options.durability;
  }

  static deleteDatabase(dbName: string): Promise<void> {
    return deleteDatabase(dbName);
  }

  #database(): Promise<JunctureDatabase> {
    if (this.#closed) {
      return Promise.reject(
        new CheckpointError('CLOSED', `The saver on IndexedDB database "${this.dbName}" was closed; create a new one.`),
      );
    }
    if (!this.#connection) {
      const opening = openDatabase(this.dbName, {
        // Another tab upgrades or deletes the database: step aside, and reopen on the next call.
        onVersionChange: () => this.#drop(opening),
        onTerminated: () => this.#drop(opening),
      });
      this.#connection = opening;
      opening.catch(() => {
        if (this.#connection === opening) this.#connection = undefined;
      });
    }
    return this.#connection;
  }

  #drop(connection: Promise<JunctureDatabase>): void {
    if (this.#connection === connection) this.#connection = undefined;
    void connection.then((db) => db.close(), () => undefined);
  }

  async #run<T>(action: string, body: (db: JunctureDatabase) => Promise<T>): Promise<T> {
    const db = await this.#database();
    try {
      return await body(db);
    } catch (error) {
      throw storageError(action, error);
    }
  }

  putCheckpoint(checkpoint: CheckpointRecord, blobs: BlobRecord[]): Promise<void> {
    return this.#run(`Storing checkpoint ${checkpoint.checkpoint_id}`, async (db) => {
      const tx = db.transaction(['checkpoints', 'blobs'], 'readwrite', { durability: this.durability });
      const blobStore = tx.objectStore('blobs');
      await settle(tx, (track) =>
        Promise.all([
          track(tx.objectStore('checkpoints').put(checkpoint)),
          ...blobs.map((blob) => track(blobStore.put(blob))),
        ]),
      );
    });
  }

  putWrites(writes: WriteRecord[]): Promise<void> {
    if (writes.length === 0) return Promise.resolve();
    return this.#run(`Storing ${writes.length} writes of task ${writes[0]!.task_id}`, async (db) => {
      const tx = db.transaction('writes', 'readwrite', { durability: this.durability });
      const store = tx.objectStore('writes');
      const keyOfWrite = (w: WriteRecord): WriteKey => [w.thread_id, w.checkpoint_ns, w.checkpoint_id, w.task_id, w.idx];
      await settle(tx, async (track) => {
        // Special writes (negative idx) replace; regular writes keep the first value stored under their key.
        const regular = writes.filter((write) => write.idx >= 0);
        const existing = await Promise.all(regular.map((write) => track(store.getKey(keyOfWrite(write)))));
        await Promise.all([
          ...regular.filter((_, i) => existing[i] === undefined).map((write) => track(store.put(write))),
          ...writes.filter((write) => write.idx < 0).map((write) => track(store.put(write))),
        ]);
      });
    });
  }

  getTuple(thread_id: string, checkpoint_ns: string, checkpoint_id?: string): Promise<StoredTuple | undefined> {
    return this.#run(`Reading checkpoint ${checkpoint_id ?? `latest of thread "${thread_id}"`}`, async (db) => {
      const tx = db.transaction(['checkpoints', 'blobs', 'writes'], 'readonly');
      const checkpoints = tx.objectStore('checkpoints');
      let record: CheckpointRecord | undefined;
      if (checkpoint_id !== undefined) {
        record = await checkpoints.get([thread_id, checkpoint_ns, checkpoint_id]);
      } else {
        const cursor = await checkpoints.openCursor(prefixRange([thread_id, checkpoint_ns]), 'prev');
        record = cursor?.value;
      }
      const tuple = record ? await readTuple(tx, record) : undefined;
      await tx.done;
      return tuple;
    });
  }

  listCheckpoints(query: CheckpointQuery, pageSize: number, resume?: ListResume): Promise<CheckpointPage> {
    return this.#run('Listing checkpoints', async (db) => {
      const walk = queryRange(query, resume);
      if (!walk) return { records: [] };
      const tx = db.transaction('checkpoints', 'readonly');
      const store = tx.objectStore('checkpoints');
      const source = walk.source === 'store' ? store : store.index(walk.source);
      const records: CheckpointRecord[] = [];
      let cursor = await source.openCursor(walk.range, 'prev');
      let last: IDBValidKey | undefined;
      while (cursor && records.length < pageSize) {
        const record = cursor.value;
        last = cursor.key;
        if (
          (query.checkpoint_ns === undefined || record.checkpoint_ns === query.checkpoint_ns) &&
          (query.checkpoint_id === undefined || record.checkpoint_id === query.checkpoint_id) &&
          inRange(record.step, query.step)
        ) {
          records.push(record);
        }
        cursor = await cursor.continue();
      }
      await tx.done;
      return cursor && last !== undefined ? { records, resume: last } : { records };
    });
  }

  loadTuples(records: CheckpointRecord[]): Promise<StoredTuple[]> {
    if (records.length === 0) return Promise.resolve([]);
    return this.#run(`Reading ${records.length} checkpoints`, async (db) => {
      const tx = db.transaction(['checkpoints', 'blobs', 'writes'], 'readonly');
      const tuples = await Promise.all(records.map((record) => readTuple(tx, record)));
      await tx.done;
      return tuples;
    });
  }

  deleteThread(thread_id: string): Promise<void> {
    return this.#run(`Deleting thread "${thread_id}"`, async (db) => {
      const tx = db.transaction(['checkpoints', 'blobs', 'writes'], 'readwrite', { durability: this.durability });
      const range = prefixRange([thread_id]);
      await settle(tx, (track) =>
        Promise.all([
          track(tx.objectStore('checkpoints').delete(range)),
          track(tx.objectStore('blobs').delete(range)),
          track(tx.objectStore('writes').delete(range)),
        ]),
      );
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection) (await connection.catch(() => undefined))?.close();
  }
}
