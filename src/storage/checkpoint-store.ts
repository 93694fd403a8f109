import { unwrap } from 'idb';
import { CheckpointError, closedError, storageError } from '../errors.js';
import { ChangeBroadcaster, type CheckpointChange } from './changes.js';
import { CoalescingWriter } from './coalescing-writer.js';
import { closeWhenIdle, deleteDatabase, openDatabase, type JunctureDatabase } from './database.js';
import { copyThread as copyThreadRecords, pruneThread, threadIds as allThreadIds, type PruneMode } from './retention.js';
import { readDeltaHistory } from './delta-history.js';
import { HistoryNotStored, parentsToRead, readKeptValues, readParents, threadsWithoutHistory, withValuesInRecords } from './pulled-values.js';
import { readCheckpointPage, readTuples } from './reads.js';
import { ListCache } from './list-cache.js';
import { isItemSlice, listDependencies, slicesOf, spliceItem } from './lists.js';
import { JOURNAL_SETTING, PRUNED_PER_ENTRY, enqueueThreads, journalEntryOf, readJournalEntries, type JournalRead } from './journal.js';
import { JOURNAL_STORE_NAMES, STORE_NAMES, sameBytes, type BlobKey, type BlobRecord, type ChannelVersion, type CheckpointKey, type CheckpointRecord, type StoredCheckpointRecord, type StoredWriteRecord, type TypedBytes, type WriteRecord } from './records.js';
import { isChange, resolveRecords } from './checkpoint-chains.js';
import { prefixRange, requestResult } from './requests.js';
import { BatchTasks, isRegular, storedWrites, writesIn } from './task-writes.js';
import type {
  CheckpointPage,
  CheckpointQuery,
  CheckpointStorage,
  DeltaHistory,
  Durability,
  ListResume,
  PruneOptions,
  SlicedItem,
  StoredTuple,
  TuplePage,
  WriteOperation,
} from './storage.js';
import { threadOf } from './storage.js';

type StoreName = (typeof STORE_NAMES)[number] | (typeof JOURNAL_STORE_NAMES)[number];

/**
 * How a batch treats regular writes (first value wins). `'at-once'`: `add` each task's record, so a key already taken
 * aborts the batch. `'keep-first'`: what the batch's tasks have stored is read first, and only writes at an `idx`
 * not taken are stored.
 */
type BatchMode = 'at-once' | 'keep-first';

/** A regular write of an `'at-once'` batch met a key already stored: the batch must be redone `'keep-first'`. */
class TakenWriteKey extends Error {}

function isConstraintError(event: Event): boolean {
  return (event.target as IDBRequest).error?.name === 'ConstraintError';
}

/** What the requests of a batch report back while it runs. */
interface BatchEvents {
  /** A regular write met a key already stored. */
  takenKey(): void;
  /** A list builds on a version of its channel that is not stored (an earlier write of it failed). */
  missingVersion(blob: BlobRecord, version: ChannelVersion): void;
  /** A write is a part of a value that is not stored (the put of its checkpoint failed). */
  missingSource(write: WriteRecord): void;
  /** A list item is a slice of a record that is not stored (an earlier write of the thread failed). */
  missingSlice(blob: BlobRecord): void;
  /** A checkpoint stored as a change builds on a parent that is not stored, or not as a record it can build on. */
  missingParent(record: StoredCheckpointRecord): void;
}

/**
 * Checks, in the batch's transaction, that the records a list's items are slices of are stored, and that each
 * slice gives back the item's own bytes (`whole`, by item index); an item whose slice does not is stored whole,
 * by storing the blob again.
 */
function checkSliceSources(tx: IDBTransaction, blob: BlobRecord, whole: ReadonlyMap<number, TypedBytes>, events: BatchEvents, batch: BatchValues): void {
  const items = blob.list?.items ?? [];
  // The blob as stored again, with the items whose slices did not give their bytes whole (the caller's untouched).
  let rewritten: BlobRecord | undefined;
  items.forEach((item, index) => {
    if (!isItemSlice(item)) return;
    const { thread_id, checkpoint_ns } = blob;
    // A write is read with the rest of its task's: it may be one of a task's writes stored together.
    const [checkpoint_id, task_id, idx] = item.write ?? [];
    const request = item.write
      ? tx.objectStore('writes').getAll(prefixRange([thread_id, checkpoint_ns, checkpoint_id!, task_id!]))
      : tx.objectStore('blobs').get([thread_id, checkpoint_ns, ...item.blob!]);
    request.onsuccess = () => {
      const source = item.write
        ? writesIn(request.result as StoredWriteRecord[]).find((write) => write.idx === idx)?.value
        : (request.result as BlobRecord | undefined)?.value;
      if (!source) {
        events.missingSlice(blob);
        return;
      }
      const expected = whole.get(index);
      if (!expected || sameBytes(spliceItem(item, source, 'A list item'), expected)) return;
      // Stored again whole only while no later record of the batch replaced it, which its own check covers.
      if (!batch.isLast(blob)) return;
      rewritten ??= { ...blob, list: { ...blob.list!, items: [...items] } };
      rewritten.list!.items[index] = expected;
      tx.objectStore('blobs').put(rewritten);
    };
  });
}

