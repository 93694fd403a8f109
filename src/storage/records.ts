import type { DBSchema } from 'idb';

/** A channel version as LangGraph hands it out: numbers by default, strings for custom savers. */
export type ChannelVersion = number | string;

/** Bytes produced by a serializer, with the type tag it needs to read them back. */
export interface TypedBytes {
  type: string;
  bytes: Uint8Array;
}

// A list value's record: how lists are made and read is lists.ts's.

/** `count` items from this record's own `items`, from index `own`. */
export interface OwnRun {
  own: number;
  count: number;
}
/** `count` items of the base version's list, from position `base`. Only in a list with a `base`. */
export interface BaseRun {
  base: number;
  count: number;
}
/** `count` items of the own items stored at version `at`, from index `own`. */
export interface StoredRun {
  at: ChannelVersion;
  own: number;
  count: number;
}
export type ListRun = OwnRun | BaseRun | StoredRun;

/**
 * An item stored as a slice of bytes that its thread and namespace already store (since schema 4): a task
 * write's value (the reply that brought a message), or another channel's value (the input checkpoint's
 * `__start__`), with a few bytes put in (the id a reducer gave the message after the write was stored). The
 * writer checks that the slice gives back the item's own bytes, so a read decodes exactly what it stored.
 */
export interface ItemSlice {
  /** The write holding the bytes, by its key within the thread and namespace. */
  write?: [checkpoint_id: string, task_id: string, idx: number];
  /** Or the channel value holding them (stored whole). */
  blob?: [channel: string, version: ChannelVersion];
  /** The source's bytes from `start` to `end`, with `insert` put in at `at` (from the source's start). */
  span: [start: number, at: number, end: number];
  insert: Uint8Array;
}

export type StoredItem = TypedBytes | ItemSlice;

export interface StoredList {
  /** Items first stored at this version, each serialized on its own, or as a slice of a value stored elsewhere. */
  items: StoredItem[];
  /** The version of the same channel whose list this one builds on; absent when `runs` spell the whole list. */
  base?: ChannelVersion;
  /**
   * Where the list is in its chain: 0 for a list without `base`, its base's depth + 1 for an edit, and for an
   * anchor (a multiple of EDITS_PER_ANCHOR) as `baseDepthOf` says. Absent (since schema 5) for an edit. Before
   * schema 5 every list edited the one before and a chain ended at depth 256.
   */
  depth?: number;
  /**
   * How the list is made, in order. Absent (since schema 5) for the commonest list: its base's whole list (none
   * without a base) followed by all its own items.
   */
  runs?: ListRun[];
  /**
   * Opaque here: what the saver wraps the list in when it reads it back (a value that holds its list in a
   * wrapper, as LangGraph's delta snapshots do). Absent for a value that is the list itself.
   */
  tag?: string;
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
  /**
   * Since schema 5, in records not encrypted: the checkpoint's `ts` and `versions_seen` held in clear rather than
   * in `checkpoint`, and the metadata's entries serialized one by one (by key) rather than in `metadata`, so that a
   * record can be stored as a change against its parent's (see `checkpoint-chains.ts`).
   */
  ts?: string;
  versions_seen?: Record<string, Record<string, ChannelVersion>>;
  metadata_entries?: Record<string, TypedBytes>;
  /**
   * Since schema 5: how many records stored as changes lie between this one and the whole record they build on
   * (0: stored whole). Records without it (written before, or encrypted) are stored whole and hold everything in
   * their serialized parts.
   */
  depth?: number;
  /**
   * Since schema 7: the values of channels that are small scalars (`isInlineValue`), held in the record rather than
   * as blobs, one fewer record to store and read for each. A channel here has this value at its version in
   * `channel_versions`; a channel not here is read from `blobs`. Not encrypted records only.
   */
  values?: Record<string, TypedBytes>;
}

/** Serialized values at most this long may be held in their checkpoint's record (`CheckpointRecord.values`). */
export const INLINE_VALUE_MAX_BYTES = 128;

const OPENING_BRACE = 0x7b;
const OPENING_BRACKET = 0x5b;

/**
 * Whether a serialized value is held in its checkpoint's record: a short JSON scalar (null, a boolean, a number, a
 * string). Objects and arrays never are: other records refer to them as blobs (writes that are parts of them, list
 * items that are slices of them), and encrypted bytes are not JSON.
 */
export function isInlineValue(typed: TypedBytes): boolean {
  const first = typed.bytes[0];
  return typed.type === 'json' && typed.bytes.byteLength <= INLINE_VALUE_MAX_BYTES && first !== undefined && first !== OPENING_BRACE && first !== OPENING_BRACKET;
}

/**
 * The record without the values it holds, and those values as blobs: as every record stored before schema 7 held them,
 * and as they travel (sync sends a checkpoint's values beside it).
 */
