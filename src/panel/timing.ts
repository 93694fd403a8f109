import type { CheckpointSummary } from '../devtools/data-source.js';

/**
 * How long each step took: a checkpoint's time less its parent's (checkpoints are written when a step ends).
 * Null for the first checkpoint and where either time is missing or unreadable.
 */
export function stepDurations(checkpoints: readonly CheckpointSummary[]): Map<string, number | null> {
  const timeOf = new Map(checkpoints.map((entry) => [entry.checkpoint_id, entry.ts ? Date.parse(entry.ts) : Number.NaN]));
  return new Map(
    checkpoints.map((entry) => {
      const own = timeOf.get(entry.checkpoint_id)!;
      const parent = entry.parent_checkpoint_id === null ? undefined : timeOf.get(entry.parent_checkpoint_id);
      const duration = parent === undefined ? Number.NaN : own - parent;
      return [entry.checkpoint_id, Number.isFinite(duration) && duration >= 0 ? duration : null];
    }),
  );
}

export interface NodeTiming {
  node: string;
  /** Steps the node ran in. */
  count: number;
  totalMs: number;
  medianMs: number;
  longestMs: number;
}

function median(sorted: readonly number[]): number {
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Each node's timing over a thread: every step it ran in counts once, with the step's whole duration (nodes that
 * ran side by side in one step each get that step's time). Longest total first.
 */
export function nodeTimings(checkpoints: readonly CheckpointSummary[]): NodeTiming[] {
  const durations = stepDurations(checkpoints);
  const byNode = new Map<string, number[]>();
  for (const entry of checkpoints) {
    const duration = durations.get(entry.checkpoint_id);
    if (duration === null || duration === undefined) continue;
    for (const node of entry.nodes) byNode.set(node, [...(byNode.get(node) ?? []), duration]);
  }
  return [...byNode]
    .map(([node, times]) => {
      const sorted = [...times].sort((a, b) => a - b);
      return { node, count: sorted.length, totalMs: sorted.reduce((sum, time) => sum + time, 0), medianMs: median(sorted), longestMs: sorted.at(-1)! };
    })
    .sort((a, b) => b.totalMs - a.totalMs || (a.node < b.node ? -1 : 1));
}

/** "850 ms", "1.25 s", "2 min 5 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(2))} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms - minutes * 60_000) / 1000)} s`;
}
