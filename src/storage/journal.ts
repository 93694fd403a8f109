/**
 * The change journal: once turned on for a database (a setting stored in it, so every tab's and worker's storage
 * sees it), each commit also records which records it wrote, or which thread it deleted, in the same transaction;
 * so does a prune asked to, with the checkpoints it deleted.
 * A reader takes entries out in commit order once it has dealt with them, so what was committed and not yet taken
 * survives reloads and crashes. Threads deleted while journaling are remembered, so that changes applied from
 * elsewhere never bring them back. The storage knows nothing of who reads the journal, or why.
 */
import { isChange, resolveRecords } from './checkpoint-chains.js';
import { spliceSlices } from './reads.js';
import { listDependencies } from './lists.js';
import { withValuesApart, type BlobKey, type BlobRecord, type CheckpointName, type ChannelVersion, type CheckpointKey, type CheckpointRecord, type JournalEntry, type StoredCheckpointRecord, type StoredWriteRecord, type RecordRef, type WriteKey, type WriteRecord } from './records.js';
import { prefixRange, requestResult } from './requests.js';
import { recordKeyOf, storedWrites, writesIn } from './task-writes.js';
import type { WriteOperation } from './storage.js';

/** The setting that turns the journal on, for good. */
export const JOURNAL_SETTING = 'journal';

/**
 * Checkpoints a prune journals per entry: an entry travels whole, and one far larger than a reader's batches (a long
 * thread cut to its newest checkpoint) could never go out.
 */
export const PRUNED_PER_ENTRY = 500;

/** One journal entry as read back: the records it names that are still stored, or a thread's deletion. */
export interface JournalRead {
  /** Its place in the journal; `acknowledgeJournal` takes it out. */
  seq: number;
  thread_id: string;
  deleted?: true;
  /** Checkpoints a prune deleted, to be deleted elsewhere too. */
  pruned?: CheckpointName[];
  /**
   * Entries whose values travel with this one, their own checkpoints being gone (pruned): taken out together with
   * it, so that none is taken out before the values it held went out.
   */
  carried?: number[];
  /** The checkpoint the entry wrote, when it is still stored. */
  checkpoint?: CheckpointRecord;
  blobs: BlobRecord[];
  writes: WriteRecord[];
}

/** What the journal records of one operation; `blobs` operations come only from elsewhere, never journaled. */
export function journalEntryOf(operation: WriteOperation): JournalEntry | undefined {
  switch (operation.kind) {
    case 'checkpoint': {
      const { thread_id, checkpoint_ns, checkpoint_id } = operation.checkpoint;
      const records: RecordRef[] = [{ store: 'checkpoints', key: [thread_id, checkpoint_ns, checkpoint_id] }];
      for (const blob of operation.blobs) records.push({ store: 'blobs', key: [blob.thread_id, blob.checkpoint_ns, blob.channel, blob.version] });
      return { thread_id, records };
    }
    case 'writes': {
      const first = operation.writes[0];
      if (!first) return undefined;
      const records = storedWrites(operation.writes).map((record): RecordRef => ({ store: 'writes', key: recordKeyOf(record) }));
      return { thread_id: first.thread_id, records };
    }
    case 'delete':
      return { thread_id: operation.thread_id, deleted: true };
    case 'blobs':
      return undefined;
  }
}

const key = (...parts: unknown[]) => JSON.stringify(parts);

/**
 * Journals every record of the threads already stored, as if each checkpoint had just been written with the values
 * it names first (oldest checkpoint first, each task's writes after their checkpoint). Resolves with the entries added.
 */
export async function enqueueThreads(tx: IDBTransaction, threadIds: string[]): Promise<number> {
  const journal = tx.objectStore('journal');
  let added = 0;
  for (const thread_id of threadIds) {
    const range = prefixRange([thread_id]);
    const [stored, blobKeys, writeKeys] = await Promise.all([
      requestResult(tx.objectStore('checkpoints').getAll(range)) as Promise<StoredCheckpointRecord[]>,
      requestResult(tx.objectStore('blobs').getAllKeys(range)) as Promise<BlobKey[]>,
      requestResult(tx.objectStore('writes').getAllKeys(range)) as Promise<WriteKey[]>,
    ]);
    const checkpoints = await resolveRecords(tx, stored);
    const unassigned = new Map(blobKeys.map((blobKey) => [key(blobKey[1], blobKey[2], blobKey[3]), blobKey]));
    const tasks = new Map<string, WriteKey[]>();
    for (const writeKey of writeKeys) {
      const task = key(writeKey[1], writeKey[2], writeKey[3]);
      tasks.set(task, [...(tasks.get(task) ?? []), writeKey]);
    }
    const entries: JournalEntry[] = [];
    const taskEntries = (checkpoint_ns: string, checkpoint_id: string) => {
      for (const [task, keys] of tasks) {
        if (keys[0]![1] !== checkpoint_ns || keys[0]![2] !== checkpoint_id) continue;
        tasks.delete(task);
        entries.push({ thread_id, records: keys.map((writeKey): RecordRef => ({ store: 'writes', key: writeKey })) });
      }
    };
    checkpoints.sort((a, b) => (a.checkpoint_id < b.checkpoint_id ? -1 : a.checkpoint_id > b.checkpoint_id ? 1 : 0));
    for (const record of checkpoints) {
      const records: RecordRef[] = [{ store: 'checkpoints', key: [thread_id, record.checkpoint_ns, record.checkpoint_id] satisfies CheckpointKey }];
      for (const [channel, version] of Object.entries(record.channel_versions)) {
        const blobKey = unassigned.get(key(record.checkpoint_ns, channel, version));
        if (!blobKey) continue;
        unassigned.delete(key(record.checkpoint_ns, channel, version));
        records.push({ store: 'blobs', key: blobKey });
      }
      entries.push({ thread_id, records });
      taskEntries(record.checkpoint_ns, record.checkpoint_id);
    }
    // Writes against a checkpoint no longer stored (pruned) go last; values no checkpoint names stay local.
    for (const keys of tasks.values()) entries.push({ thread_id, records: keys.map((writeKey): RecordRef => ({ store: 'writes', key: writeKey })) });
    for (const entry of entries) journal.add(entry);
    added += entries.length;
  }
  return added;
}

