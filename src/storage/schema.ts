import type { IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { JunctureSchema } from './records.js';

type UpgradeTransaction = IDBPTransaction<JunctureSchema, StoreNames<JunctureSchema>[], 'versionchange'>;

/**
 * Upgrade steps in order: step `i` takes a database from version `i` to `i + 1`.
 * A new schema version appends a step; existing steps never change, so old data always migrates.
 */
export const UPGRADE_STEPS: ReadonlyArray<(db: IDBPDatabase<JunctureSchema>, tx: UpgradeTransaction) => void> = [
  (db) => {
    const checkpoints = db.createObjectStore('checkpoints', {
      keyPath: ['thread_id', 'checkpoint_ns', 'checkpoint_id'],
    });
    checkpoints.createIndex('by_thread', ['thread_id', 'checkpoint_id', 'checkpoint_ns'], { unique: true });
    checkpoints.createIndex('by_time', ['checkpoint_id', 'thread_id', 'checkpoint_ns'], { unique: true });
    db.createObjectStore('blobs', { keyPath: ['thread_id', 'checkpoint_ns', 'channel', 'version'] });
    db.createObjectStore('writes', {
      keyPath: ['thread_id', 'checkpoint_ns', 'checkpoint_id', 'task_id', 'idx'],
    });
  },
  // 2: the change journal (`journal.ts`), off until something turns it on.
  (db) => {
    db.createObjectStore('journal', { autoIncrement: true });
    db.createObjectStore('settings');
    db.createObjectStore('deleted_threads', { keyPath: 'thread_id' });
  },
  // 3: no new store, new records: writes that refer to a value of their checkpoint (`WriteRecord.of`) and checkpoint
  // records whose serialized part leaves out what the record holds in clear. Code of schema 2 would misread both,
  // so it must find a newer schema (MIGRATION) rather than open the database.
  () => undefined,
  // 4: no new store, new records: list items stored as slices of a write or of another value (`ItemSlice`). Code
  // of schema 3 would take a slice for typed bytes, so it must find a newer schema (MIGRATION) instead.
  () => undefined,
  // 5: no new store, new records: lists that build on an earlier list of their chain and refer to items stored at
  // other versions too (anchors, `baseDepthOf`), which code of schema 4 would not keep when it prunes; checkpoint
  // records holding `ts`, `versions_seen` and metadata entries in clear, and records stored as changes against
  // their parent's (`checkpoint-chains.ts`), which code of schema 4 would read as records without their checkpoint.
  // So code of schema 4 must find a newer schema (MIGRATION) instead.
  () => undefined,
  // 6: no new store, new records: a task's regular writes in one record (`TaskWritesRecord`), which code of schema 5
  // would read as one write without its value. So code of schema 5 must find a newer schema (MIGRATION) instead.
  () => undefined,
  // 7: no new store, new records: checkpoint records holding the small values of their channels (`values`), which
  // code of schema 6 would read as channels without a value. So code of schema 6 must find a newer schema (MIGRATION).
  () => undefined,
];

/** The schema version this build reads and writes. */
export const SCHEMA_VERSION = UPGRADE_STEPS.length;
