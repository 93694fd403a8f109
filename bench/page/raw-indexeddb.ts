// The raw IndexedDB anchors: the same records and stores the savers use, through the plain API with no library,
// so that each saver row's ratio is what the library adds to what IndexedDB itself costs.
import { JOURNAL_SETTING } from '../../src/storage/journal.js';
import { prefixRange, requestResult } from '../../src/storage/requests.js';
import { JOURNAL_STORE_NAMES, type BlobRecord, type CheckpointRecord } from '../../src/storage/records.js';

/** The records of one saver `put`. */
export interface StoredPut {
  checkpoint: CheckpointRecord;
  blobs: BlobRecord[];
}

function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
  });
}

/** Opens an existing database at its current version. */
export async function openRawDatabase(name: string): Promise<IDBDatabase> {
  return requestResult(indexedDB.open(name));
}

/** Each record in a readwrite transaction of its own, one after the other; resolves after the last commit. */
export async function putOnePerTransaction(db: IDBDatabase, records: CheckpointRecord[]): Promise<void> {
  for (const record of records) {
    const tx = db.transaction('checkpoints', 'readwrite');
    tx.objectStore('checkpoints').put(record);
    tx.commit();
    await committed(tx);
  }
}

/** Each checkpoint with its blobs in a readwrite transaction of its own, as a saver's put stores them. */
export async function putWithBlobsPerTransaction(db: IDBDatabase, puts: StoredPut[]): Promise<void> {
  for (const { checkpoint, blobs } of puts) {
    const tx = db.transaction(['checkpoints', 'blobs'], 'readwrite');
    tx.objectStore('checkpoints').put(checkpoint);
    for (const blob of blobs) tx.objectStore('blobs').put(blob);
    tx.commit();
    await committed(tx);
  }
}

/**
 * The transaction of a saver's `put` of a loop-graph checkpoint, by hand: the same stores, the change journal's
 * setting and the parent record read beside the put of the record the saver stored, left to commit on its own
 * (as the savers do; see `commitOperations`), with none of the savers' code around it.
 */
export function putAsSaversDo(db: IDBDatabase, record: CheckpointRecord): Promise<void> {
  const tx = db.transaction(['checkpoints', 'blobs', ...JOURNAL_STORE_NAMES], 'readwrite');
  tx.objectStore('settings').get(JOURNAL_SETTING);
  if (record.parent_checkpoint_id !== undefined) tx.objectStore('checkpoints').get([record.thread_id, record.checkpoint_ns, record.parent_checkpoint_id]);
  tx.objectStore('checkpoints').put(record);
  return committed(tx);
}

/** Every record in one readwrite transaction. */
export async function putAllInOneTransaction(db: IDBDatabase, records: CheckpointRecord[]): Promise<void> {
  const tx = db.transaction('checkpoints', 'readwrite');
  const store = tx.objectStore('checkpoints');
  for (const record of records) store.put(record);
  tx.commit();
  await committed(tx);
}

/** The newest checkpoint record of (thread, namespace): one `prev` cursor step. */
export async function latestByCursor(db: IDBDatabase, thread_id: string): Promise<CheckpointRecord | undefined> {
  const tx = db.transaction('checkpoints', 'readonly');
  const cursor = await requestResult(tx.objectStore('checkpoints').openCursor(prefixRange([thread_id, '']), 'prev'));
  return cursor?.value as CheckpointRecord | undefined;
}

/**
 * What getTuple reads for the latest checkpoint, by hand: the `prev` cursor, then at once the blob of each of
 * its channel versions and its writes, in the same transaction.
 */
export async function latestWithValues(db: IDBDatabase, thread_id: string): Promise<unknown[]> {
  const tx = db.transaction(['checkpoints', 'blobs', 'writes'], 'readonly');
  const cursor = await requestResult(tx.objectStore('checkpoints').openCursor(prefixRange([thread_id, '']), 'prev'));
  const record = cursor?.value as CheckpointRecord | undefined;
  if (!record) return [];
  const blobs = tx.objectStore('blobs');
  return Promise.all([
    ...Object.entries(record.channel_versions).map(([channel, version]) => requestResult(blobs.get([thread_id, '', channel, version]))),
    requestResult(tx.objectStore('writes').getAll(prefixRange([thread_id, '', record.checkpoint_id]))),
  ]);
}

/** Ten checkpoint records of (thread, namespace) in one request. */
export async function getAllTen(db: IDBDatabase, thread_id: string): Promise<CheckpointRecord[]> {
  const tx = db.transaction('checkpoints', 'readonly');
  return requestResult(tx.objectStore('checkpoints').getAll(prefixRange([thread_id, '']), 10));
}