/**
 * The values a batch stores, by thread. A value stored earlier in the same transaction is there for whatever
 * follows (a failed put aborts it all), so a check that names it needs no read: a page of pulled records, which
 * brings lists with their bases and writes with their values, then checks almost nothing in the database.
 */
class BatchValues {
  /** The last record queued under each key, by thread. */
  readonly #byThread = new Map<string, Map<string, BlobRecord>>();

  static #key(checkpoint_ns: string, channel: string, version: ChannelVersion): string {
    // `1` and `"1"` are different versions, and stay different here.
    return JSON.stringify([checkpoint_ns, channel, version]);
  }

  add(blob: BlobRecord): void {
    let values = this.#byThread.get(blob.thread_id);
    if (!values) this.#byThread.set(blob.thread_id, (values = new Map()));
    values.set(BatchValues.#key(blob.checkpoint_ns, blob.channel, blob.version), blob);
  }

  has(thread_id: string, checkpoint_ns: string, channel: string, version: ChannelVersion): boolean {
    return this.#byThread.get(thread_id)?.has(BatchValues.#key(checkpoint_ns, channel, version)) ?? false;
  }

  /** Whether `blob` is the last record the batch queued under its key (a later one replaces it as stored). */
  isLast(blob: BlobRecord): boolean {
    return this.#byThread.get(blob.thread_id)?.get(BatchValues.#key(blob.checkpoint_ns, blob.channel, blob.version)) === blob;
  }

  deleteThread(thread_id: string): void {
    this.#byThread.delete(thread_id);
  }
}

/** Checks, in the batch's transaction, that the value a write is a part of is stored. */
function checkWriteSource(tx: IDBTransaction, write: WriteRecord, events: BatchEvents, batch: BatchValues): void {
  if (!write.of || batch.has(write.thread_id, write.checkpoint_ns, write.of.channel, write.of.version)) return;
  const request = tx.objectStore('blobs').getKey([write.thread_id, write.checkpoint_ns, write.of.channel, write.of.version]);
  request.onsuccess = () => {
    if (request.result === undefined) events.missingSource(write);
  };
}

/**
 * Checks, in the batch's transaction, that the versions a list builds on are stored: a list must never be
 * stored without them.
 */
function checkListDependencies(store: IDBObjectStore, blob: BlobRecord, events: BatchEvents, batch: BatchValues): void {
  const { thread_id, checkpoint_ns, channel } = blob;
  const versions = blob.list ? listDependencies(blob.list).filter((version) => !batch.has(thread_id, checkpoint_ns, channel, version)) : [];
  if (versions.length === 0) return;
  const request = versions.length === 1
    ? store.getKey([thread_id, checkpoint_ns, channel, versions[0]!])
    : store.getAllKeys(prefixRange([thread_id, checkpoint_ns, channel]));
  request.onsuccess = () => {
    const found = versions.length === 1
      ? new Set(request.result === undefined ? [] : [versions[0]])
      : new Set((request.result as BlobKey[]).map((key) => key[3]));
    const missing = versions.find((version) => !found.has(version));
    if (missing !== undefined) events.missingVersion(blob, missing);
  };
}

/**
 * Checks, in the batch's transaction, that the parent a checkpoint stored as a change builds on is stored (by this
 * batch too: a read sees the requests queued before it), with its fields in clear and fewer changes deep.
 */
function checkParent(tx: IDBTransaction, record: StoredCheckpointRecord, events: BatchEvents): void {
  if (!isChange(record)) return;
  const { thread_id, checkpoint_ns, parent_checkpoint_id } = record;
  if (parent_checkpoint_id === undefined) {
    events.missingParent(record);
    return;
  }
  const request = tx.objectStore('checkpoints').get([thread_id, checkpoint_ns, parent_checkpoint_id] satisfies CheckpointKey);
  request.onsuccess = () => {
    const parent = request.result as StoredCheckpointRecord | undefined;
    if (parent?.depth === undefined || parent.depth >= record.depth!) events.missingParent(record);
  };
}

