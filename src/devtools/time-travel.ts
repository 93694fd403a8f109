import type { RunnableConfig } from '@langchain/core/runnables';
import type { Breakpoints, CheckpointKey, GraphDescription, JsonValue } from './data-source.js';

/** LangGraph's drawable graph (`@langchain/core`'s `Graph`), as far as the devtools read it. */
interface DrawableGraph {
  nodes: Record<string, { id: string }>;
  edges: { source: string; target: string; data?: string; conditional?: boolean }[];
}

/**
 * What the devtools need of a compiled LangGraph.js graph, which `graph.compile({ checkpointer })` has: its
 * description for the graph view, and its state methods for time travel.
 */
export interface TimeTravelGraph {
  updateState(config: RunnableConfig, values: Record<string, unknown>): Promise<RunnableConfig>;
  /** Takes `interruptBefore` and `interruptAfter` beside the config, as LangGraph's run options. */
  invoke(input: null, config: RunnableConfig): Promise<unknown>;
  getState(config: RunnableConfig): Promise<{ config: RunnableConfig }>;
  getGraphAsync(config?: { xray?: boolean | number }): Promise<DrawableGraph>;
}

/**
 * The config that addresses a checkpoint. A subgraph's checkpoint is addressed in the parent graph by its
 * namespace (`summarize:<task id>`): LangGraph hands such a config to the subgraph that owns it.
 */
const configOf = (key: CheckpointKey): RunnableConfig => ({
  configurable: { thread_id: key.thread_id, checkpoint_ns: key.checkpoint_ns, checkpoint_id: key.checkpoint_id },
});

/** Forks the thread at `key` (in the root graph or a subgraph) with new channel values; returns the new checkpoint. */
export async function forkAt(graph: TimeTravelGraph, key: CheckpointKey, values: Record<string, JsonValue>): Promise<CheckpointKey> {
  const config = await graph.updateState(configOf(key), values);
  const checkpoint_id = config.configurable?.['checkpoint_id'];
  if (typeof checkpoint_id !== 'string') throw new Error('updateState returned no checkpoint id.');
  const checkpoint_ns = config.configurable?.['checkpoint_ns'];
  return { thread_id: key.thread_id, checkpoint_ns: typeof checkpoint_ns === 'string' ? checkpoint_ns : key.checkpoint_ns, checkpoint_id };
}

/**
 * Runs the graph on from `key`, pausing at `breakpoints`. The state LangGraph reports for the checkpoint carries
 * the config to run it with: for a subgraph's checkpoint, the parent's checkpoint it ran under (`checkpoint_map`),
 * so the parent resumes there and the subgraph at `key`.
 */
export async function resumeAt(graph: TimeTravelGraph, key: CheckpointKey, breakpoints?: Breakpoints): Promise<void> {
  const { config } = await graph.getState(configOf(key));
  const pauses = {
    // An empty list would lift the breakpoints the graph was compiled with.
    ...(breakpoints?.interruptBefore.length ? { interruptBefore: breakpoints.interruptBefore } : {}),
    ...(breakpoints?.interruptAfter.length ? { interruptAfter: breakpoints.interruptAfter } : {}),
  };
  await graph.invoke(null, Object.assign({}, config, pauses));
}

/** The graph as LangGraph draws it, subgraphs expanded (`xray`), as plain data: `summarize:count` names a subgraph's node. */
export async function describeGraph(graph: TimeTravelGraph): Promise<GraphDescription> {
  const drawable = await graph.getGraphAsync({ xray: true });
  return {
    nodes: Object.values(drawable.nodes).map((node) => ({ id: node.id, name: node.id.split(':').at(-1) ?? node.id })),
    edges: drawable.edges.map((edge) => ({
      source: edge.source,
      target: edge.target,
      conditional: edge.conditional === true,
      label: typeof edge.data === 'string' ? edge.data : null,
    })),
  };
}
