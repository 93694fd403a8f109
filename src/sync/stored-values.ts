/**
 * Values between an encrypted database and the sync server. The server's saver stores ordinary LangGraph values
 * (a server agent reads them), so what is pushed is opened with the saver's key first, and what is pulled is
 * sealed with it before it is stored: an encrypted database never holds a pulled value in clear. The records'
 * keys, ids and versions are never encrypted and pass as they are. A database without a key passes everything as
 * it is, except envelopes, which it cannot open (`DECRYPT`).
 */
import { isEncrypted } from '../encryption/cipher.js';
import type { StoredCheckpointSaver } from '../saver/stored-saver.js';
import { isItemSlice } from '../storage/lists.js';
import type { JournalRead } from '../storage/journal.js';
import type { BlobRecord, CheckpointRecord, TypedBytes, WriteRecord } from '../storage/records.js';
import type { SyncRecord } from '../wire/records.js';

type BytesMap = (typed: TypedBytes, what: string) => Promise<TypedBytes>;

/** What sync needs of the saver's key. */
export interface StoredValues {
  /** Journal entries with their values in clear and their checkpoints ordinary (`ordinaryRecord`), for the server. */
  inClear(reads: JournalRead[]): Promise<JournalRead[]>;
  /** Pulled records as this database stores them; `DECRYPT` when the key does not open a thread they go to. */
  forStorage(records: SyncRecord[]): Promise<SyncRecord[]>;
}

function checkpointWhat(record: CheckpointRecord): string {
  return `checkpoint ${record.checkpoint_id} of thread ${JSON.stringify(record.thread_id)}`;
}

async function mapCheckpoint(record: CheckpointRecord, map: BytesMap): Promise<CheckpointRecord> {
  const what = checkpointWhat(record);
  const [checkpoint, metadata] = await Promise.all([map(record.checkpoint, what), map(record.metadata, `the metadata of ${what}`)]);
  return { ...record, checkpoint, metadata };
}

async function mapBlob(record: BlobRecord, map: BytesMap): Promise<BlobRecord> {
  const what = `channel "${record.channel}" at version ${String(record.version)} of thread ${JSON.stringify(record.thread_id)}`;
  const mapped = { ...record, value: record.value === null ? null : await map(record.value, what) };
  if (record.list) mapped.list = { ...record.list, items: await Promise.all(record.list.items.map((item, i) => (isItemSlice(item) ? item : map(item, `item ${i} of ${what}`)))) };
  return mapped;
}

async function mapWrite(record: WriteRecord, map: BytesMap): Promise<WriteRecord> {
  return { ...record, value: await map(record.value, `the write to "${record.channel}" of task ${record.task_id} in thread ${JSON.stringify(record.thread_id)}`) };
}

async function mapRecord(record: SyncRecord, map: BytesMap): Promise<SyncRecord> {
  switch (record.kind) {
    case 'checkpoint':
      return { kind: 'checkpoint', ...(await mapCheckpoint(record, map)) };
    case 'blob':
      return { kind: 'blob', ...(await mapBlob(record, map)) };
    case 'write':
      return { kind: 'write', ...(await mapWrite(record, map)) };
    case 'delete':
    case 'prune':
      return record;
  }
}

/** The values of `saver`'s database as sync moves them. */
export function storedValuesOf(saver: StoredCheckpointSaver): StoredValues {
  const open: BytesMap = (typed, what) => (isEncrypted(typed) ? saver.decryptStored(typed, what) : Promise.resolve(typed));
  const seal: BytesMap = (typed) => saver.encryptForStorage(typed);
  return {
    inClear: (reads) =>
      Promise.all(
        reads.map(async (read): Promise<JournalRead> => {
          const [checkpoint, blobs, writes] = await Promise.all([
            read.checkpoint && saver.ordinaryRecord(read.checkpoint).then((record) => mapCheckpoint(record, open)),
            Promise.all(read.blobs.map((blob) => mapBlob(blob, open))),
            Promise.all(read.writes.map((write) => mapWrite(write, open))),
          ]);
          return checkpoint ? { ...read, checkpoint, blobs, writes } : { ...read, blobs, writes };
        }),
      ),
    async forStorage(records) {
      if (!saver.encrypted) return records;
      // The key must open what the threads already hold: a wrong one stores nothing.
      const threads = new Set(records.flatMap((record) => (record.kind === 'delete' || record.kind === 'prune' ? [] : [record.thread_id])));
      for (const thread_id of threads) await saver.checkKey(thread_id);
      return Promise.all(records.map((record) => mapRecord(record, seal)));
    },
  };
}
