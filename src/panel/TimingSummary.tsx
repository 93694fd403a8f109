import { useMemo } from 'react';
import type { CheckpointSummary } from '../devtools/data-source.js';
import { formatDuration, nodeTimings } from './timing.js';

/** Each node's count, total, median and longest step over the thread's checkpoints in this namespace. */
export function TimingSummary({ checkpoints }: { checkpoints: readonly CheckpointSummary[] }) {
  const timings = useMemo(() => nodeTimings(checkpoints), [checkpoints]);
  if (timings.length === 0) return <p className="juncture-empty">No timed steps: the checkpoints carry no times, or no node ran yet.</p>;
  return (
    <table className="juncture-timing" aria-label="Time per node">
      <caption>Time per node, from the checkpoint times (a step run by several nodes counts for each)</caption>
      <thead>
        <tr>
          <th>Node</th>
          <th>Steps</th>
          <th>Total</th>
          <th>Median</th>
          <th>Longest</th>
        </tr>
      </thead>
      <tbody>
        {timings.map((timing) => (
          <tr key={timing.node}>
            <td>{timing.node}</td>
            <td>{timing.count}</td>
            <td>{formatDuration(timing.totalMs)}</td>
            <td>{formatDuration(timing.medianMs)}</td>
            <td>{formatDuration(timing.longestMs)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
