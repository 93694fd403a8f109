import { openDB } from 'idb';
import type { BaseCheckpointSaver, CheckpointTuple } from '@langchain/langgraph-checkpoint';
import { JsonPlusSerializer, WRITES_IDX_MAP } from '@langchain/langgraph-checkpoint';
import { collect } from './fixtures.js';

/**
 * Writes a database as juncture-browser 0.1 wrote it (schema 1): every channel value serialized whole at each of
 * its versions, `value: null` for a version without a value, no `delta_channels`. The records are made from the
 * checkpoints of `source`, so what the database holds is known.
 */
export async function writeLegacyDatabase(dbName: string, source: BaseCheckpointSaver, thread_id: string): Promise<CheckpointTuple[]> {
  const serde = new JsonPlusSerializer();
  const dump = async (value: unknown) => {
    const [type, bytes] = await serde.dumpsTyped(value);
    return { type, bytes: typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes };
  };
  const tuples = await collect(source.list({ configurable: { thread_id } }));
  const db = await openDB(dbName, 1, {
    upgrade(database) {
      const checkpoints = database.createObjectStore('checkpoints', { keyPath: ['thread_id', 'checkpoint_ns', 'checkpoint_id'] });
      checkpoints.createIndex('by_thread', ['thread_id', 'checkpoint_id', 'checkpoint_ns'], { unique: true });
      checkpoints.createIndex('by_time', ['checkpoint_id', 'thread_id', 'checkpoint_ns'], { unique: true });
      database.createObjectStore('blobs', { keyPath: ['thread_id', 'checkpoint_ns', 'channel', 'version'] });
      database.createObjectStore('writes', { keyPath: ['thread_id', 'checkpoint_ns', 'checkpoint_id', 'task_id', 'idx'] });
    },
  });
  try {
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
      await db.put('checkpoints', record);
      for (const [channel, version] of Object.entries(channel_versions)) {
        const value = channel in channel_values ? await dump(channel_values[channel]) : null;
        await db.put('blobs', { thread_id: thread, checkpoint_ns, channel, version, value });
      }
      for (const [position, [task_id, channel, value]] of (tuple.pendingWrites ?? []).entries()) {
        const idx = Object.prototype.hasOwnProperty.call(WRITES_IDX_MAP, channel) ? WRITES_IDX_MAP[channel]! : position;
        await db.put('writes', { thread_id: thread, checkpoint_ns, checkpoint_id, task_id, idx, channel, value: await dump(value), task_path: '' });
      }
    }
  } finally {
    db.close();
  }
  return tuples;
}
