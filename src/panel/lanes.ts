/**
 * Lays a thread's checkpoints out in lanes, git-graph style, for rows drawn newest first.
 *
 * The main line runs straight down lane 0: from the oldest checkpoint, each checkpoint's continuation, which is
 * its oldest child that is not a fork. Every other child (an `updateState` or fork, or a second run from an
 * earlier checkpoint) starts a branch in the lowest free lane, which runs down to the checkpoint it came from
 * and joins it there. A branch's own continuations stay in its lane.
 */
import type { CheckpointSummary } from '../devtools/data-source.js';

export interface LaneNode {
  id: string;
  parent: string | null;
  /** Whether the checkpoint was made by `updateState` or a fork (`source` `update` or `fork`). */
  fork: boolean;
}

export interface LaneRow {
  /** The lane of this row's checkpoint. */
  lane: number;
  /** Whether a line comes into the node from above, in its own lane (a newer checkpoint continues it). */
  fromAbove: boolean;
  /** Whether a line leaves the node downwards, in its own lane (its parent is further down). */
  toBelow: boolean;
  /** Lanes whose lines pass this row without touching its node. */
  through: number[];
  /** Lanes of branches that start from this checkpoint, joining it from above. */
  joins: number[];
}

export interface LaneLayout {
  rows: LaneRow[];
  /** How many lanes the widest row uses. */
  width: number;
}

const MAIN_LANE = 0;
/** Lane 0 waits for the main line's newest checkpoint before any branch may take it. */
const RESERVED = Symbol('main line');

/** The lane nodes of a namespace's checkpoints, as the devtools read them. */
export function laneNodesOf(checkpoints: readonly CheckpointSummary[]): LaneNode[] {
  return checkpoints.map((entry) => ({
    id: entry.checkpoint_id,
    parent: entry.parent_checkpoint_id,
    fork: entry.source === 'update' || entry.source === 'fork',
  }));
}

/** `nodes` newest first (by id, descending), as the timeline shows them. */
export function layoutLanes(nodes: readonly LaneNode[]): LaneLayout {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const continuation = new Map<string, string>();
  for (let i = nodes.length - 1; i >= 0; i -= 1) {
    const node = nodes[i]!;
    if (node.parent !== null && byId.has(node.parent) && !node.fork && !continuation.has(node.parent)) continuation.set(node.parent, node.id);
  }
  const main = new Set<string>();
  for (let id: string | undefined = nodes[nodes.length - 1]?.id; id !== undefined; id = continuation.get(id)) main.add(id);

  // What each lane's line is heading down to: a parent id, the reserved main line, or nothing (free).
  const expecting: (string | typeof RESERVED | null)[] = [RESERVED];
  const laneOf = new Map<string, number>();
  const rows: LaneRow[] = [];
  let width = 1;
  for (const node of nodes) {
    const waiting: number[] = [];
    expecting.forEach((expected, lane) => {
      if (expected === node.id) waiting.push(lane);
    });
    const continuedBy = continuation.get(node.id);
    let lane: number;
    if (main.has(node.id)) lane = MAIN_LANE;
    else if (continuedBy !== undefined && laneOf.has(continuedBy) && waiting.includes(laneOf.get(continuedBy)!)) lane = laneOf.get(continuedBy)!;
    else if (waiting.length > 0) lane = Math.min(...waiting);
    else {
      const free = expecting.findIndex((expected, index) => index !== MAIN_LANE && expected === null);
      lane = free >= 0 ? free : expecting.length;
    }
    laneOf.set(node.id, lane);
    const joins = waiting.filter((other) => other !== lane);
    for (const joined of joins) expecting[joined] = null;
    const through: number[] = [];
    expecting.forEach((expected, other) => {
      if (expected !== null && expected !== RESERVED && other !== lane && !joins.includes(other)) through.push(other);
    });
    const toBelow = node.parent !== null && byId.has(node.parent);
    expecting[lane] = toBelow ? node.parent : null;
    while (expecting.length > 1 && expecting[expecting.length - 1] === null) expecting.pop();
    rows.push({ lane, fromAbove: waiting.includes(lane), toBelow, through, joins });
    width = Math.max(width, lane + 1, ...through.map((other) => other + 1), ...joins.map((other) => other + 1));
  }
  return { rows, width };
}

/** The ids of a checkpoint and all its ancestors. */
export function ancestryOf(nodes: readonly { id: string; parent: string | null }[], id: string | undefined): Set<string> {
  const parents = new Map(nodes.map((node) => [node.id, node.parent]));
  const ancestry = new Set<string>();
  let current: string | null | undefined = id;
  while (current && !ancestry.has(current) && parents.has(current)) {
    ancestry.add(current);
    current = parents.get(current);
  }
  return ancestry;
}
