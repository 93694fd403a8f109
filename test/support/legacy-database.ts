import type { BaseCheckpointSaver, CheckpointTuple } from '@langchain/langgraph-checkpoint';
import { JsonPlusSerializer, WRITES_IDX_MAP } from '@langchain/langgraph-checkpoint';
import { encodeValue, type DatabaseExport } from './database-export.js';
import { collect } from './fixtures.js';

/**
 * A database as juncture-browser 0.1 wrote it (schema 1), as an export for `importDatabase`: every channel value
 * serialized whole at each of its versions, `value: null` for a version without a value, no `delta_channels`. The
 * records are made from the checkpoints of `source`, so what the database holds is known; 0.1's code is gone, so
 * this builds its records rather than running it.
 */
export async function legacyDatabaseExport(source: BaseCheckpointSaver, thread_id: string): Promise<{ database: DatabaseExport; tuples: CheckpointTuple[] }> {
  const serde = new JsonPlusSerializer();
  const dump = async (value: unknown) => {
    const [type, bytes] = await serde.dumpsTyped(value);
    return { type, bytes: typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes };
  };
  const tuples = await collect(source.list({ configurable: { thread_id } }));
  const checkpoints: unknown[] = [];
  const blobs: unknown[] = [];
  const writes: unknown[] = [];
  for (const tuple of tuples) {
    const { thread_id: thread, checkpoint_ns, checkpoint_id } = tuple.config.configurable as Record<string, string>;
    const { channel_values, channel_versions, ...rest } = tuple.checkpoint;
    const record: Record<string, unknown> = {
      thread_id: thread,
      checkpoint_ns,
      checkpoint_id,
      v: tuple.checkpoint.v,
      channel_versions: { ...channel_versions },
      checkpoint: await dump(rest),
      metadata: await dump(tuple.metadata),
      step: tuple.metadata?.step,
      source: tuple.metadata?.source,
    };
    const parent = tuple.parentConfig?.configurable?.['checkpoint_id'];
    if (parent !== undefined) record['parent_checkpoint_id'] = parent;
    checkpoints.push(record);
    for (const [channel, version] of Object.entries(channel_versions)) {
      const value = channel in channel_values ? await dump(channel_values[channel]) : null;
      blobs.push({ thread_id: thread, checkpoint_ns, channel, version, value });
    }
    for (const [position, [task_id, channel, value]] of (tuple.pendingWrites ?? []).entries()) {
      const idx = Object.prototype.hasOwnProperty.call(WRITES_IDX_MAP, channel) ? WRITES_IDX_MAP[channel]! : position;
      writes.push({ thread_id: thread, checkpoint_ns, checkpoint_id, task_id, idx, channel, value: await dump(value), task_path: '' });
    }
  }
  const database: DatabaseExport = {
    version: 1,
    stores: {
      checkpoints: {
        keyPath: ['thread_id', 'checkpoint_ns', 'checkpoint_id'],
        autoIncrement: false,
        indexes: [
          { name: 'by_thread', keyPath: ['thread_id', 'checkpoint_id', 'checkpoint_ns'], unique: true, multiEntry: false },
          { name: 'by_time', keyPath: ['checkpoint_id', 'thread_id', 'checkpoint_ns'], unique: true, multiEntry: false },
        ],
        records: checkpoints.map(encodeValue),
      },
      blobs: { keyPath: ['thread_id', 'checkpoint_ns', 'channel', 'version'], autoIncrement: false, indexes: [], records: blobs.map(encodeValue) },
      writes: {
        keyPath: ['thread_id', 'checkpoint_ns', 'checkpoint_id', 'task_id', 'idx'],
        autoIncrement: false,
        indexes: [],
        records: writes.map(encodeValue),
      },
    },
  };
  return { database, tuples };
}