/**
 * Stores a checkpoint or a value. One that comes from elsewhere (sync) keeps a record already stored under its key:
 * ids and versions are unique, so it is the same checkpoint or value, but the one stored here may be in a form that
 * later records build on (a change against its parent, a list), which the ordinary form from elsewhere is not.
 */
function storeRecord(store: IDBObjectStore, record: StoredCheckpointRecord | BlobRecord, fromElsewhere: boolean): void {
  if (!fromElsewhere) {
    store.put(record);
    return;
  }
  store.add(record).onerror = (event) => {
    if (isConstraintError(event)) event.preventDefault();
  };
}

/**
 * Queues the requests of one operation; none of them is awaited. With `tasks` (a batch that keeps first values), what
 * the tasks it writes have stored is known, and regular writes are stored only at `idx` not taken.
 */
function queueOperation(tx: IDBTransaction, operation: WriteOperation, events: BatchEvents, batch: BatchValues, tasks: BatchTasks | undefined, fromElsewhere: boolean): void {
  switch (operation.kind) {
    case 'checkpoint': {
      checkParent(tx, operation.checkpoint, events);
      storeRecord(tx.objectStore('checkpoints'), operation.checkpoint, fromElsewhere);
      queueBlobs(tx, operation.blobs, events, batch, fromElsewhere, operation.slicedItems);
      return;
    }
    case 'blobs':
      queueBlobs(tx, operation.blobs, events, batch, fromElsewhere);
      return;
    case 'writes': {
      const store = tx.objectStore('writes');
      for (const write of operation.writes) checkWriteSource(tx, write, events, batch);
      // Special writes (negative idx: error, interrupt, resume, scheduled) replace what is stored. Regular writes keep
      // the first value stored under their key, also within one batch: added at once, a task's key already taken
      // aborts the batch, which is then done again knowing what each task has stored (its records then replace).
      for (const record of tasks ? tasks.add(operation.writes) : storedWrites(operation.writes)) {
        if (tasks || !isRegular(record)) {
          store.put(record);
          continue;
        }
        store.add(record).onerror = (event) => {
          if (isConstraintError(event)) events.takenKey();
        };
      }
      return;
    }
    case 'delete': {
      const range = prefixRange([operation.thread_id]);
      for (const store of STORE_NAMES) tx.objectStore(store).delete(range);
      batch.deleteThread(operation.thread_id);
      tasks?.deleteThread(operation.thread_id);
      return;
    }
  }
}

function queueBlobs(tx: IDBTransaction, blobs: BlobRecord[], events: BatchEvents, batch: BatchValues, fromElsewhere: boolean, slicedItems: SlicedItem[] = []): void {
  const store = tx.objectStore('blobs');
  for (const [index, blob] of blobs.entries()) {
    checkListDependencies(store, blob, events, batch);
    storeRecord(store, blob, fromElsewhere);
    batch.add(blob);
    const whole = new Map(slicedItems.filter((sliced) => sliced.blob === index).map((sliced) => [sliced.item, sliced.bytes]));
    checkSliceSources(tx, blob, whole, events, batch);
  }
}

/** The stores a batch writes: a smaller scope costs less to open and lets other transactions run alongside. */
function storesOf(operations: WriteOperation[]): StoreName[] {
  const stores = new Set<StoreName>(JOURNAL_STORE_NAMES);
  for (const operation of operations) {
    if (operation.kind === 'checkpoint' || operation.kind === 'blobs') {
      if (operation.kind === 'checkpoint') stores.add('checkpoints');
      stores.add('blobs');
      // A list item that is a slice of a write checks that write.
      if (operation.blobs.some((blob) => slicesOf(blob).some((slice) => slice.write))) stores.add('writes');
    }
    // A write that is a part of a stored value checks that value.
    else if (operation.kind === 'writes') {
      stores.add('writes');
      if (operation.writes.some((write) => write.of)) stores.add('blobs');
    }
    else return [...STORE_NAMES, ...JOURNAL_STORE_NAMES];
  }
  return [...stores];
}

export interface CommitOptions {
  /**
   * Record the operations in the journal when it is on (default). False for changes applied from elsewhere:
   * they are not journaled, and those of a thread deleted here are dropped.
   */
  journal?: boolean;
  /** Settings stored in the same transaction. */
  settings?: Record<string, unknown>;
}

/** What a batch knows of the journal before it runs: on (seen before), or to be read in its transaction. */
type JournalState = 'on' | 'unknown';

/**
 * A record from elsewhere that builds on one not stored here: the thread's history may have been pruned here, and
 * can be fetched again (`HistoryNotStored`, the cause).
 */
