import { Annotation, END, START, StateGraph, type BaseCheckpointSaver, type BaseStore, type LangGraphRunnableConfig } from '@langchain/langgraph/web';

const ChatState = Annotation.Root({
  user: Annotation<string>(),
  said: Annotation<string>(),
  reply: Annotation<string>(),
  /** What a node could not do through `config.store`, as the error it got. */
  refused: Annotation<string[]>({ reducer: (a, b) => [...a, ...b], default: () => [] }),
});

/**
 * A chat that remembers across conversations: "remember that ..." stores a memory under the user's
 * namespace; any other message searches the memories by meaning and answers with the best one.
 * It also records what a node cannot do through LangGraph's batching wrapper around the store.
 */
export function buildMemoryGraph(checkpointer: BaseCheckpointSaver, store: BaseStore) {
  return new StateGraph(ChatState)
    .addNode('respond', async (state, config: LangGraphRunnableConfig) => {
      const memories = config.store!;
      const namespace = ['memories', state.user];
      const remembered = /^remember that (.+)$/i.exec(state.said);
      if (remembered) {
        const existing = await memories.search(namespace, { limit: 100 });
        await memories.put(namespace, `memory-${existing.length + 1}`, { text: remembered[1]!, kind: 'fact' });
        return { reply: `Noted: ${remembered[1]}` };
      }
      const [best] = await memories.search(namespace, { query: state.said, filter: { kind: 'fact' }, limit: 1 });
      const refused: string[] = [];
      try {
        await memories.listNamespaces({ prefix: ['memories'] });
      } catch (error) {
        refused.push(`listNamespaces: ${(error as Error).message.split('\n')[0]}`);
      }
      return { reply: best ? `You told me ${best.value['text']}` : 'I do not know yet.', refused };
    })
    .addEdge(START, 'respond')
    .addEdge('respond', END)
    .compile({ checkpointer, store });
}