export function withValuesApart(record: CheckpointRecord): { checkpoint: CheckpointRecord; blobs: BlobRecord[] } {
  const { values, ...checkpoint } = record;
  const blobs: BlobRecord[] = [];
  for (const [channel, value] of Object.entries(values ?? {})) {
    const version = checkpoint.channel_versions[channel];
    if (version !== undefined) blobs.push({ thread_id: checkpoint.thread_id, checkpoint_ns: checkpoint.checkpoint_ns, channel, version, value });
  }
  return { checkpoint, blobs };
}

/**
 * A checkpoint record as the store holds it: whole (a `CheckpointRecord`, `ts` possibly as milliseconds), or, with
 * `depth` of 1 or more, a change against its parent's record (same thread and namespace): `channel_versions`,
 * `versions_seen`, `metadata_entries` and `values` hold only the entries that differ from the parent's, `removed` the keys the
 * parent has and this one has not, `v`, `checkpoint`, `metadata`, `source` and `delta_channels` are left out when
 * they equal the parent's, and `step` when it is the parent's plus one.
 * Reads resolve it into a whole `CheckpointRecord` in their transaction (`checkpoint-chains.ts`).
 */
export interface StoredCheckpointRecord extends Omit<CheckpointRecord, 'v' | 'ts' | 'channel_versions' | 'checkpoint' | 'metadata'> {
  v?: number;
  /** The ISO time as milliseconds when that gives it back exactly, else the string. */
  ts?: number | string;
  channel_versions?: Record<string, ChannelVersion>;
  checkpoint?: TypedBytes;
  metadata?: TypedBytes;
  /**
   * What the parent's record has and this one has not: `[field, key]` (field `channel_versions`, `metadata_entries`
   * or `values`), `['versions_seen', node, channel]`, or
   * `['step']`, `['source']` and `['delta_channels']`.
   */
  removed?: string[][];
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

/**
 * A checkpoint's serialized rest as read back: with its `v` and `id` from the record when it leaves them out, and
 * its `ts` and `versions_seen` when the record holds them in clear (a copy: the caller may change it).
 */
export function checkpointWithRecordFields<T>(record: CheckpointRecord, rest: T): T {
  if (typeof rest !== 'object' || rest === null || Array.isArray(rest)) return rest;
  const { ts, versions_seen } = record;
  return {
    ...(record.v === undefined ? {} : { v: record.v }),
    id: record.checkpoint_id,
    ...(ts === undefined ? {} : { ts }),
    ...(versions_seen === undefined ? {} : { versions_seen: Object.fromEntries(Object.entries(versions_seen).map(([node, seen]) => [node, { ...seen }])) }),
    ...rest,
  };
}

/** Metadata as read back: with its `source` and `step` from the record when it leaves them out. */
export function metadataWithRecordFields<T>(record: CheckpointRecord, metadata: T): T {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return metadata;
  return { ...(record.source === undefined ? {} : { source: record.source }), ...(record.step === undefined ? {} : { step: record.step }), ...metadata };
}

export function sameBytes(a: TypedBytes, b: TypedBytes): boolean {
  if (a.type !== b.type || a.bytes.byteLength !== b.bytes.byteLength) return false;
  // A loop: both engines run it about ten times faster than `every` with a callback.
  const x = a.bytes;
  const y = b.bytes;
  for (let i = 0; i < x.byteLength; i += 1) if (x[i] !== y[i]) return false;
  return true;
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

/** A write of a `TaskWritesRecord`: what a `WriteRecord` holds beyond the key and path its task's writes share. */
export interface TaskWrite {
  idx: number;
  channel: string;
  value: TypedBytes;
  of?: WriteSource;
}

/**
 * Since schema 6: the regular writes (`idx` 0 and up) of one task against one checkpoint in one record, in `idx`
 * order, under the key of `idx` 0 whatever `idx` they have. A task's regular writes then cost one request to store
 * and to read, and a second call for the same task meets the same key, so a retried task is never stored twice.
 * A task's one write at `idx` 0 stays a `WriteRecord`; special writes (negative `idx`) stay one record each.
 */
export interface TaskWritesRecord {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
  task_id: string;
  idx: 0;
  task_path: string;
  writes: TaskWrite[];
}

/** A record of the `writes` store: one write, or (since schema 6) a task's regular writes together. */
export type StoredWriteRecord = WriteRecord | TaskWritesRecord;

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

/** A checkpoint of a thread, by namespace and id. */
export interface CheckpointName {
  checkpoint_ns: string;
  checkpoint_id: string;
}

/**
 * One committed operation in the change journal (see `journal.ts`): the records it wrote, the deletion of its
 * thread, or checkpoints a prune deleted that are to go elsewhere too. The journal's key numbers entries in commit
 * order.
 */
export type JournalEntry =
  | { thread_id: string; records: RecordRef[] }
  | { thread_id: string; deleted: true }
  | { thread_id: string; pruned: CheckpointName[] };

export interface JunctureSchema extends DBSchema {
  checkpoints: {
    key: CheckpointKey;
    value: StoredCheckpointRecord;
    indexes: { by_thread: ThreadIndexKey; by_time: TimeIndexKey };
  };
  blobs: { key: BlobKey; value: BlobRecord };
  writes: { key: WriteKey; value: StoredWriteRecord };
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