function notStoredHere(what: string, thread_id: string): CheckpointError {
  return new CheckpointError('STORAGE', `${what}, which is not stored here (pruned here, or never received): nothing of this call was written.`, {
    cause: new HistoryNotStored([thread_id]),
  });
}

/**
 * Queues every request of a batch at once, without awaiting any, in the order of the operations (so a deletion
 * followed by a write in the same batch keeps the write), and lets the transaction commit on its own once they
 * have answered. Any failure aborts the transaction, so nothing of the batch is kept. Never `commit()`: after it,
 * Firefox commits the rest of a transaction whose request failed (a put the quota refused), which would keep a
 * checkpoint's values without the checkpoint. Resolves with the operations stored and whether the journal is on.
 */
function commitOperations(
  tx: IDBTransaction,
  operations: WriteOperation[],
  mode: BatchMode,
  journal: JournalState,
  options: CommitOptions,
): Promise<{ stored: WriteOperation[]; journalOn: boolean }> {
  return new Promise((resolve, reject) => {
    let takenKey = false;
    let missing: CheckpointError | undefined;
    let stored: WriteOperation[] = operations;
    let journalOn = journal === 'on';
    const fromElsewhere = options.journal === false;
    const events: BatchEvents = {
      takenKey: () => (takenKey = true),
      missingVersion: (blob, version) => {
        const list = `The list of channel "${blob.channel}" at version ${String(blob.version)}`;
        missing ??= fromElsewhere
          ? notStoredHere(`${list} of thread ${JSON.stringify(blob.thread_id)} from elsewhere builds on its version ${String(version)}`, blob.thread_id)
          : new CheckpointError(
              'STORAGE',
              `${list} builds on its version ${String(version)}, ` +
                'which is not stored (an earlier write of the thread failed, or the thread was deleted): nothing of this call was written.',
            );
        tx.abort();
      },
      missingSlice: (blob) => {
        missing ??= new CheckpointError(
          'STORAGE',
          `An item of the list of channel "${blob.channel}" at version ${String(blob.version)} is a slice of a record that is not stored ` +
            '(an earlier write of the thread failed, or the thread was deleted): nothing of this call was written.',
        );
        tx.abort();
      },
      missingParent: (record) => {
        missing ??= new CheckpointError(
          'STORAGE',
          `Checkpoint ${record.checkpoint_id} is stored as a change against its parent ${String(record.parent_checkpoint_id)}, which is not stored ` +
            '(an earlier write of the thread failed, or the thread was deleted or pruned): nothing of this call was written.',
        );
        tx.abort();
      },
      missingSource: (write) => {
        const part = `The write to "${write.channel}" of task ${write.task_id} is a part of channel "${write.of!.channel}" at version ${String(write.of!.version)}`;
        missing ??= fromElsewhere
          ? notStoredHere(`${part} of checkpoint ${write.checkpoint_id} of thread ${JSON.stringify(write.thread_id)} from elsewhere`, write.thread_id)
          : new CheckpointError(
              'STORAGE',
              `${part} of its checkpoint, which is not stored (the checkpoint's put failed, or the thread was deleted): nothing of this call was written.`,
            );
        tx.abort();
      },
    };
    tx.oncomplete = () => resolve({ stored, journalOn });
    tx.onabort = () => {
      if (missing) reject(missing);
      else if (takenKey) reject(new TakenWriteKey());
      else reject(tx.error ?? new DOMException('The transaction was aborted.', 'AbortError'));
    };
    const fail = (error: unknown) => {
      // Thrown synchronously (a key or value IndexedDB refuses): report that, not the abort it causes.
      tx.onabort = null;
      tx.abort();
      reject(error);
    };
    const queueRecords = (deleted: Set<string>, tasks: BatchTasks | undefined) => {
      if (fromElsewhere) stored = operations.filter((operation) => !deleted.has(threadOf(operation) ?? ''));
      const batch = new BatchValues();
      for (const operation of stored) queueOperation(tx, operation, events, batch, tasks, fromElsewhere);
      for (const [name, value] of Object.entries(options.settings ?? {})) tx.objectStore('settings').put(value, name);
    };
    const queueJournal = () => {
      const entries = tx.objectStore('journal');
      for (const operation of stored) {
        if (operation.kind === 'delete') tx.objectStore('deleted_threads').put({ thread_id: operation.thread_id });
        const entry = fromElsewhere ? undefined : journalEntryOf(operation);
        if (entry) entries.add(entry);
      }
    };
    /** Runs a step that queues requests; one that throws (a key or value IndexedDB refuses) fails the batch. */
    const guarded = (step: () => void) => {
      try {
        step();
      } catch (error) {
        fail(error);
      }
    };
    try {
      // Asked for before anything else, so it answers first. When the journal is on, its entries join the
      // transaction from there; the records need not wait for the answer (that would add a round trip to every
      // commit), except those from elsewhere, which wait for the reads of deleted threads anyway.
      let settingRead: IDBRequest | undefined;
      if (journal === 'unknown') {
        const setting = tx.objectStore('settings').get(JOURNAL_SETTING);
        setting.onsuccess = () => {
          journalOn = setting.result !== undefined;
          if (journalOn && !fromElsewhere) guarded(queueJournal);
        };
        settingRead = setting;
      }
      const deleted = new Set<string>();
      let last = fromElsewhere ? settingRead : undefined;
      for (const thread_id of fromElsewhere ? new Set(operations.map(threadOf)) : []) {
        if (thread_id === undefined) continue;
        const request = tx.objectStore('deleted_threads').getKey(thread_id);
        request.onsuccess = () => {
          if (request.result !== undefined) deleted.add(thread_id);
        };
        last = request;
      }
      // Keeping first values, the records queue once what the tasks they write have stored is known.
      const tasks = mode === 'keep-first' ? new BatchTasks() : undefined;
      last = tasks?.read(tx, operations.flatMap((operation) => (operation.kind === 'writes' ? operation.writes : []))) ?? last;
      const queueAll = () => {
        queueRecords(deleted, tasks);
        if (fromElsewhere ? journalOn : journal === 'on') queueJournal();
      };
      if (!last) {
        queueAll();
        return;
      }
      // Requests answer in order: once the last read answered, all have.
      const record = last.onsuccess;
      last.onsuccess = (event) => {
        record?.call(last, event);
        guarded(queueAll);
      };
    } catch (error) {
      fail(error);
    }
  });
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
    case 'blobs':
      return [];
  }
}

