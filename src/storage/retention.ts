/**
 * Retention, in one read-write transaction each: pruning a thread to its newest checkpoints, and copying a
 * thread under a new id. Both read what they need first, in the same transaction, so they are atomic.
 */
import { CheckpointError } from '../errors.js';
import { prefixRange } from './keys.js';
import { requestResult } from './reads.js';
import type { BlobKey, BlobRecord, CheckpointRecord, WriteRecord } from './records.js';

export interface PruneOptions {
  /** How many of the newest checkpoints of each namespace of the thread to keep. */
  keepLatest: number;
  /**
   * Also keep every ancestor of a kept checkpoint (default), so kept history stays whole and only abandoned
   * branches go. `false` cuts the history to exactly `keepLatest`: the oldest kept one loses its parent.
   */
  keepAncestors?: boolean;
}

const key = (...parts: (string | number)[]) => JSON.stringify(parts);

/** Deletes the thread's checkpoints that are not kept, their writes, and the values no kept checkpoint names. */
export async function pruneThread(tx: IDBTransaction, thread_id: string, options: PruneOptions): Promise<number> {
  const checkpoints = tx.objectStore('checkpoints');
  const records = (await requestResult(checkpoints.getAll(prefixRange([thread_id])))) as CheckpointRecord[];
  const byNamespace = new Map<string, CheckpointRecord[]>();
  for (const record of records) byNamespace.set(record.checkpoint_ns, [...(byNamespace.get(record.checkpoint_ns) ?? []), record]);
  const kept = new Set<string>();
  for (const [ns, inNamespace] of byNamespace) {
    const newestFirst = [...inNamespace].sort((a, b) => (a.checkpoint_id < b.checkpoint_id ? 1 : -1));
    const parents = new Map(newestFirst.map((record) => [record.checkpoint_id, record.parent_checkpoint_id]));
    for (const record of newestFirst.slice(0, options.keepLatest)) {
      let id: string | undefined = record.checkpoint_id;
      while (id !== undefined && !kept.has(key(ns, id))) {
        kept.add(key(ns, id));
        id = options.keepAncestors === false ? undefined : parents.get(id);
      }
    }
  }
  const referenced = new Set<string>();
  let deleted = 0;
  for (const record of records) {
    if (kept.has(key(record.checkpoint_ns, record.checkpoint_id))) {
      for (const [channel, version] of Object.entries(record.channel_versions)) referenced.add(key(record.checkpoint_ns, channel, version));
      continue;
    }
    deleted += 1;
    checkpoints.delete([thread_id, record.checkpoint_ns, record.checkpoint_id]);
    tx.objectStore('writes').delete(prefixRange([thread_id, record.checkpoint_ns, record.checkpoint_id]));
  }
  const blobs = tx.objectStore('blobs');
  for (const blobKey of (await requestResult(blobs.getAllKeys(prefixRange([thread_id])))) as BlobKey[]) {
    const [, ns, channel, version] = blobKey;
    if (!referenced.has(key(ns, channel, version))) blobs.delete(blobKey);
  }
  return deleted;
}

/** Every thread id in the database, once each. */
export async function threadIds(tx: IDBTransaction): Promise<string[]> {
  const keys = (await requestResult(tx.objectStore('checkpoints').getAllKeys())) as [string, string, string][];
  return [...new Set(keys.map(([thread_id]) => thread_id))];
}

/** Copies every checkpoint, value and write of `from` under the thread id `to`, which must be unused. */
export async function copyThread(tx: IDBTransaction, from: string, to: string): Promise<number> {
  const stores = { checkpoints: tx.objectStore('checkpoints'), blobs: tx.objectStore('blobs'), writes: tx.objectStore('writes') };
  const [records, blobs, writes, taken] = await Promise.all([
    requestResult(stores.checkpoints.getAll(prefixRange([from]))) as Promise<CheckpointRecord[]>,
    requestResult(stores.blobs.getAll(prefixRange([from]))) as Promise<BlobRecord[]>,
    requestResult(stores.writes.getAll(prefixRange([from]))) as Promise<WriteRecord[]>,
    requestResult(stores.checkpoints.count(prefixRange([to]))),
  ]);
  if (records.length === 0) throw new CheckpointError('NOT_FOUND', `copyThread: thread "${from}" has no checkpoints to copy.`);
  if (taken > 0) throw new CheckpointError('INVALID_CONFIG', `copyThread: thread "${to}" already has checkpoints; copy into a new thread id.`);
  for (const record of records) stores.checkpoints.put({ ...record, thread_id: to });
  for (const blob of blobs) stores.blobs.put({ ...blob, thread_id: to });
  for (const write of writes) stores.writes.put({ ...write, thread_id: to });
  return records.length;
}
