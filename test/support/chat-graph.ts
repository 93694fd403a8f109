import { AIMessage, HumanMessage, RemoveMessage, type BaseMessage } from '@langchain/core/messages';
import {
  END,
  MessagesAnnotation,
  MessagesDeltaValue,
  DeltaValue,
  START,
  Send,
  StateGraph,
  StateSchema,
  type BaseCheckpointSaver,
} from '@langchain/langgraph/web';

/**
 * A chat agent whose state is a list of messages, kept either by LangGraph's plain reducer (every checkpoint holds
 * the whole list) or by `DeltaChannel` (`MessagesDeltaValue`). What a human message says decides what the reply
 * does: `remove` removes the oldest remaining reply, `replace` rewrites the first reply (same id), `fanout` sends
 * two workers in parallel (`Send`), `sub` runs a subgraph; anything else gets a plain reply. Every message has an
 * id derived from the conversation, so two runs on two savers produce equal states.
 */
type ChatState = { messages: BaseMessage[] };

function replyTo(messages: BaseMessage[]): { messages: BaseMessage[] } {
  const last = messages.at(-1);
  const text = String(last?.content ?? '');
  const replies = messages.filter((message) => message.getType() === 'ai');
  const id = `ai-${messages.length}-${text.length}`;
  if (text.includes('remove') && replies[0]) return { messages: [new RemoveMessage({ id: replies[0].id! })] };
  if (text.includes('replace') && replies[0]) return { messages: [new AIMessage({ id: replies[0].id!, content: `rewritten: ${text}` })] };
  return { messages: [new AIMessage({ id, content: `reply ${messages.length} to ${text.length} characters: ${text.slice(0, 40)}` })] };
}

function route(state: ChatState): string | Send[] {
  const text = String(state.messages.at(-1)?.content ?? '');
  if (text.includes('fanout')) return [new Send('worker', { messages: state.messages, part: 1 }), new Send('worker', { messages: state.messages, part: 2 })];
  if (text.includes('sub')) return 'sub';
  return 'chat';
}

/** `MessagesDeltaValue` with LangGraph's snapshot every `snapshotFrequency` updates instead of every 100. */
export function messagesDelta(snapshotFrequency: number | undefined) {
  if (snapshotFrequency === undefined) return MessagesDeltaValue;
  const { valueSchema, inputSchema, reducer } = MessagesDeltaValue;
  return new DeltaValue(valueSchema, { inputSchema, reducer, snapshotFrequency });
}

export function buildChatGraph(checkpointer: BaseCheckpointSaver, options: { delta?: boolean; snapshotFrequency?: number } = {}) {
  const schema = options.delta ? new StateSchema({ messages: messagesDelta(options.snapshotFrequency) }) : MessagesAnnotation;
  const summary = new StateGraph(MessagesAnnotation)
    .addNode('summarize', (state) => ({ messages: [new AIMessage({ id: `sub-${state.messages.length}`, content: `summary of ${state.messages.length}` })] }))
    .addEdge(START, 'summarize')
    .addEdge('summarize', END)
    .compile();
  return (
    new StateGraph(schema as typeof MessagesAnnotation)
      .addNode('chat', (state: ChatState) => replyTo(state.messages))
      .addNode('worker', (state: ChatState & { part?: number }) => ({
        messages: [new AIMessage({ id: `worker-${state.messages.length}-${state.part}`, content: `part ${state.part}` })],
      }))
      .addNode('sub', summary)
      .addConditionalEdges(START, route, ['chat', 'worker', 'sub'])
      .addEdge('chat', END)
      .addEdge('worker', END)
      .addEdge('sub', END)
      .compile({ checkpointer })
  );
}

/** A human message with an id of its own (the reducer would give it a random one). */
export function human(text: string, turn: number, branch = 0): HumanMessage {
  return new HumanMessage({ id: `human-${branch}-${turn}`, content: text });
}
