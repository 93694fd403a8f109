/**
 * Retention, in one read-write transaction each: pruning a thread to its newest checkpoints, and copying a
 * thread under a new id. Both read what they need first, in the same transaction, so they are atomic.
 */
import { CheckpointError } from '../errors.js';
import { prefixRange, requestResult } from './requests.js';
import { listClosure, sliceSourceKey, slicesOf, withSlicesSpliced } from './lists.js';
import { readSliceSources } from './reads.js';
import { isChange, resolveRecords, storedWhole } from './checkpoint-chains.js';
import { deltaAncestors } from './delta-ancestors.js';
import type { BlobKey, BlobRecord, ChannelVersion, CheckpointName, CheckpointRecord, ItemSlice, StoredCheckpointRecord, StoredWriteRecord } from './records.js';
import type { PruneOptions } from './storage.js';

const key = (...parts: (string | number)[]) => JSON.stringify(parts);

function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(keyOf(item));
    if (group) group.push(item);
    else groups.set(keyOf(item), [item]);
  }
  return groups;
}

/**
 * How a prune treats a kept record that builds on one that is not kept (a checkpoint stored as a change against its
 * parent, a list item stored as a slice of another record): `'rewrite'` stores the kept one whole and deletes the
 * other; `'deleteOnly'` keeps the other too, so that the prune writes nothing, which is what a browser whose quota is
 * full still accepts (Chromium weighs a transaction's puts against the quota, not its deletions).
 */
export type PruneMode = 'rewrite' | 'deleteOnly';

/**
 * Deletes the thread's checkpoints that are not kept, their writes, and the values no kept checkpoint names.
 * Kept: the newest `keepLatest` of each namespace, with all their ancestors unless `keepAncestors` is false; or,
 * given `checkpoints`, every checkpoint not named. Always kept: the ancestors whose writes a kept checkpoint's
 * rebuilt channels (`delta_channels`) replay, back to the one that stores the channel's value: pruning never changes
 * what a kept checkpoint reads back. Resolves with the checkpoints deleted, and those named that stay.
 */
