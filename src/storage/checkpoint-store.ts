import type { IDBPTransaction, StoreNames } from 'idb';
import { CheckpointError, storageError } from '../errors.js';
import { ChangeBroadcaster, type CheckpointChange } from './changes.js';
import { deleteDatabase, openDatabase, type JunctureDatabase } from './database.js';
import { prefixRange } from './keys.js';
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
/** A change to store; a batch of them commits in one transaction, in order. */
export type WriteOperation =
  | { kind: 'checkpoint'; checkpoint: CheckpointRecord; blobs: BlobRecord[] }
  /** Writes of one task against one checkpoint. */
  | { kind: 'writes'; writes: WriteRecord[] }
  | { kind: 'delete'; thread_id: string };

export interface CheckpointStorage {
  /** Stores one operation atomically. */
  write(operation: WriteOperation): Promise<void>;
  /** The checkpoint with this id, or the latest of (thread, namespace) when `checkpoint_id` is absent. */
  getTuple(thread_id: string, checkpoint_ns: string, checkpoint_id?: string): Promise<StoredTuple | undefined>;
  /** Up to `pageSize` checkpoint records, newest first, continuing from `resume`. */
  listCheckpoints(query: CheckpointQuery, pageSize: number, resume?: ListResume): Promise<CheckpointPage>;
  /** Blobs and writes for records returned by `listCheckpoints`, in one transaction. */
  loadTuples(records: CheckpointRecord[]): Promise<StoredTuple[]>;
  close(): Promise<void>;
}

const TASKS_CHANNEL = '__pregel_tasks';

type ReadTransaction = IDBPTransaction<JunctureSchema, StoreNames<JunctureSchema>[], 'readonly'>;

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

type WriteTransaction = IDBPTransaction<JunctureSchema, StoreNames<JunctureSchema>[], 'readwrite'>;

async function applyOperation(
  tx: WriteTransaction,
  operation: WriteOperation,
  claimed: Set<string>,
  track: <R>(request: Promise<R>) => Promise<R>,
): Promise<void> {
  switch (operation.kind) {
    case 'checkpoint': {
      const blobs = tx.objectStore('blobs');
      await Promise.all([
        track(tx.objectStore('checkpoints').put(operation.checkpoint)),
        ...operation.blobs.map((blob) => track(blobs.put(blob))),
      ]);
      return;
    }
    case 'writes': {
      const store = tx.objectStore('writes');
      const keyOf = (w: WriteRecord): WriteKey => [w.thread_id, w.checkpoint_ns, w.checkpoint_id, w.task_id, w.idx];
      const regular = operation.writes.filter((write) => write.idx >= 0);
      const stored = await Promise.all(regular.map((write) => track(store.getKey(keyOf(write)))));
      const fresh = regular.filter((write, i) => {
        const key = JSON.stringify(keyOf(write));
        if (stored[i] !== undefined || claimed.has(key)) return false;
        claimed.add(key);
        return true;
      });
      // Special writes (negative idx: error, interrupt, resume, scheduled) replace what is stored.
      const special = operation.writes.filter((write) => write.idx < 0);
      await Promise.all([...fresh, ...special].map((write) => track(store.put(write))));
      return;
    }
    case 'delete': {
      const range = prefixRange([operation.thread_id]);
      await Promise.all([
        track(tx.objectStore('checkpoints').delete(range)),
        track(tx.objectStore('blobs').delete(range)),
        track(tx.objectStore('writes').delete(range)),
      ]);
      // A later write in the same batch may recreate the thread: forget what was claimed before.
      for (const key of claimed) if ((JSON.parse(key) as string[])[0] === operation.thread_id) claimed.delete(key);
      return;
    }
  }
}

function changesOf(operation: WriteOperation): CheckpointChange[] {
  switch (operation.kind) {
    case 'checkpoint': {
      const { thread_id, checkpoint_ns, checkpoint_id } = operation.checkpoint;
      return [{ kind: 'checkpoint', thread_id, checkpoint_ns, checkpoint_id }];
    }
    case 'writes': {
      const first = operation.writes[0];
      if (!first) return [];
      const { thread_id, checkpoint_ns, checkpoint_id, task_id } = first;
      return [{ kind: 'writes', thread_id, checkpoint_ns, checkpoint_id, task_id }];
    }
    case 'delete':
      return [{ kind: 'delete', thread_id: operation.thread_id }];
  }
}

function describeOperations(operations: WriteOperation[]): string {
  if (operations.length > 1) return `Committing ${operations.length} operations`;
  const [operation] = operations as [WriteOperation];
  switch (operation.kind) {
    case 'checkpoint':
      return `Storing checkpoint ${operation.checkpoint.checkpoint_id}`;
    case 'writes':
      return `Storing ${operation.writes.length} writes of task ${operation.writes[0]?.task_id ?? '(none)'}`;
    case 'delete':
      return `Deleting thread "${operation.thread_id}"`;
  }
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
  readonly #changes: ChangeBroadcaster;

  constructor(options: IndexedDBStorageOptions) {
    this.dbName = options.dbName;
    this.durability = options.durability;
    this.#changes = new ChangeBroadcaster(options.dbName);
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
        // Another tab upgrades or deletes the database: step aside, say so once, and reopen on the next call.
        onVersionChange: () => {
          this.#drop(opening);
          this.#changes.post([{ kind: 'versionchange' }]);
        },
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
    for (let attempt = 0; ; attempt += 1) {
      const connection = this.#database();
      const db = await connection;
      try {
        return await body(db);
      } catch (error) {
        // The connection closed under us (another tab's upgrade): the call changed nothing, so run it once more.
        const dropped = this.#connection !== connection && !this.#closed;
        if (attempt === 0 && dropped && (error as { name?: string }).name === 'InvalidStateError') continue;
        throw storageError(action, error);
      }
    }
  }

  write(operation: WriteOperation): Promise<void> {
    return this.commit([operation]);
  }

  /**
   * Commits operations in one transaction, in order, and then announces them. Any failure aborts the
   * transaction, so either all of them are stored or none.
   */
  commit(operations: WriteOperation[]): Promise<void> {
    if (operations.length === 0) return Promise.resolve();
    return this.#run(describeOperations(operations), async (db) => {
      const tx = db.transaction(['checkpoints', 'blobs', 'writes'], 'readwrite', { durability: this.durability });
      await settle(tx, async (track) => {
        // Regular writes keep the first value stored under their key, also within this batch.
        const claimed = new Set<string>();
        for (const operation of operations) await applyOperation(tx, operation, claimed, track);
      });
      this.#changes.post(operations.flatMap(changesOf));
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

  async close(): Promise<void> {
    this.#closed = true;
    const connection = this.#connection;
    this.#connection = undefined;
    this.#changes.close();
    if (connection) (await connection.catch(() => undefined))?.close();
  }
}
