import type { DBSchema } from 'idb';
import type { StoredList } from './lists.js';

/** A channel version as LangGraph hands it out: numbers by default, strings for custom savers. */
export type ChannelVersion = number | string;

/** Bytes produced by a serializer, with the type tag it needs to read them back. */
export interface TypedBytes {
  type: string;
  bytes: Uint8Array;
}

/**
 * One checkpoint, without its channel values (those live in `blobs`, one record per channel version).
 * `checkpoint` holds the serialized rest of the checkpoint (`v`, `id`, `ts`, `versions_seen`, ...).
 */
export interface CheckpointRecord {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
  parent_checkpoint_id?: string;
  /** Checkpoint format version; below 4 the pending sends live in the parent's writes. */
  v: number;
  channel_versions: Record<string, ChannelVersion>;
  checkpoint: TypedBytes;
  metadata: TypedBytes;
  /** Copied out of the metadata so that lists can filter by step without decoding anything. */
  step?: number;
  source?: string;
  /**
   * Channels whose value at this checkpoint is not stored but rebuilt from the writes of its ancestors, back to
   * the nearest one that stores a value (LangGraph's `DeltaChannel`). Retention keeps those ancestors.
   */
  delta_channels?: string[];
}

/**
 * What a checkpoint record holds in clear is left out of its serialized parts (since 0.3): the checkpoint's `id`
 * and `v`, the metadata's `step` and `source`. Records written before hold them in both; the serialized ones
 * then win, and they are the same.
 */
export function withoutCopiedFields(
  checkpoint: Record<string, unknown>,
  metadata: Record<string, unknown>,
  record: Pick<CheckpointRecord, 'checkpoint_id' | 'v' | 'step' | 'source'>,
): { checkpoint: Record<string, unknown>; metadata: Record<string, unknown> } {
  const { id, v, ...restOfCheckpoint } = checkpoint;
  const { step, source, ...restOfMetadata } = metadata;
  return {
    checkpoint: { ...(id === record.checkpoint_id ? {} : { id }), ...(v === record.v ? {} : { v }), ...restOfCheckpoint },
    metadata: { ...(step === record.step ? {} : { step }), ...(source === record.source ? {} : { source }), ...restOfMetadata },
  };
}

/** A checkpoint's serialized rest as read back: with its `v` and `id` from the record when it leaves them out. */
export function checkpointWithRecordFields<T>(record: CheckpointRecord, rest: T): T {
  if (typeof rest !== 'object' || rest === null || Array.isArray(rest)) return rest;
  return { ...(record.v === undefined ? {} : { v: record.v }), id: record.checkpoint_id, ...rest };
}

/** Metadata as read back: with its `source` and `step` from the record when it leaves them out. */
export function metadataWithRecordFields<T>(record: CheckpointRecord, metadata: T): T {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return metadata;
  return { ...(record.source === undefined ? {} : { source: record.source }), ...(record.step === undefined ? {} : { step: record.step }), ...metadata };
}

/**
 * The value of one channel at one version. A channel without a value at a version has no blob; databases
 * written before that rule hold `value: null` for it, which reads treat the same way.
 */
export interface BlobRecord {
  thread_id: string;
  checkpoint_ns: string;
  channel: string;
  version: ChannelVersion;
  /** The value, serialized whole; null when it is stored as `list`. */
  value: TypedBytes | null;
  /** An array value stored as items, mostly by reference to earlier versions (see `lists.ts`). */
  list?: StoredList;
}

/**
 * Where a write's value is stored when it is a part of a value its own checkpoint stores (the input task writes
 * the input's `messages`, which the input checkpoint stores as its `__start__` value): the blob of `channel` at
 * `version`, named by the write's checkpoint, so it lives as long as the write. The write's `value` then holds
 * only the property name, serialized.
 */
export interface WriteSource {
  channel: string;
  version: ChannelVersion;
}

/** One pending write of a task against a checkpoint. `idx` is negative for special channels. */
export interface WriteRecord {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
  task_id: string;
  idx: number;
  channel: string;
  /** The value serialized; with `of`, the name of the property of that value that the write is (since 0.3). */
  value: TypedBytes;
  task_path: string;
  of?: WriteSource;
}

export type CheckpointKey = [thread_id: string, checkpoint_ns: string, checkpoint_id: string];
export type BlobKey = [thread_id: string, checkpoint_ns: string, channel: string, version: ChannelVersion];
export type WriteKey = [thread_id: string, checkpoint_ns: string, checkpoint_id: string, task_id: string, idx: number];
/** Index key for one thread across namespaces, newest first. */
export type ThreadIndexKey = [thread_id: string, checkpoint_id: string, checkpoint_ns: string];
/** Index key for all threads, newest first. */
export type TimeIndexKey = [checkpoint_id: string, thread_id: string, checkpoint_ns: string];

/** A record's place: its store and key. */
export type RecordRef =
  | { store: 'checkpoints'; key: CheckpointKey }
  | { store: 'blobs'; key: BlobKey }
  | { store: 'writes'; key: WriteKey };

/**
 * One committed operation in the change journal (see `journal.ts`): the records it wrote, or the deletion of its
 * thread. The journal's key numbers entries in commit order.
 */
export type JournalEntry = { thread_id: string; records: RecordRef[] } | { thread_id: string; deleted: true };

export interface JunctureSchema extends DBSchema {
  checkpoints: {
    key: CheckpointKey;
    value: CheckpointRecord;
    indexes: { by_thread: ThreadIndexKey; by_time: TimeIndexKey };
  };
  blobs: { key: BlobKey; value: BlobRecord };
  writes: { key: WriteKey; value: WriteRecord };
  /** Schema 2: what was committed here and not yet taken out by a reader of the journal. */
  journal: { key: number; value: JournalEntry };
  /** Schema 2: the database's own settings, by name (whether it journals; a reader's bookmarks). */
  settings: { key: string; value: unknown };
  /** Schema 2: threads deleted while journaling: changes applied from elsewhere never bring them back. */
  deleted_threads: { key: string; value: { thread_id: string } };
}

/** The stores of checkpoint data, each keyed by thread first. */
export const STORE_NAMES = ['checkpoints', 'blobs', 'writes'] as const;
/** The journal's stores. */
export const JOURNAL_STORE_NAMES = ['journal', 'settings', 'deleted_threads'] as const;
