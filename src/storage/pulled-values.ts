/**
 * Checkpoints that come from elsewhere (sync) arrive as ordinary records, their new values as blobs beside them.
 * Stored here, they hold their small values as the saver's records do (`CheckpointRecord.values`): for a channel
 * whose version the parent has, the parent's (read when the operations do not bring the parent); for a new version,
 * the small value that came with the operations, which is then not stored as a record of its own. So a pull stores
 * fewer records, and no record built on another here misses a value. A checkpoint whose parent is not stored here
 * (pruned here, then continued elsewhere) takes the small values it keeps from the records of its thread that hold them.
 */
import { ChainResolver, resolveRecords } from './checkpoint-chains.js';
import { isInlineValue, type ChannelVersion, type CheckpointKey, type CheckpointRecord, type StoredCheckpointRecord, type TypedBytes } from './records.js';
import { prefixRange, requestResult } from './requests.js';
import type { WriteOperation } from './storage.js';

const recordKey = (thread_id: string, checkpoint_ns: string, checkpoint_id: string) => JSON.stringify([thread_id, checkpoint_ns, checkpoint_id]);
const valueKey = (thread_id: string, checkpoint_ns: string, channel: string, version: ChannelVersion) => JSON.stringify([thread_id, checkpoint_ns, channel, version]);

/** The parents of the operations' checkpoints that the operations do not bring before them: read before storing. */
export function parentsToRead(operations: WriteOperation[]): CheckpointKey[] {
  const wanted = new Map<string, CheckpointKey>();
  for (const { thread_id, checkpoint_ns, parent_checkpoint_id } of orphansOf(operations, new Map())) {
    wanted.set(recordKey(thread_id, checkpoint_ns, parent_checkpoint_id!), [thread_id, checkpoint_ns, parent_checkpoint_id!]);
  }
  return [...wanted.values()];
}

/** The records stored under these keys, whole, by key; those not stored are missing. */
export async function readParents(tx: IDBTransaction, keys: CheckpointKey[]): Promise<Map<string, CheckpointRecord>> {
  const store = tx.objectStore('checkpoints');
  const stored = await Promise.all(keys.map((key) => requestResult(store.get(key)) as Promise<StoredCheckpointRecord | undefined>));
  const whole = await resolveRecords(tx, stored.filter((record): record is StoredCheckpointRecord => record !== undefined));
  return new Map(whole.map((record) => [recordKey(record.thread_id, record.checkpoint_ns, record.checkpoint_id), record]));
}

/**
 * Pulled records whose history is not stored here, so that they would read back wrong or not at all: a checkpoint
 * whose parent is neither brought nor stored (pruned here, then continued or forked elsewhere) and that rebuilds
 * channels from its ancestors' writes (`delta_channels`), a list that builds on a version pruned here, or a write that
 * is a part of a value pruned here (its checkpoint came in an earlier pull). Thrown by `applyChanges`, which then
 * stores nothing; its caller fetches those threads' history and stores the changes again with them in
 * `historyFetched`.
 */
export class HistoryNotStored extends Error {
  constructor(readonly threadIds: string[]) {
    super(`The history of threads ${threadIds.map((id) => JSON.stringify(id)).join(', ')} that pulled checkpoints build on is not stored here.`);
    this.name = 'HistoryNotStored';
  }
}

/** The operations' checkpoints whose parent is neither brought before them nor among `parents` (stored here). */
function orphansOf(operations: WriteOperation[], parents: ReadonlyMap<string, CheckpointRecord>): CheckpointRecord[] {
  const brought = new Set<string>();
  const orphans: CheckpointRecord[] = [];
  for (const operation of operations) {
    if (operation.kind !== 'checkpoint') continue;
    const record = operation.checkpoint as CheckpointRecord;
    const { thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id } = record;
    const parentKey = parent_checkpoint_id === undefined ? undefined : recordKey(thread_id, checkpoint_ns, parent_checkpoint_id);
    brought.add(recordKey(thread_id, checkpoint_ns, checkpoint_id));
    if (parentKey !== undefined && !brought.has(parentKey) && !parents.has(parentKey)) orphans.push(record);
  }
  return orphans;
}

/** The threads of `HistoryNotStored`, given the parents stored here (`readParents`); none is usual. */
export function threadsWithoutHistory(operations: WriteOperation[], parents: ReadonlyMap<string, CheckpointRecord>): string[] {
  const rebuilding = orphansOf(operations, parents).filter((record) => (record.delta_channels ?? []).length > 0);
  return [...new Set(rebuilding.map((record) => record.thread_id))];
}

/** The small values that the operations bring as blobs, by `valueKey`. */
function smallValuesOf(operations: WriteOperation[]): Map<string, TypedBytes> {
  const small = new Map<string, TypedBytes>();
  for (const operation of operations) {
    if (operation.kind !== 'checkpoint' && operation.kind !== 'blobs') continue;
    for (const blob of operation.blobs) {
      if (blob.value !== null && blob.list === undefined && isInlineValue(blob.value)) small.set(valueKey(blob.thread_id, blob.checkpoint_ns, blob.channel, blob.version), blob.value);
    }
  }
  return small;
}