export async function pruneThread(
  tx: IDBTransaction,
  thread_id: string,
  options: PruneOptions,
  mode: PruneMode = 'rewrite',
): Promise<{ deleted: CheckpointName[]; spared: CheckpointName[] }> {
  const checkpoints = tx.objectStore('checkpoints');
  const blobs = tx.objectStore('blobs');
  // Values whole: a list names the versions it builds on, which must stay as long as it does.
  const [storedRecords, blobRecords] = await Promise.all([
    requestResult(checkpoints.getAll(prefixRange([thread_id]))) as Promise<StoredCheckpointRecord[]>,
    requestResult(blobs.getAll(prefixRange([thread_id]))) as Promise<BlobRecord[]>,
  ]);
  const records = await resolveRecords(tx, storedRecords);
  const channels = new Map<string, Map<ChannelVersion, BlobRecord>>();
  for (const blob of blobRecords) {
    const channel = key(blob.checkpoint_ns, blob.channel);
    if (!channels.has(channel)) channels.set(channel, new Map());
    channels.get(channel)!.set(blob.version, blob);
  }
  const stored = (ns: string, channel: string, version: ChannelVersion) => channels.get(key(ns, channel))?.has(version) ?? false;
  const byId = new Map(records.map((record) => [key(record.checkpoint_ns, record.checkpoint_id), record]));
  const storedAsChange = new Set(storedRecords.filter(isChange).map((record) => key(record.checkpoint_ns, record.checkpoint_id)));
  const kept = new Set<string>();
  const toVisit: CheckpointRecord[] = [];
  const keep = (record: CheckpointRecord) => {
    const id = key(record.checkpoint_ns, record.checkpoint_id);
    if (kept.has(id)) return false;
    kept.add(id);
    toVisit.push(record);
    return true;
  };
  const parentOf = (record: CheckpointRecord) =>
    record.parent_checkpoint_id === undefined ? undefined : byId.get(key(record.checkpoint_ns, record.parent_checkpoint_id));

  // Named checkpoints go as they would with `keepAncestors: false`: only what a kept one needs stays.
  const keepAncestors = 'checkpoints' in options ? false : options.keepAncestors !== false;
  if ('checkpoints' in options) {
    const named = new Set(options.checkpoints.map((name) => key(name.checkpoint_ns, name.checkpoint_id)));
    for (const record of records) if (!named.has(key(record.checkpoint_ns, record.checkpoint_id))) keep(record);
  } else {
    for (const inNamespace of groupBy(records, (record) => record.checkpoint_ns).values()) {
      const newestFirst = [...inNamespace].sort((a, b) => (a.checkpoint_id < b.checkpoint_id ? 1 : -1));
      for (const record of newestFirst.slice(0, options.keepLatest)) keep(record);
    }
  }
  // Each kept checkpoint brings the ancestors it needs, and those bring theirs.
  const visit = () => {
    for (let record = toVisit.pop(); record !== undefined; record = toVisit.pop()) {
      const parent = parentOf(record);
      if (parent && (keepAncestors || (mode === 'deleteOnly' && storedAsChange.has(key(record.checkpoint_ns, record.checkpoint_id))))) {
        keep(parent);
      }
      if (!keepAncestors) deltaAncestors(record, parentOf, stored).forEach(keep);
    }
  };

  // Per channel, the versions kept checkpoints name, those their lists build on, and (deleting only) the values
  // that kept list items are slices of.
  const sliceSources = new Map<string, ChannelVersion[]>();
  let referenced: Map<string, Set<ChannelVersion>>;
  let orphaned: BlobRecord[];
  // A kept list item that is a slice of a record about to go: written whole first, or its source kept.
  const goes = (ns: string, { write, blob }: ItemSlice) =>
    write ? !kept.has(key(ns, write[0])) : !(referenced.get(key(ns, blob![0]))?.has(blob![1]) ?? false);
  for (;;) {
    visit();
    const named = new Map([...sliceSources].map(([channelKey, versions]) => [channelKey, [...versions]]));
    for (const record of records) {
      if (!kept.has(key(record.checkpoint_ns, record.checkpoint_id))) continue;
      for (const [channel, version] of Object.entries(record.channel_versions)) {
        const channelKey = key(record.checkpoint_ns, channel);
        named.set(channelKey, [...(named.get(channelKey) ?? []), version]);
      }
    }
    referenced = new Map([...channels].map(([channelKey, byVersion]) => [channelKey, listClosure(named.get(channelKey) ?? [], byVersion)]));
    orphaned = [...channels].flatMap(([channelKey, byVersion]) =>
      [...byVersion.values()].filter((blob) => referenced.get(channelKey)!.has(blob.version) && slicesOf(blob).some((slice) => goes(blob.checkpoint_ns, slice))),
    );
    if (mode === 'rewrite') break;
    let grew = false;
    for (const blob of orphaned) {
      for (const slice of slicesOf(blob).filter((slice) => goes(blob.checkpoint_ns, slice))) {
        if (slice.write) {
          const source = byId.get(key(blob.checkpoint_ns, slice.write[0]));
          grew = (source !== undefined && keep(source)) || grew;
        } else {
          const channelKey = key(blob.checkpoint_ns, slice.blob![0]);
          const versions = sliceSources.get(channelKey) ?? [];
          if (versions.includes(slice.blob![1])) continue;
          sliceSources.set(channelKey, [...versions, slice.blob![1]]);
          grew = true;
        }
      }
    }
    if (!grew) break;
  }

  if (mode === 'rewrite') {
    for (const [checkpoint_ns, inNamespace] of groupBy(orphaned, (blob) => blob.checkpoint_ns)) {
      const sources = await readSliceSources(tx, [thread_id, checkpoint_ns], inNamespace.flatMap(slicesOf));
      for (const blob of inNamespace) blobs.put(withSlicesSpliced(blob, (slice) => sources.get(sliceSourceKey(slice))));
    }
    // A kept record stored as a change against a parent about to go is stored whole instead; those built on it stay.
    storedRecords.forEach((stored, i) => {
      const parent = stored.parent_checkpoint_id;
      if (isChange(stored) && parent !== undefined && !kept.has(key(stored.checkpoint_ns, parent)) && kept.has(key(stored.checkpoint_ns, stored.checkpoint_id))) {
        checkpoints.put(storedWhole(records[i]!));
      }
    });
  }
  const deletedCheckpoints = records
    .filter((record) => !kept.has(key(record.checkpoint_ns, record.checkpoint_id)))
    .map(({ checkpoint_ns, checkpoint_id }): CheckpointName => ({ checkpoint_ns, checkpoint_id }));
  const spared = 'checkpoints' in options ? options.checkpoints.filter((name) => kept.has(key(name.checkpoint_ns, name.checkpoint_id))) : [];
  for (const { checkpoint_ns, checkpoint_id } of deletedCheckpoints) {
    checkpoints.delete([thread_id, checkpoint_ns, checkpoint_id]);
    tx.objectStore('writes').delete(prefixRange([thread_id, checkpoint_ns, checkpoint_id]));
  }
  for (const [channelKey, byVersion] of channels) {
    for (const blob of byVersion.values()) {
      if (!referenced.get(channelKey)!.has(blob.version)) blobs.delete([thread_id, blob.checkpoint_ns, blob.channel, blob.version] satisfies BlobKey);
    }
  }
  return { deleted: deletedCheckpoints, spared };
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
    // Records stored as changes are copied as they are: their parents are copied with them.
    requestResult(stores.checkpoints.getAll(prefixRange([from]))) as Promise<StoredCheckpointRecord[]>,
    requestResult(stores.blobs.getAll(prefixRange([from]))) as Promise<BlobRecord[]>,
    requestResult(stores.writes.getAll(prefixRange([from]))) as Promise<StoredWriteRecord[]>,
    requestResult(stores.checkpoints.count(prefixRange([to]))),
  ]);
  if (records.length === 0) throw new CheckpointError('NOT_FOUND', `copyThread: thread "${from}" has no checkpoints to copy.`);
  if (taken > 0) throw new CheckpointError('INVALID_CONFIG', `copyThread: thread "${to}" already has checkpoints; copy into a new thread id.`);
  for (const record of records) stores.checkpoints.put({ ...record, thread_id: to });
  for (const blob of blobs) stores.blobs.put({ ...blob, thread_id: to });
  for (const write of writes) stores.writes.put({ ...write, thread_id: to });
  return records.length;
}
