import type { BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import { buildAgentGraph, describeHistory, describeSnapshot, resume } from './agent-graph.js';
import { collect } from './fixtures.js';

/** Interrupt ids hash checkpoint ids, which differ between any two runs: compare the rest. */
function withoutInterruptIds(result: Record<string, unknown>) {
  const { __interrupt__: interrupts, ...rest } = result;
  return Array.isArray(interrupts) ? { ...rest, __interrupt__: interrupts.map(({ value }) => value) } : rest;
}

/** Runs the agent through interrupt, resume and a fork, and records what a user of the graph sees. */
export async function runScenario(checkpointer: BaseCheckpointSaver) {
  const graph = buildAgentGraph(checkpointer);
  const config = { configurable: { thread_id: 'scenario' } };
  const firstRun = withoutInterruptIds(await graph.invoke({ topic: 'storage' }, config));
  const interrupted = describeSnapshot(await graph.getState(config));
  const resumed = withoutInterruptIds(await graph.invoke(resume('yes'), config));
  const done = describeSnapshot(await graph.getState(config));

  // Fork: rewrite the summary at the checkpoint that waited for review, then run from the fork.
  const waiting = [];
  for await (const snapshot of graph.getStateHistory(config)) if (snapshot.next.includes('review')) waiting.push(snapshot);
  const forkConfig = await graph.updateState(waiting[0]!.config, { summary: 'edited' });
  const forked = withoutInterruptIds(await graph.invoke(null, forkConfig));
  const afterFork = withoutInterruptIds(await graph.invoke(resume('no'), forkConfig));
  const history = await describeHistory(graph, config);
  const namespaces = new Set(
    (await collect(checkpointer.list({ configurable: { thread_id: 'scenario' } }))).map(
      (tuple) => (tuple.config.configurable?.checkpoint_ns as string).split(':')[0],
    ),
  );
  return { firstRun, interrupted, resumed, done, forked, afterFork, history, namespaces: [...namespaces].sort() };
}

