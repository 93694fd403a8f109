import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, type KeyboardEvent } from 'react';
import type { CheckpointSummary } from '../devtools/data-source.js';
import { relativeTime } from './format.js';
import { ancestryOf, laneNodesOf, layoutLanes, type LaneRow } from './lanes.js';
import { formatDuration, stepDurations } from './timing.js';

const ROW_HEIGHT = 24;
const LANE_WIDTH = 14;
const LANE_COLORS = 5;

const laneX = (lane: number) => lane * LANE_WIDTH + LANE_WIDTH / 2;
const laneColor = (lane: number) => `var(--lane-${lane % LANE_COLORS})`;

/** One row's part of the lane drawing: lines passing by, the node, and branches joining it. */
function LaneCell({ row, width, highlighted }: { row: LaneRow; width: number; highlighted: boolean }) {
  const middle = ROW_HEIGHT / 2;
  const x = laneX(row.lane);
  return (
    <svg width={width * LANE_WIDTH} height={ROW_HEIGHT} aria-hidden="true" style={{ flex: 'none' }} data-lane={row.lane}>
      {row.through.map((lane) => (
        <line key={`t${lane}`} x1={laneX(lane)} x2={laneX(lane)} y1={0} y2={ROW_HEIGHT} stroke={laneColor(lane)} strokeWidth={2} />
      ))}
      {row.fromAbove && <line x1={x} x2={x} y1={0} y2={middle} stroke={laneColor(row.lane)} strokeWidth={2} />}
      {row.toBelow && <line x1={x} x2={x} y1={middle} y2={ROW_HEIGHT} stroke={laneColor(row.lane)} strokeWidth={2} />}
      {row.joins.map((lane) => (
        <path key={`j${lane}`} d={`M ${laneX(lane)} 0 Q ${laneX(lane)} ${middle} ${x} ${middle}`} fill="none" stroke={laneColor(lane)} strokeWidth={2} />
      ))}
      <circle
        cx={x}
        cy={middle}
        r={highlighted ? 5 : 4}
        fill={laneColor(row.lane)}
        stroke={highlighted ? 'var(--ancestry)' : 'var(--bg)'}
        strokeWidth={2}
        className="juncture-node"
      />
    </svg>
  );
}

export interface TimelineProps {
  /** Newest first, one namespace. */
  checkpoints: CheckpointSummary[];
  selectedId: string | undefined;
  onSelect(id: string): void;
  hits: ReadonlySet<string>;
  now: number;
}

/** The thread as a tree in lanes, newest first, virtualized; arrow keys move the selection. */
export function Timeline({ checkpoints, selectedId, onSelect, hits, now }: TimelineProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const nodes = useMemo(() => laneNodesOf(checkpoints), [checkpoints]);
  const layout = useMemo(() => layoutLanes(nodes), [nodes]);
  const durations = useMemo(() => stepDurations(checkpoints), [checkpoints]);
  // A checkpoint nothing continues from, still waiting to run nodes, is where a run paused (a breakpoint, or an
  // interrupt) or stopped on an error; unless it is a fork (an edit of the values), whose nodes simply have not run.
  const continued = useMemo(() => new Set(checkpoints.map((entry) => entry.parent_checkpoint_id)), [checkpoints]);
  const ancestry = useMemo(() => ancestryOf(nodes, selectedId), [nodes, selectedId]);
  const selectedIndex = checkpoints.findIndex((entry) => entry.checkpoint_id === selectedId);
  const virtualizer = useVirtualizer({
    count: checkpoints.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });

  useEffect(() => {
    if (selectedIndex >= 0) virtualizer.scrollToIndex(selectedIndex, { align: 'auto' });
  }, [selectedIndex, virtualizer]);

  const onKeyDown = (event: KeyboardEvent) => {
    const step = { ArrowDown: 1, ArrowUp: -1, PageDown: 20, PageUp: -20, Home: -Infinity, End: Infinity }[event.key];
    if (step === undefined || checkpoints.length === 0) return;
    event.preventDefault();
    const from = selectedIndex < 0 ? 0 : selectedIndex;
    const next = Math.max(0, Math.min(checkpoints.length - 1, from + step));
    onSelect(checkpoints[next]!.checkpoint_id);
  };

  if (checkpoints.length === 0) return <div className="juncture-timeline juncture-empty">No checkpoints in this namespace.</div>;
  return (
    <div
      ref={scroller}
      className="juncture-timeline"
      role="listbox"
      aria-label="Timeline"
      aria-activedescendant={selectedId ? `checkpoint-${selectedId}` : undefined}
      tabIndex={0}
      onKeyDown={onKeyDown}
    >
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {virtualizer.getVirtualItems().map((item) => {
          const entry = checkpoints[item.index]!;
          const row = layout.rows[item.index]!;
          const waiting = entry.next.length > 0 && !continued.has(entry.checkpoint_id);
          const inAncestry = ancestry.has(entry.checkpoint_id);
          const classes = ['juncture-row', inAncestry ? 'ancestry' : '', hits.has(entry.checkpoint_id) ? 'hit' : ''].filter(Boolean).join(' ');
          return (
            <div
              key={entry.checkpoint_id}
              id={`checkpoint-${entry.checkpoint_id}`}
              className={classes}
              role="option"
              aria-selected={entry.checkpoint_id === selectedId}
              data-checkpoint-id={entry.checkpoint_id}
              style={{ top: item.start, height: ROW_HEIGHT }}
              onClick={() => onSelect(entry.checkpoint_id)}
            >
              <LaneCell row={row} width={layout.width} highlighted={inAncestry} />
              <span className="step">{entry.step ?? ''}</span>
              <span className="source label">{entry.source ?? ''}</span>
              <span className="nodes">{entry.nodes.join(', ')}</span>
              {entry.message_preview && (
                <span className="preview" title={entry.message_preview}>
                  {entry.message_preview}
                </span>
              )}
              {entry.interrupts.length > 0 ? (
                <span className="pause" title="interrupt()">
                  interrupt in {entry.interrupts.join(', ')}
                </span>
              ) : waiting && nodes[item.index]!.fork ? (
                <span className="fork-next" title="A fork: made by editing the values, nothing has run from it yet">
                  fork, next {entry.next.join(', ')}
                </span>
              ) : (
                waiting && (
                  <span className="pause" title="The run stopped here with nodes still to run">
                    paused before {entry.next.join(', ')}
                  </span>
                )
              )}
              <span className="took" title="How long the step took">
                {durations.get(entry.checkpoint_id) == null ? '' : formatDuration(durations.get(entry.checkpoint_id)!)}
              </span>
              <span className="time" title={entry.ts ?? ''}>
                {relativeTime(entry.ts, now)}
              </span>
            </div>
          );
        })}
      </div>
    </div>
  );
}
