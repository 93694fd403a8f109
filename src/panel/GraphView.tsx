import { useMemo } from 'react';
import type { Breakpoints, GraphDescription } from '../devtools/data-source.js';
import { labelOf, layoutGraph, type PlacedEdge } from './graph-layout.js';

export interface GraphHighlights {
  /** Graph node ids that ran in the step that made the selected checkpoint. */
  ran: ReadonlySet<string>;
  /** Graph node ids the selected checkpoint waits to run. */
  next: ReadonlySet<string>;
  /** Graph node ids whose tasks stopped on `interrupt()` there. */
  interrupts: ReadonlySet<string>;
}

export interface GraphViewProps {
  graph: GraphDescription;
  /** Whether `graph` was drawn from the checkpoints, not given by the page. */
  inferred: boolean;
  highlights: GraphHighlights;
  /** The breakpoints to resume with, and how to change them; absent when the page cannot resume. */
  breakpoints?: { value: Breakpoints; onChange(next: Breakpoints): void };
}

const pathOf = (edge: PlacedEdge) => edge.points.map((point, i) => `${i === 0 ? 'M' : 'L'} ${point.x.toFixed(1)} ${point.y.toFixed(1)}`).join(' ');
const isTerminal = (id: string) => id === '__start__' || id === '__end__';

/** Which of a node's states the drawing shows, strongest first. */
function stateOf(id: string, highlights: GraphHighlights): string {
  if (highlights.interrupts.has(id)) return 'interrupt';
  if (highlights.next.has(id)) return 'next';
  if (highlights.ran.has(id)) return 'ran';
  return '';
}

function toggle(list: string[], node: string, on: boolean): string[] {
  return on ? [...new Set([...list, node])] : list.filter((entry) => entry !== node);
}

/** The agent's graph as SVG, laid out by dagre, with the selected checkpoint's nodes marked. */
export function GraphView({ graph, inferred, highlights, breakpoints }: GraphViewProps) {
  const layout = useMemo(() => layoutGraph(graph), [graph]);
  const paused = new Set([...(breakpoints?.value.interruptBefore ?? []), ...(breakpoints?.value.interruptAfter ?? [])]);
  // LangGraph pauses only at the graph's own nodes: not at the ends, nor inside a subgraph.
  const pausable = graph.nodes.filter((node) => !isTerminal(node.id) && !node.id.includes(':'));
  return (
    <section className="juncture-graph" aria-label="Graph">
      {inferred && (
        <p className="juncture-graph-note" role="note">
          Inferred from the checkpoints: the nodes seen running and the steps observed between them. Pass the graph to connectDevtools to see it
          whole.
        </p>
      )}
      <div className="juncture-graph-legend" aria-hidden="true">
        <span className="ran">ran into this checkpoint</span> <span className="next">next</span> <span className="interrupt">interrupt</span>{' '}
        <span className="conditional">conditional edge</span>
      </div>
      <svg
        className="juncture-graph-drawing"
        width={layout.bounds.width}
        height={layout.bounds.height}
        viewBox={`${layout.bounds.x} ${layout.bounds.y} ${layout.bounds.width} ${layout.bounds.height}`}
        role="img"
        aria-label={inferred ? 'Graph inferred from the checkpoints' : 'The agent graph'}
      >
        <defs>
          <marker id="juncture-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" className="juncture-graph-arrow" />
          </marker>
        </defs>
        {layout.clusters.map((cluster) => (
          // A subgraph that ran as one node of its parent is marked as a whole.
          <g key={cluster.id} className={`juncture-graph-cluster ${stateOf(cluster.id, highlights)}`.trim()} data-subgraph={cluster.id} data-state={stateOf(cluster.id, highlights) || undefined}>
            <rect x={cluster.x - cluster.width / 2} y={cluster.y - cluster.height / 2} width={cluster.width} height={cluster.height} rx={6} />
            <text x={cluster.x - cluster.width / 2 + 6} y={cluster.y - cluster.height / 2 + 12}>
              {cluster.name}
            </text>
          </g>
        ))}
        {layout.edges.map((edge, index) => (
          <path
            key={index}
            className={`juncture-graph-edge${edge.conditional ? ' conditional' : ''}`}
            data-source={edge.source}
            data-target={edge.target}
            d={pathOf(edge)}
            strokeDasharray={edge.conditional ? '5 4' : undefined}
            markerEnd="url(#juncture-arrow)"
          >
            {edge.label !== null && <title>{edge.label}</title>}
          </path>
        ))}
        {layout.edges
          .filter((edge) => edge.label !== null && edge.points.length > 0)
          .map((edge, index) => {
            const middle = edge.points[Math.floor(edge.points.length / 2)]!;
            return (
              <text key={index} className="juncture-graph-edge-label" x={middle.x + 4} y={middle.y}>
                {labelOf(edge.label!)}
              </text>
            );
          })}
        {layout.nodes.map((node) => {
          const state = stateOf(node.id, highlights);
          const classes = ['juncture-graph-node', state, isTerminal(node.id) ? 'terminal' : '', paused.has(node.id) ? 'breakpoint' : ''];
          return (
            <g key={node.id} className={classes.filter(Boolean).join(' ')} data-node={node.id} data-state={state || undefined}>
              <title>{node.id}</title>
              <rect x={node.x - node.width / 2} y={node.y - node.height / 2} width={node.width} height={node.height} rx={isTerminal(node.id) ? 14 : 4} />
              <text x={node.x} y={node.y} textAnchor="middle" dominantBaseline="central">
                {labelOf(node.name)}
              </text>
              {paused.has(node.id) && <circle className="juncture-graph-breakpoint" cx={node.x - node.width / 2} cy={node.y - node.height / 2} r={5} />}
            </g>
          );
        })}
      </svg>
      {breakpoints && pausable.length > 0 && (
        <table className="juncture-breakpoints" aria-label="Breakpoints">
          <caption>Breakpoints for “Resume from here”</caption>
          <thead>
            <tr>
              <th>Node</th>
              <th>Pause before</th>
              <th>Pause after</th>
            </tr>
          </thead>
          <tbody>
            {pausable.map((node) => (
              <tr key={node.id}>
                <td>{node.name}</td>
                {(['interruptBefore', 'interruptAfter'] as const).map((when) => (
                  <td key={when}>
                    <input
                      type="checkbox"
                      aria-label={`Pause ${when === 'interruptBefore' ? 'before' : 'after'} ${node.name}`}
                      checked={breakpoints.value[when].includes(node.id)}
                      onChange={(event) => breakpoints.onChange({ ...breakpoints.value, [when]: toggle(breakpoints.value[when], node.id, event.target.checked) })}
                    />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
