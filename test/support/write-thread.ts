import type { BaseCheckpointSaver, Checkpoint, CheckpointMetadata } from '@langchain/langgraph-checkpoint';
import type { ThreadExport } from '../../src/devtools/data-source.js';

/** Stores an exported thread through a saver, checkpoint by checkpoint (oldest first), writes included. */
export async function writeThreadExport(saver: BaseCheckpointSaver, exported: ThreadExport): Promise<void> {
  const oldestFirst = [...exported.checkpoints].reverse();
  const byKey = new Map(oldestFirst.map((detail) => [`${detail.checkpoint_ns}/${detail.checkpoint_id}`, detail]));
  for (const detail of oldestFirst) {
    const parent = detail.parent_checkpoint_id ? byKey.get(`${detail.checkpoint_ns}/${detail.parent_checkpoint_id}`) : undefined;
    const newVersions = Object.fromEntries(
      Object.entries(detail.channel_versions).filter(([channel, version]) => parent?.channel_versions[channel] !== version),
    ) as Record<string, number>;
    const checkpoint: Checkpoint = {
      v: 4,
      id: detail.checkpoint_id,
      ts: detail.ts ?? new Date(0).toISOString(),
      channel_values: detail.channel_values,
      channel_versions: detail.channel_versions as Record<string, number>,
      versions_seen: detail.versions_seen as Checkpoint['versions_seen'],
    };
    const config = await saver.put(
      { configurable: { thread_id: exported.thread_id, checkpoint_ns: detail.checkpoint_ns, ...(parent ? { checkpoint_id: parent.checkpoint_id } : {}) } },
      checkpoint,
      detail.metadata as CheckpointMetadata,
      newVersions,
    );
    const tasks = new Map<string, typeof detail.pending_writes>();
    for (const write of detail.pending_writes) tasks.set(write.task_id, [...(tasks.get(write.task_id) ?? []), write]);
    for (const [task_id, writes] of tasks) {
      await saver.putWrites(config, writes.map((write) => [write.channel, write.value]), task_id, writes[0]!.task_path);
    }
  }
}
