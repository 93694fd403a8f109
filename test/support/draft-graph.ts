import { Annotation, END, START, StateGraph, interrupt, type BaseCheckpointSaver } from '@langchain/langgraph/web';

/**
 * A graph whose subgraph pauses inside itself: `outline`, then the `edit` subgraph (`write`, then `check`, which
 * asks for a verdict with `interrupt()`), then `publish`. `ran` records every node run, in order.
 */
const DraftState = Annotation.Root({
  draft: Annotation<string>(),
  verdict: Annotation<string>(),
});

export function buildDraftGraph(checkpointer: BaseCheckpointSaver, ran: string[]) {
  const edit = new StateGraph(DraftState)
    .addNode('write', (state) => {
      ran.push('write');
      return { draft: `draft of ${state.draft}` };
    })
    .addNode('check', (state) => {
      ran.push('check');
      return { verdict: interrupt({ draft: state.draft }) as string };
    })
    .addEdge(START, 'write')
    .addEdge('write', 'check')
    .addEdge('check', END)
    .compile();
  return new StateGraph(DraftState)
    .addNode('outline', (state) => {
      ran.push('outline');
      return { draft: `${state.draft}, outlined` };
    })
    .addNode('edit', edit)
    .addNode('publish', () => {
      ran.push('publish');
      return {};
    })
    .addEdge(START, 'outline')
    .addEdge('outline', 'edit')
    .addEdge('edit', 'publish')
    .addEdge('publish', END)
    .compile({ checkpointer });
}
