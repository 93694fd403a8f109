import {
  Annotation,
  Command,
  END,
  Send,
  START,
  StateGraph,
  interrupt,
  type BaseCheckpointSaver,
} from '@langchain/langgraph/web';
import type { RunnableConfig } from '@langchain/core/runnables';

/**
 * A small agent that exercises what a checkpointer must carry: a parallel fan-out with `Send`,
 * a subgraph (its checkpoints live under a non-empty `checkpoint_ns`), and an `interrupt()` awaiting approval.
 */
const AgentState = Annotation.Root({
  topic: Annotation<string>(),
  notes: Annotation<string[]>({ reducer: (a, b) => [...a, ...b], default: () => [] }),
  summary: Annotation<string>(),
  approved: Annotation<string>(),
});

const SummaryState = Annotation.Root({
  notes: Annotation<string[]>({ reducer: (a, b) => [...a, ...b], default: () => [] }),
  summary: Annotation<string>(),
});

function buildSummarizer() {
  return new StateGraph(SummaryState)
    .addNode('count', (state) => ({ summary: `${state.notes.length} notes` }))
    .addNode('polish', (state) => ({ summary: `${state.summary}: ${[...state.notes].sort().join(', ')}` }))
    .addEdge(START, 'count')
    .addEdge('count', 'polish')
    .addEdge('polish', END)
    .compile();
}

export function buildAgentGraph(checkpointer: BaseCheckpointSaver) {
  return new StateGraph(AgentState)
    .addNode('plan', (state) => ({ notes: [`plan ${state.topic}`] }))
    .addNode('research', async (state: { aspect: string }) => {
      await Promise.resolve();
      return { notes: [`research ${state.aspect}`] };
    })
    .addNode('summarize', buildSummarizer())
    .addNode('review', (state) => {
      // interrupt() before the node's first await: the rule of installBrowserAsyncContext().
      const answer = interrupt({ question: `Publish "${state.summary}"?` }) as string;
      return { approved: answer };
    })
    .addEdge(START, 'plan')
    .addConditionalEdges('plan', (state) =>
      ['sources', 'risks', 'costs'].map((aspect) => new Send('research', { ...state, aspect })),
    )
    .addEdge('research', 'summarize')
    .addEdge('summarize', 'review')
    .addEdge('review', END)
    .compile({ checkpointer });
}

export type AgentGraph = ReturnType<typeof buildAgentGraph>;

export const resume = (answer: string) => new Command<string, never, never>({ resume: answer });

/** A snapshot with the parts that do not depend on ids or clocks, for comparing runs and reloads. */
export function describeSnapshot(snapshot: Awaited<ReturnType<AgentGraph['getState']>>) {
  return {
    values: snapshot.values,
    next: [...snapshot.next],
    source: snapshot.metadata?.source,
    step: snapshot.metadata?.step,
    hasParent: snapshot.parentConfig !== undefined,
    interrupts: snapshot.tasks.flatMap((task) => task.interrupts.map((entry) => entry.value)),
  };
}

export async function describeHistory(graph: AgentGraph, config: RunnableConfig) {
  const history = [];
  for await (const snapshot of graph.getStateHistory(config)) history.push(describeSnapshot(snapshot));
  return history;
}
