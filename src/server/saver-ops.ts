/** What a push gives the server's saver, planned by push.ts and written by the saver's calls or a batch writer. */
import type { ChannelVersions, Checkpoint, CheckpointMetadata, PendingWrite } from '@langchain/langgraph-checkpoint';
import type { CheckpointRecord, WriteRecord } from '../storage/records.js';
import type { SerializedValue } from './values.js';

/** A channel's value at a version, decoded or serialized when asked (see `ChannelValues`). */
export interface PushedValue {
  value(): Promise<unknown>;
  /** As the saver's `serde.dumpsTyped` gives it. */
  serialized(): Promise<SerializedValue>;
}

/** What the saver is given: checkpoints, decoded, with their new values, and writes per task. */
export interface SaverOps {
  puts: {
    record: CheckpointRecord;
    /** The checkpoint without its values, which are `values`. */
    checkpoint: Omit<Checkpoint, 'channel_values'>;
    metadata: CheckpointMetadata;
    newVersions: ChannelVersions;
    values: Record<string, PushedValue>;
  }[];
  writes: { first: WriteRecord; writes: PendingWrite[] }[];
}