/**
 * The oldest `limit` journal entries (after entry `after`, when given) with their records, read in the caller's
 * transaction. A value whose checkpoint is gone (pruned) travels with the first later entry of its thread that
 * needs it: one whose checkpoint names it, or that brings a list built on it (a prune keeps the versions kept lists
 * build on); its own entry is then `carried` by that one. When such a value waits for an entry past `limit`, more
 * entries are read, so that it never goes out without it; one that no later entry needs stays local.
 */
export async function readJournalEntries(tx: IDBTransaction, limit: number, after?: number): Promise<JournalRead[]> {
  for (let window = limit; ; window *= 2) {
    const { reads, waiting, full } = await readWindow(tx, window, after);
    if (!waiting || !full) return reads;
  }
}

async function readWindow(tx: IDBTransaction, limit: number, after: number | undefined): Promise<{ reads: JournalRead[]; waiting: boolean; full: boolean }> {
  const journal = tx.objectStore('journal');
  const range = after === undefined ? undefined : IDBKeyRange.lowerBound(after, true);
  const [keys, entries] = await Promise.all([
    requestResult(journal.getAllKeys(range, limit)) as Promise<number[]>,
    requestResult(journal.getAll(range, limit)) as Promise<JournalEntry[]>,
  ]);
  const stored = new Map<JournalRead, StoredCheckpointRecord>();
  const reads = await Promise.all(
    entries.map(async (entry, i): Promise<JournalRead> => {
      const read: JournalRead = { seq: keys[i]!, thread_id: entry.thread_id, blobs: [], writes: [] };
      if ('deleted' in entry) return { ...read, deleted: true };
      if ('pruned' in entry) return { ...read, pruned: entry.pruned };
      const records = await Promise.all(entry.records.map((ref) => requestResult(tx.objectStore(ref.store).get(ref.key as IDBValidKey))));
      let checkpoint: StoredCheckpointRecord | undefined;
      entry.records.forEach((ref, j) => {
        const record = records[j];
        if (record === undefined) return;
        if (ref.store === 'checkpoints') checkpoint = record as StoredCheckpointRecord;
        else if (ref.store === 'blobs') read.blobs.push(record as BlobRecord);
        else read.writes.push(...writesIn([record as StoredWriteRecord]));
      });
      if (checkpoint) stored.set(read, checkpoint);
      // Items stored as slices of other records travel whole: a record read elsewhere stands on its own.
      read.blobs = await Promise.all(
        read.blobs.map(async (blob) => (await spliceSlices(tx, [blob.thread_id, blob.checkpoint_ns], new Map([[blob.version, blob]]))).get(blob.version)!),
      );
      return read;
    }),
  );
  // Checkpoints stored as changes travel whole: a record read elsewhere stands on its own. Resolved together, so
  // that the parents read for one serve the next.
  const whole = await resolveRecords(tx, [...stored.values()]);
  [...stored].forEach(([read, record], i) => {
    // Values a record holds itself travel as values of their own: with the record that brought them, which a record
    // stored as a change tells by the versions it holds (a whole one sends them all; more are taken as duplicates).
    const { checkpoint, blobs } = withValuesApart(whole[i]!);
    read.checkpoint = checkpoint;
    read.blobs.push(...(isChange(record) ? blobs.filter((blob) => record.channel_versions?.[blob.channel] !== undefined) : blobs));
  });
  const orphans = new Map<string, { blob: BlobRecord; from: JournalRead }>();
  /** Entries whose values went to a later one: the last that took any of them. */
  const carrier = new Map<JournalRead, JournalRead>();
  for (const read of reads) {
    if (!read.checkpoint) {
      for (const blob of read.blobs) orphans.set(key(blob.thread_id, blob.checkpoint_ns, blob.channel, blob.version), { blob, from: read });
      read.blobs = [];
      continue;
    }
    const { thread_id, checkpoint_ns, channel_versions } = read.checkpoint;
    const take = (channel: string, version: ChannelVersion) => {
      const orphan = orphans.get(key(thread_id, checkpoint_ns, channel, version));
      if (!orphan) return;
      orphans.delete(key(thread_id, checkpoint_ns, channel, version));
      read.blobs.push(orphan.blob);
      carrier.set(orphan.from, read);
    };
    for (const [channel, version] of Object.entries(channel_versions)) take(channel, version);
    // The versions its lists build on, and theirs in turn (the loop reaches the values it takes too).
    for (let i = 0; i < read.blobs.length; i += 1) {
      const { channel, list } = read.blobs[i]!;
      for (const version of list ? listDependencies(list) : []) take(channel, version);
    }
  }
  for (const [from, to] of carrier) (to.carried ??= []).push(from.seq);
  return { reads: reads.filter((read) => !carrier.has(read)), waiting: orphans.size > 0, full: entries.length === limit };
}
