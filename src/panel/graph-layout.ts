import dagre from '@dagrejs/dagre';
import type { CheckpointSummary, GraphDescription } from '../devtools/data-source.js';

/**
 * The graph view's geometry. Placing nodes, routing edges and sizing subgraph boxes is dagre's work (a layered
 * layout, compound for subgraphs); this module only turns LangGraph's description into dagre's input and back.
 */

export interface PlacedNode {
  id: string;
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A subgraph's box: placed as a node is. */
export type PlacedCluster = PlacedNode;

export interface PlacedEdge {
  source: string;
  target: string;
  conditional: boolean;
  label: string | null;
  points: { x: number; y: number }[];
}

export interface GraphLayout {
  nodes: PlacedNode[];
  clusters: PlacedCluster[];
  edges: PlacedEdge[];
  /** The box around everything drawn: edges routed around a subgraph may leave the graph's own box. */
  bounds: { x: number; y: number; width: number; height: number };
}

const NODE_HEIGHT = 28;
const CHAR_WIDTH = 7;
const NODE_PADDING = 24;
/** Names longer than this are cut in the drawing (the full name is the node's tooltip). */
const MAX_LABEL_CHARS = 96;

export const labelOf = (name: string) => (name.length > MAX_LABEL_CHARS ? `${name.slice(0, MAX_LABEL_CHARS - 1)}…` : name);

/** `summarize:count` sits in subgraph `summarize`; `a:b:c` in `a:b`, itself in `a`. */
const subgraphOf = (id: string) => (id.includes(':') ? id.slice(0, id.lastIndexOf(':')) : '');
const clusterId = (path: string) => `cluster ${path}`;

export function layoutGraph(description: GraphDescription): GraphLayout {
  const graph = new dagre.graphlib.Graph({ compound: true, multigraph: true });
  graph.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 40 });
  graph.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(description.nodes.map((node) => node.id));
  const clusters = new Set<string>();
  for (const node of description.nodes) {
    graph.setNode(node.id, { width: labelOf(node.name).length * CHAR_WIDTH + NODE_PADDING, height: NODE_HEIGHT });
    for (let path = subgraphOf(node.id), child = node.id; path !== ''; child = clusterId(path), path = subgraphOf(path)) {
      if (!clusters.has(path)) graph.setNode(clusterId(path), {});
      clusters.add(path);
      graph.setParent(child, clusterId(path));
    }
  }
  const edges = description.edges.filter((edge) => ids.has(edge.source) && ids.has(edge.target));
  edges.forEach((edge, index) => graph.setEdge(edge.source, edge.target, {}, String(index)));
  dagre.layout(graph);

  const placed = (id: string) => graph.node(id) as { x: number; y: number; width: number; height: number };
  const layout = {
    nodes: description.nodes.map((node) => ({ id: node.id, name: node.name, ...pick(placed(node.id)) })),
    clusters: [...clusters].map((path) => ({ id: path, name: path.slice(path.lastIndexOf(':') + 1), ...pick(placed(clusterId(path))) })),
    edges: edges.map((edge, index) => ({
      ...edge,
      points: ((graph.edge({ v: edge.source, w: edge.target, name: String(index) }) as { points?: { x: number; y: number }[] }).points ?? []).map(
        ({ x, y }) => ({ x, y }),
      ),
    })),
  };
  return { ...layout, bounds: boundsOf(layout) };
}

const MARGIN = 16;

function boundsOf({ nodes, clusters, edges }: Omit<GraphLayout, 'bounds'>): GraphLayout['bounds'] {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const box of [...nodes, ...clusters]) {
    xs.push(box.x - box.width / 2, box.x + box.width / 2);
    ys.push(box.y - box.height / 2, box.y + box.height / 2);
  }
  for (const point of edges.flatMap((edge) => edge.points)) {
    xs.push(point.x);
    ys.push(point.y);
  }
  if (xs.length === 0) return { x: 0, y: 0, width: 0, height: 0 };
  const [left, top] = [Math.min(...xs) - MARGIN, Math.min(...ys) - MARGIN];
  return { x: left, y: top, width: Math.max(...xs) + MARGIN - left, height: Math.max(...ys) + MARGIN - top };
}

const pick = ({ x, y, width, height }: { x: number; y: number; width: number; height: number }) => ({ x, y, width, height });

/**
 * A graph drawn from the checkpoints alone, when the page gave none: every node seen running, and an edge for
 * each step observed to follow another (a node of a checkpoint to each node of its child).
 */
export function inferGraph(checkpoints: readonly CheckpointSummary[]): GraphDescription {
  const byId = new Map(checkpoints.map((entry) => [entry.checkpoint_id, entry]));
  const nodes = new Set<string>();
  const edges = new Map<string, { source: string; target: string }>();
  for (const entry of checkpoints) {
    for (const node of entry.nodes) nodes.add(node);
    const parent = entry.parent_checkpoint_id === null ? undefined : byId.get(entry.parent_checkpoint_id);
    for (const source of parent?.nodes ?? []) {
      for (const target of entry.nodes) edges.set(JSON.stringify([source, target]), { source, target });
    }
  }
  return {
    nodes: [...nodes].sort().map((id) => ({ id, name: id })),
    edges: [...edges.values()].map((edge) => ({ ...edge, conditional: false, label: null })),
  };
}

/** The graph's id of a node that ran in namespace `ns`: a subgraph's `count` is `summarize:count` in the parent's drawing. */
export function graphNodeId(ns: string, node: string): string {
  if (ns === '') return node;
  const path = ns
    .split('|')
    .map((part) => part.split(':')[0])
    .join(':');
  return `${path}:${node}`;
}
