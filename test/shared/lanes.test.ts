import { ancestryOf, layoutLanes, type LaneNode } from '../../src/panel/lanes.js';
import { forkedThread } from '../support/fixture-threads.js';

function rootNodes(): LaneNode[] {
  return forkedThread()
    .checkpoints.filter((entry) => entry.checkpoint_ns === '')
    .map((entry) => ({ id: entry.checkpoint_id, parent: entry.parent_checkpoint_id, fork: entry.source === 'update' || entry.source === 'fork' }));
}

describe('layoutLanes', () => {
  it('keeps the main line straight in lane 0 and puts each fork in a branch that joins where it forked', () => {
    const nodes = rootNodes();
    const { rows, width } = layoutLanes(nodes);
    const laneOf = (id: string) => rows[nodes.findIndex((node) => node.id === id)]!;
    // ckpt-1..7: main line; 8 (update of 3) and 9 (its continuation); 10 (fork of 5).
    for (const n of [1, 2, 3, 4, 5, 6, 7]) expect(laneOf(`ckpt-00000${n}`).lane).toBe(0);
    expect(laneOf('ckpt-000010').lane).toBe(1);
    expect(laneOf('ckpt-000009').lane).toBe(2);
    expect(laneOf('ckpt-000008').lane).toBe(2);
    expect(width).toBe(3);
    expect(laneOf('ckpt-000005').joins).toEqual([1]);
    expect(laneOf('ckpt-000003').joins).toEqual([2]);
    // While the update branch runs down to ckpt-3, it passes the main line's rows 7..4 in lane 2.
    expect(laneOf('ckpt-000004').through).toEqual([2]);
    expect(laneOf('ckpt-000007')).toMatchObject({ fromAbove: false, toBelow: true });
    expect(laneOf('ckpt-000001')).toMatchObject({ fromAbove: true, toBelow: false, joins: [] });
  });

  it('gives branches that overlap different lanes, and reuses a lane once its branch has joined', () => {
    const overlapping: LaneNode[] = [
      { id: '6', parent: '3', fork: true },
      { id: '5', parent: '1', fork: true },
      { id: '4', parent: '3', fork: false },
      { id: '3', parent: '2', fork: false },
      { id: '2', parent: '1', fork: false },
      { id: '1', parent: null, fork: false },
    ];
    expect(layoutLanes(overlapping).rows.map((row) => row.lane)).toEqual([1, 2, 0, 0, 0, 0]);
    const sequential: LaneNode[] = [
      { id: '6', parent: '4', fork: true },
      { id: '5', parent: '4', fork: false },
      { id: '4', parent: '3', fork: false },
      { id: '3', parent: '2', fork: false },
      { id: '2b', parent: '1', fork: true },
      { id: '2', parent: '1', fork: false },
      { id: '1', parent: null, fork: false },
    ];
    const { rows, width } = layoutLanes(sequential);
    expect(rows.map((row) => row.lane)).toEqual([1, 0, 0, 0, 1, 0, 0]);
    expect(width).toBe(2);
  });

  it('finds the ancestry of a checkpoint', () => {
    const nodes = rootNodes();
    expect([...ancestryOf(nodes, 'ckpt-000009')].sort()).toEqual(['ckpt-000001', 'ckpt-000002', 'ckpt-000003', 'ckpt-000008', 'ckpt-000009']);
  });

  it('lays out 10,000 checkpoints in one pass', () => {
    const nodes: LaneNode[] = Array.from({ length: 10_000 }, (_, i) => ({ id: String(10_000 - i).padStart(6, '0'), parent: i === 9_999 ? null : String(9_999 - i).padStart(6, '0'), fork: false }));
    const { rows, width } = layoutLanes(nodes);
    expect(width).toBe(1);
    expect(rows.every((row) => row.lane === 0)).toBe(true);
  });
});
