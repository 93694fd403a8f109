import type { RunnableConfig } from '@langchain/core/runnables';
import type { CheckpointKey, JsonValue } from './data-source.js';

/** What time travel needs of a compiled LangGraph.js graph; `graph.compile({ checkpointer })` has it. */
export interface TimeTravelGraph {
  updateState(config: RunnableConfig, values: Record<string, unknown>): Promise<RunnableConfig>;
  invoke(input: null, config: RunnableConfig): Promise<unknown>;
}

function configOf(key: CheckpointKey): RunnableConfig {
  if (key.checkpoint_ns !== '') {
    throw new Error("Time travel works on the root graph's checkpoints; pick one in the root namespace.");
  }
  return { configurable: { thread_id: key.thread_id, checkpoint_ns: '', checkpoint_id: key.checkpoint_id } };
}

/** Forks the thread at `key` with new channel values; returns the new checkpoint. */
export async function forkAt(graph: TimeTravelGraph, key: CheckpointKey, values: Record<string, JsonValue>): Promise<CheckpointKey> {
  const config = await graph.updateState(configOf(key), values);
  const checkpoint_id = config.configurable?.['checkpoint_id'];
  if (typeof checkpoint_id !== 'string') throw new Error('updateState returned no checkpoint id.');
  return { thread_id: key.thread_id, checkpoint_ns: '', checkpoint_id };
}

/** Runs the graph on from `key`. */
export async function resumeAt(graph: TimeTravelGraph, key: CheckpointKey): Promise<void> {
  await graph.invoke(null, configOf(key));
}
