/**
 * Which ancestors a checkpoint needs to read back: a channel it rebuilds (`delta_channels`) replays the writes of
 * its ancestors, up to the nearest one that stores the channel's value. Pure, so that a prune here and one on the
 * server keep the same checkpoints.
 */
import type { ChannelVersion, CheckpointRecord } from './records.js';

type Chained = Pick<CheckpointRecord, 'checkpoint_ns' | 'parent_checkpoint_id' | 'channel_versions' | 'delta_channels'>;

/**
 * The ancestors `record` replays writes of, nearest first, as far as `parentOf` finds them; `stored` tells whether a
 * channel's value at a version is stored (where the replay of that channel starts).
 */
export function deltaAncestors<T extends Chained>(
  record: T,
  parentOf: (record: T) => T | undefined,
  stored: (checkpoint_ns: string, channel: string, version: ChannelVersion) => boolean,
): T[] {
  const needed = new Set<T>();
  for (const channel of record.delta_channels ?? []) {
    for (let ancestor = parentOf(record); ancestor !== undefined; ancestor = parentOf(ancestor)) {
      needed.add(ancestor);
      const version = ancestor.channel_versions[channel];
      if (version !== undefined && stored(ancestor.checkpoint_ns, channel, version)) break;
    }
  }
  return [...needed];
}