function describeOperations(operations: WriteOperation[]): string {
  if (operations.length === 0) return 'Storing settings';
  if (operations.length > 1) return `Committing ${operations.length} operations`;
  const [operation] = operations as [WriteOperation];
  switch (operation.kind) {
    case 'checkpoint':
      return `Storing checkpoint ${operation.checkpoint.checkpoint_id}`;
    case 'writes':
      return `Storing ${operation.writes.length} writes of task ${operation.writes[0]?.task_id ?? '(none)'}`;
    case 'delete':
      return `Deleting thread "${operation.thread_id}"`;
    case 'blobs':
      return `Storing ${operation.blobs.length} values`;
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
  /** Set by `close()`: calls made from then on reject with `CLOSED`. */
  #closing = false;
  /** Set once `close()` has closed the connection. */
  #closed = false;
  /** Reads, prunes and copies under way: `close()` waits for them, as it waits for writes. */
  readonly #running = new Set<Promise<unknown>>();
  readonly #changes: ChangeBroadcaster;
  readonly #writer = new CoalescingWriter((operations) => this.commit(operations));
  /**
   * Set once a transaction found the journal on: it is never turned off, so later transactions journal without
   * reading the setting first. Forgotten with the connection (the database may have been deleted).
   */
  #journalOn = false;
  /** The latest list read of each channel: the next `getTuple` of a growing conversation reads only what is new. */
  readonly #lists = new ListCache();

  constructor(options: IndexedDBStorageOptions) {
    this.dbName = options.dbName;
    this.durability = options.durability;
    this.#changes = new ChangeBroadcaster(options.dbName);
  }

  static deleteDatabase(dbName: string): Promise<void> {
    return deleteDatabase(dbName);
  }

  #database(): Promise<JunctureDatabase> {
    if (this.#closed) return Promise.reject(closedError(this.dbName));
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
    this.#journalOn = false;
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
        const failure = storageError(action, error);
        if (failure.code === 'QUOTA') {
          // Firefox invalidates a connection on which a write ran out of quota (every later write on it fails with
          // InvalidStateError, and its close event comes later if at all): the next call reopens.
          this.#drop(connection);
          // Every context on the origin shares the quota, so every listener hears that it is full.
          this.#changes.post([{ kind: 'quota', action }]);
        }
        throw failure;
      }
    }
  }

  /**
   * Stores one operation atomically. Operations that arrive while a transaction is in flight are committed
   * together in the next one; if such a batch fails, each is retried alone, so an error fails only its own call.
   */
  write(operation: WriteOperation): Promise<void> {
    if (this.#closing) return Promise.reject(closedError(this.dbName));
    return this.#writer.submit(operation);
  }

  /** Resolves once every write made before it is committed or has failed (each failure reached its own caller). */
  async flush(): Promise<void> {
    if (this.#closing) throw closedError(this.dbName);
    await this.#writer.settled();
  }

  /**
   * Commits operations in one transaction, in order, and then announces them. Any failure aborts the
   * transaction, so either all of them are stored or none.
   */
  commit(operations: WriteOperation[], options: CommitOptions = {}): Promise<void> {
    if (operations.length === 0 && options.settings === undefined) return Promise.resolve();
    return this.#run(describeOperations(operations), async (db) => {
      const stores = storesOf(operations);
      const transaction = () => unwrap(db).transaction(stores, 'readwrite', { durability: this.durability });
      let result: { stored: WriteOperation[]; journalOn: boolean };
      try {
        result = await commitOperations(transaction(), operations, 'at-once', this.#journalOn ? 'on' : 'unknown', options);
      } catch (error) {
        // Rare: a task's writes stored again (a retried or resumed task). The first values stay.
        if (!(error instanceof TakenWriteKey)) throw error;
        result = await commitOperations(transaction(), operations, 'keep-first', this.#journalOn ? 'on' : 'unknown', options);
      }
      if (result.journalOn) this.#journalOn = true;
      this.#lists.forget(result.stored.flatMap((operation) => (operation.kind === 'delete' ? [operation.thread_id] : [])));
      this.#changes.post(result.stored.flatMap(changesOf));
    });
  }

  /**
   * Stores changes that come from elsewhere (another replica of the database) in one transaction, without
   * journaling them, with `settings` (a reader's bookmark). Those of a thread deleted here are dropped. Announced
   * like any commit. Their checkpoints hold their small values as records stored here do (`pulled-values.ts`).
   * Rejects with `HistoryNotStored`, storing nothing, when checkpoints need ancestors that are not stored here (they
   * rebuild channels from their writes), keep a value from a parent not stored here that nothing here holds, or a
   * list or a write builds on a value that is not stored here, unless the
   * thread is in `historyFetched` (its history was fetched already: its checkpoints are stored as they are, and a list
   * or a write without what it builds on is a `STORAGE` error).
   */
  applyChanges(operations: WriteOperation[], settings?: Record<string, unknown>, { historyFetched = new Set() }: { historyFetched?: ReadonlySet<string> } = {}): Promise<void> {
    const options = settings ? { journal: false, settings } : { journal: false };
    // A list that builds on a version not stored here is found as the batch runs, which then stores nothing.
    const commit = (withValues: WriteOperation[]) =>
      this.commit(withValues, options).catch((error: unknown) => {
        const cause = error instanceof CheckpointError ? error.cause : undefined;
        if (cause instanceof HistoryNotStored && !cause.threadIds.some((id) => historyFetched.has(id))) throw cause;
        throw error;
      });
    const parents = parentsToRead(operations);
    if (parents.length === 0) return this.#track(() => commit(withValuesInRecords(operations, new Map())));
    return this.#track(async () => {
      const { read, kept, unstored } = await this.#read(`Reading the parents of ${parents.length} checkpoints from elsewhere`, async (tx) => {
        const read = await readParents(tx, parents);
        const rebuilding = threadsWithoutHistory(operations, read).filter((id) => !historyFetched.has(id));
        // Refused pages store nothing: their kept values are not read.
        if (rebuilding.length > 0) return { read, unstored: rebuilding, kept: new Map() };
        const { found, missingIn } = await readKeptValues(tx, operations, read);
        return { read, unstored: missingIn.filter((id) => !historyFetched.has(id)), kept: found };
      });
      if (unstored.length > 0) throw new HistoryNotStored(unstored);
      return commit(withValuesInRecords(operations, read, kept));
    });
  }

  /**
   * Turns the journal on for good, for every storage on this database; the first time, journals every record
   * already stored. Resolves with whether this call turned it on.
   */
  enableJournal(): Promise<boolean> {
    return this.#journalTransaction('Turning the change journal on', async (tx) => {
      const settings = tx.objectStore('settings');
      if ((await requestResult(settings.get(JOURNAL_SETTING))) !== undefined) return false;
      settings.put(true, JOURNAL_SETTING);
      await enqueueThreads(tx, await allThreadIds(tx));
      return true;
    });
  }

  /** Journals every record stored again (whoever reads the journal must see them all once more). */
  rejournalAll(): Promise<number> {
    return this.#journalTransaction('Journaling every record again', async (tx) => enqueueThreads(tx, await allThreadIds(tx)));
  }

  /**
   * The oldest `limit` journal entries with the records they name, in commit order; with `after`, those after that
   * entry (a reader reading on while it deals with the entries before).
   */
  readJournal(limit: number, after?: number): Promise<JournalRead[]> {
    return this.#track(async () => {
      await this.#writer.settled();
      return this.#run('Reading the change journal', (db) =>
        readJournalEntries(unwrap(db).transaction([...STORE_NAMES, 'journal'], 'readonly'), limit, after),
      );
    });
  }

  /** Takes journal entries out, once their reader has dealt with them. */
  acknowledgeJournal(seqs: number[]): Promise<void> {
    return this.#journalTransaction(`Taking ${seqs.length} entries out of the change journal`, async (tx) => {
      const journal = tx.objectStore('journal');
      for (const seq of seqs) journal.delete(seq);
    });
  }

  /** How many entries the journal holds. */
  journalSize(): Promise<number> {
    return this.#track(() => this.#run('Counting the change journal', (db) => requestResult(unwrap(db).transaction('journal', 'readonly').objectStore('journal').count())));
  }

  /** A setting of this database, or undefined. */
  readSetting(name: string): Promise<unknown> {
    return this.#track(() => this.#run(`Reading setting "${name}"`, (db) => requestResult(unwrap(db).transaction('settings', 'readonly').objectStore('settings').get(name))));
  }

  /** A read-write transaction on the data and the journal, after the writes made before it; announces nothing. */
  #journalTransaction<T>(action: string, body: (tx: IDBTransaction) => Promise<T>): Promise<T> {
    return this.#rewrite(action, body, () => []);
  }

  /** Runs a call that is not a write, so that `close()` can wait for it; rejects with `CLOSED` once closing. */
  #track<T>(call: () => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(closedError(this.dbName));
    const running = call();
    this.#running.add(running);
    const done = () => this.#running.delete(running);
    running.then(done, done);
    return running;
  }

  /**
   * Runs a read in a read-only transaction on every store, after the writes made before it: a transaction sees
   * what transactions created before it committed, and writes still waiting for their batch have none yet.
   * A read-only transaction has nothing to commit, so its results are final once its requests succeeded.
   */
  #read<T>(action: string, body: (tx: IDBTransaction) => Promise<T>): Promise<T> {
    return this.#track(async () => {
      await this.#writer.settled();
      return this.#run(action, (db) => body(unwrap(db).transaction(STORE_NAMES, 'readonly')));
    });
  }

  getTuple(thread_id: string, checkpoint_ns: string, checkpoint_id?: string): Promise<StoredTuple | undefined> {
    return this.#read(`Reading checkpoint ${checkpoint_id ?? `latest of thread "${thread_id}"`}`, async (tx) => {
      const checkpoints = tx.objectStore('checkpoints');
      const record = (
        checkpoint_id !== undefined
          ? await requestResult(checkpoints.get([thread_id, checkpoint_ns, checkpoint_id]))
          : (await requestResult(checkpoints.openCursor(prefixRange([thread_id, checkpoint_ns]), 'prev')))?.value
      ) as StoredCheckpointRecord | undefined;
      if (!record) return undefined;
      const [tuple] = await readTuples(tx, await resolveRecords(tx, [record]), this.#lists);
      return tuple;
    });
  }

  listCheckpoints(query: CheckpointQuery, pageSize: number, resume?: ListResume): Promise<CheckpointPage> {
    return this.#read('Listing checkpoints', (tx) => readCheckpointPage(tx, query, pageSize, resume));
  }

  loadTuples(records: CheckpointRecord[]): Promise<StoredTuple[]> {
    if (records.length === 0) return Promise.resolve([]);
    return this.#read(`Reading ${records.length} checkpoints`, async (tx) => {
      // The records were listed in an earlier transaction: read them again here, so that one deleted since is
      // left out rather than returned without its values.
      const checkpoints = tx.objectStore('checkpoints');
      const current = await Promise.all(
        records.map(({ thread_id, checkpoint_ns, checkpoint_id }) =>
          requestResult(checkpoints.get([thread_id, checkpoint_ns, checkpoint_id] satisfies CheckpointKey)) as Promise<StoredCheckpointRecord | undefined>,
        ),
      );
      return readTuples(tx, await resolveRecords(tx, current.filter((record): record is StoredCheckpointRecord => record !== undefined)));
    });
  }

  deltaHistory(thread_id: string, checkpoint_ns: string, checkpoint_id: string | undefined, channels: string[]): Promise<DeltaHistory> {
    return this.#read(`Reading the history of ${channels.length} channels of thread "${thread_id}"`, (tx) =>
      readDeltaHistory(tx, thread_id, checkpoint_ns, checkpoint_id, channels, this.#lists),
    );
  }

  listTuples(query: CheckpointQuery, pageSize: number, resume?: ListResume): Promise<TuplePage> {
    return this.#read('Listing checkpoints', async (tx) => {
      const { records, resume: next } = await readCheckpointPage(tx, query, pageSize, resume);
      const tuples = await readTuples(tx, records);
      return next === undefined ? { tuples } : { tuples, resume: next };
    });
  }

  /** A read-write transaction on every store after the writes made before it, announcing `changes` once committed. */
  #rewrite<T>(action: string, body: (tx: IDBTransaction) => Promise<T>, changes: (result: T) => CheckpointChange[]): Promise<T> {
    return this.#track(async () => {
      await this.#writer.settled();
      return this.#run(action, async (db) => {
        const tx = unwrap(db).transaction([...STORE_NAMES, ...JOURNAL_STORE_NAMES], 'readwrite', { durability: this.durability });
        const done = new Promise<void>((resolve, reject) => {
          tx.oncomplete = () => resolve();
          tx.onabort = () => reject(tx.error ?? new DOMException('The transaction was aborted.', 'AbortError'));
        });
        let result: T;
        try {
          result = await body(tx);
        } catch (error) {
          done.catch(() => undefined);
          try {
            tx.abort();
          } catch {
            // Already aborted by the failed request.
          }
          throw error;
        }
        await done;
        this.#changes.post(changes(result));
        return result;
      });
    });
  }

  async prune(threadIds: string[] | undefined, options: PruneOptions): Promise<number> {
    try {
      return await this.#prune(threadIds, options, 'rewrite');
    } catch (error) {
      if (!(error instanceof CheckpointError && error.code === 'QUOTA')) throw error;
      // A full quota refuses the writes of a prune (a kept record stored whole in place of one it builds on): first
      // delete what no kept record builds on, which makes room, then prune the rest.
      const deleted = await this.#prune(threadIds, options, 'deleteOnly');
      return deleted + (await this.#prune(threadIds, options, 'rewrite'));
    }
  }

  #prune(threadIds: string[] | undefined, options: PruneOptions, mode: PruneMode): Promise<number> {
    let pruned: string[] = [];
    return this.#rewrite(
      `Pruning ${threadIds ? threadIds.map((id) => `thread "${id}"`).join(', ') : 'every thread'}`,
      async (tx) => {
        pruned = threadIds ?? (await allThreadIds(tx));
        this.#lists.forget(pruned);
        const journals = 'checkpoints' in options || options.journal === true;
        // Read only by the prunes that may journal: the automatic ones (`maxCheckpointsPerThread`) never do.
        const journalOn = journals && (await requestResult(tx.objectStore('settings').get(JOURNAL_SETTING))) !== undefined;
        let deleted = 0;
        for (const thread_id of pruned) {
          const result = await pruneThread(tx, thread_id, options, mode);
          if (journalOn && !('checkpoints' in options)) {
            for (let i = 0; i < result.deleted.length; i += PRUNED_PER_ENTRY) tx.objectStore('journal').add({ thread_id, pruned: result.deleted.slice(i, i + PRUNED_PER_ENTRY) });
          }
          // Named checkpoints that a kept one replays the writes of stay, and go out again: wherever they were pruned
          // (where that branch was not known), they come back.
          if (journalOn && result.spared.length > 0) await enqueueThreads(tx, [thread_id]);
          deleted += result.deleted.length;
        }
        return deleted;
      },
      (deleted) => (deleted > 0 ? pruned.map((thread_id): CheckpointChange => ({ kind: 'rewrite', thread_id })) : []),
    );
  }

  copyThread(from: string, to: string): Promise<number> {
    return this.#rewrite(
      `Copying thread "${from}" to "${to}"`,
      async (tx) => {
        const copied = await copyThreadRecords(tx, from, to);
        // The copy is a new thread: journaled like any new records.
        if ((await requestResult(tx.objectStore('settings').get(JOURNAL_SETTING))) !== undefined) await enqueueThreads(tx, [to]);
        return copied;
      },
      () => [{ kind: 'rewrite', thread_id: to }],
    );
  }

  /**
   * Waits for every call made before it (writes committed, reads, prunes and copies finished, their changes
   * announced), then closes the connection; calls made from now on reject with `CLOSED`.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await Promise.all([this.#writer.settled(), ...[...this.#running].map((call) => call.catch(() => undefined))]);
    this.#closed = true;
    const connection = this.#connection;
    this.#connection = undefined;
    this.#changes.close();
    const db = await connection?.catch(() => undefined);
    if (db) await closeWhenIdle(unwrap(db));
  }
}
