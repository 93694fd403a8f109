/**
 * The storage contract: what the savers ask of a storage, wherever it runs (this context or a worker). Bytes
 * in, bytes out; each write atomic, each read one transaction. It knows nothing about serializers.
 */
import type { ResolvedList } from './lists.js';
import type { BlobRecord, ChannelVersion, CheckpointName, CheckpointRecord, StoredCheckpointRecord, TypedBytes, WriteRecord } from './records.js';

export type Durability = 'default' | 'strict' | 'relaxed';

/** A channel's value as read: serialized whole, or a list of items serialized one by one. */
export type ChannelValue =
  | { channel: string; version: ChannelVersion; value: TypedBytes }
  /** `refs[i]` says where `items[i]` is stored, so that a writer can refer to it instead of storing it again. */
  | ({ channel: string; version: ChannelVersion } & ResolvedList);

/** A checkpoint record with everything needed to rebuild its tuple. */
export interface StoredTuple {
  checkpoint: CheckpointRecord;
  /** Values of the checkpoint's `channel_versions`, those that have one. */
  values: ChannelValue[];
  /** Pending writes against the checkpoint, in key order. */
  writes: WriteRecord[];
  /** For checkpoints older than format 4: the parent's writes to `__pregel_tasks`. */
  parentSends?: WriteRecord[];
}

/** Which checkpoints a list walks; all bounds are on checkpoint ids, which sort by time. */
export interface CheckpointQuery {
  thread_id?: string;
  checkpoint_ns?: string;
  checkpoint_id?: string;
  /** Only ids strictly less than this. */
  before?: string;
  /** Only ids strictly greater than this. */
  after?: string;
  /** Only checkpoints whose metadata step lies in this range (inclusive). */
  step?: { gte?: number; lte?: number };
}

/** Where the next page of a list starts: the last key the previous page read. */
export type ListResume = IDBValidKey;

export interface CheckpointPage {
  records: CheckpointRecord[];
  /** Absent when the walk reached its end. */
  resume?: ListResume;
}

/** A page of `listTuples`: the checkpoints with their blobs and writes. */
export interface TuplePage {
  tuples: StoredTuple[];
  /** Absent when the walk reached its end. */
  resume?: ListResume;
}

/** The own bytes of item `item` of the list of `blobs[blob]`, which the operation stores as a slice. */
export interface SlicedItem {
  blob: number;
  item: number;
  bytes: TypedBytes;
}

/** A change to store; a batch of them commits in one transaction, in order. */
export type WriteOperation =
  | {
      kind: 'checkpoint';
      /** Whole, or a change against its parent, which must be stored (checked in the commit's transaction). */
      checkpoint: StoredCheckpointRecord;
      blobs: BlobRecord[];
      /**
       * The own bytes of list items stored as slices (`ItemSlice`), by blob and item index, not stored: the
       * commit splices each slice from what is stored and stores the item whole where the bytes differ (a write
       * stored earlier under the same key keeps its first value).
       */
      slicedItems?: SlicedItem[];
    }
  /** Writes of one task against one checkpoint. */
  | { kind: 'writes'; writes: WriteRecord[] }
  | { kind: 'delete'; thread_id: string }
  /**
   * Values ahead of the checkpoint that names them: changes applied from elsewhere arrive in pages, and a page may
   * end between a checkpoint's values and the checkpoint.
   */
  | { kind: 'blobs'; blobs: BlobRecord[] };

/** The thread an operation writes to. */
export function threadOf(operation: WriteOperation): string | undefined {
  switch (operation.kind) {
    case 'checkpoint':
      return operation.checkpoint.thread_id;
    case 'writes':
      return operation.writes[0]?.thread_id;
    case 'delete':
      return operation.thread_id;
    case 'blobs':
      return operation.blobs[0]?.thread_id;
  }
}

/** What `getDeltaChannelHistory` replays: the ancestors' writes to some channels, and each channel's seed. */
export interface DeltaHistory {
  /**
   * The ancestors of the checkpoint, nearest (its parent) first, up to the farthest seed (or the root), each with
   * its writes to the channels asked for, in key order, and the values those writes are parts of (`of`).
   */
  ancestors: { checkpoint_id: string; writes: WriteRecord[]; sources?: ChannelValue[] }[];
  /** Per channel, the value stored at the nearest ancestor that stores one (`ancestor` indexes `ancestors`). */
  seeds: Record<string, { ancestor: number; value: ChannelValue }>;
}

/** Which checkpoints a prune deletes: all but the newest, or those named. */
export type PruneOptions = PruneToNewest | PruneNamed;

export interface PruneToNewest {
  /** How many of the newest checkpoints of each namespace of the thread to keep. */
  keepLatest: number;
  /**
   * Also keep every ancestor of a kept checkpoint (default), so kept history stays whole and only abandoned
   * branches go. `false` cuts the history to the newest `keepLatest`, plus the ancestors that the kept ones'
   * rebuilt channels (`CheckpointRecord.delta_channels`) replay their writes from.
   */
  keepAncestors?: boolean;
  /** Record the checkpoints deleted in the change journal (when it is on), for its reader to delete elsewhere. */
  journal?: boolean;
}

/**
 * Deletes the named checkpoints of one thread, except those a kept checkpoint's rebuilt channels replay the writes
 * of (a prune made elsewhere, applied here). The deletion is not journaled; when a named checkpoint stays, the
 * thread is journaled again (while the journal is on), so that its reader sends those checkpoints back.
 */
export interface PruneNamed {
  checkpoints: CheckpointName[];
}

export interface CheckpointStorage {
  /** Stores one operation atomically. */
  write(operation: WriteOperation): Promise<void>;
  /** Resolves once every write made before it is committed; rejects with a failure no call has reported yet. */
  flush(): Promise<void>;
  /** The checkpoint with this id, or the latest of (thread, namespace) when `checkpoint_id` is absent. */
  getTuple(thread_id: string, checkpoint_ns: string, checkpoint_id?: string): Promise<StoredTuple | undefined>;
  /** Up to `pageSize` checkpoint records, newest first, continuing from `resume`. */
  listCheckpoints(query: CheckpointQuery, pageSize: number, resume?: ListResume): Promise<CheckpointPage>;
  /**
   * Blobs and writes for records returned by `listCheckpoints`, in one transaction. A checkpoint deleted since
   * (a pruned or deleted thread) is left out, never returned without its values.
   */
  loadTuples(records: CheckpointRecord[]): Promise<StoredTuple[]>;
  /** `listCheckpoints` and `loadTuples` of its records in one transaction, for lists without a metadata filter. */
  listTuples(query: CheckpointQuery, pageSize: number, resume?: ListResume): Promise<TuplePage>;
  /**
   * The writes and seeds that rebuild `channels` at a checkpoint (the latest of its namespace when
   * `checkpoint_id` is absent), in one transaction; empty when the checkpoint does not exist.
   */
  deltaHistory(thread_id: string, checkpoint_ns: string, checkpoint_id: string | undefined, channels: string[]): Promise<DeltaHistory>;
  /** Prunes these threads (all when absent) to their newest checkpoints; resolves with how many were deleted. */
  prune(threadIds: string[] | undefined, options: PruneOptions): Promise<number>;
  /** Copies a thread under a new id; resolves with how many checkpoints were copied. */
  copyThread(from: string, to: string): Promise<number>;
  /** Waits for every call made before it, then closes; later calls reject with `CLOSED`. */
  close(): Promise<void>;
}