/**
 * For the operations' checkpoints whose parent is neither brought nor stored here: the channel versions they keep
 * that the operations do not bring, are not stored as blobs, and that a record of their thread holds, by `valueKey`;
 * and the threads where some such version is nowhere here (pruned here with every checkpoint that named it), whose
 * history the caller fetches (`HistoryNotStored`). Rare (a parent pruned here, then continued elsewhere), so each such
 * thread's records are read whole.
 */
export async function readKeptValues(
  tx: IDBTransaction,
  operations: WriteOperation[],
  parents: ReadonlyMap<string, CheckpointRecord>,
): Promise<{ found: Map<string, TypedBytes>; missingIn: string[] }> {
  const found = new Map<string, TypedBytes>();
  const missingIn = new Set<string>();
  const orphans = orphansOf(operations, parents);
  if (orphans.length === 0) return { found, missingIn: [] };
  const small = smallValuesOf(operations);
  const wanted = new Map<string, { prefix: [string, string]; keys: Set<string> }>();
  for (const { thread_id, checkpoint_ns, channel_versions } of orphans) {
    const group = JSON.stringify([thread_id, checkpoint_ns]);
    for (const [channel, version] of Object.entries(channel_versions)) {
      const key = valueKey(thread_id, checkpoint_ns, channel, version);
      if (small.has(key)) continue;
      let entry = wanted.get(group);
      if (!entry) wanted.set(group, (entry = { prefix: [thread_id, checkpoint_ns], keys: new Set() }));
      entry.keys.add(key);
    }
  }
  const blobs = tx.objectStore('blobs');
  for (const { prefix, keys } of wanted.values()) {
    const asBlobs = await Promise.all([...keys].map((key) => requestResult(blobs.getKey(JSON.parse(key) as IDBValidKey[]))));
    const missing = new Set([...keys].filter((_, i) => asBlobs[i] === undefined));
    if (missing.size === 0) continue;
    const stored = (await requestResult(tx.objectStore('checkpoints').getAll(prefixRange(prefix)))) as StoredCheckpointRecord[];
    const resolver = new ChainResolver(tx, stored);
    for (const record of stored.reverse()) {
      const whole = await resolver.resolve(record);
      for (const [channel, value] of Object.entries(whole.values ?? {})) {
        const key = valueKey(prefix[0], prefix[1], channel, whole.channel_versions[channel]!);
        if (missing.delete(key)) found.set(key, value);
      }
      if (missing.size === 0) break;
    }
    if (missing.size > 0) missingIn.add(prefix[0]);
  }
  return { found, missingIn: [...missingIn] };
}

/**
 * The operations (from elsewhere, in order) with their checkpoint records holding their small values; `kept` holds
 * those of checkpoints whose parent is not stored here (`readKeptValues`).
 */
export function withValuesInRecords(
  operations: WriteOperation[],
  parents: ReadonlyMap<string, CheckpointRecord>,
  kept: ReadonlyMap<string, TypedBytes> = new Map(),
): WriteOperation[] {
  const small = smallValuesOf(operations);
  const records = new Map(parents);
  // Small values held by a record whose parent is known here (or that has none).
  const held = new Set<string>();
  const withValues = operations.map((operation): WriteOperation => {
    if (operation.kind !== 'checkpoint') return operation;
    const record = operation.checkpoint as CheckpointRecord;
    const { thread_id, checkpoint_ns, parent_checkpoint_id } = record;
    const parent = parent_checkpoint_id === undefined ? undefined : records.get(recordKey(thread_id, checkpoint_ns, parent_checkpoint_id));
    const values: Record<string, TypedBytes> = { ...record.values };
    for (const [channel, version] of Object.entries(record.channel_versions)) {
      const key = valueKey(thread_id, checkpoint_ns, channel, version);
      const value = parent?.channel_versions[channel] === version ? parent.values?.[channel] : (small.get(key) ?? (parent === undefined ? kept.get(key) : undefined));
      if (value === undefined || value === null) continue;
      values[channel] = value;
      // Held along its chain: every record that names the value later builds on this one, or on one before it that
      // holds it. Without its parent here, the record may not be on that chain: the value stays a record too.
      if (parent !== undefined || parent_checkpoint_id === undefined) held.add(key);
    }
    const stored: CheckpointRecord = Object.keys(values).length > 0 ? { ...record, values } : record;
    records.set(recordKey(thread_id, checkpoint_ns, record.checkpoint_id), stored);
    return { ...operation, checkpoint: stored };
  });
  // Values ahead of their checkpoints (as sync brings them) that a record holds are not stored on their own.
  return withValues.flatMap((operation): WriteOperation[] => {
    if (operation.kind !== 'blobs') return [operation];
    const blobs = operation.blobs.filter((blob) => !held.has(valueKey(blob.thread_id, blob.checkpoint_ns, blob.channel, blob.version)));
    return blobs.length === 0 ? [] : [{ ...operation, blobs }];
  });
}
