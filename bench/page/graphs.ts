// The graphs the benchmark runs: a fast loop (the cost per superstep is almost all LangGraph and the saver),
// a five-channel graph for the bytes a thread stores, and a chat for long conversations.
import { AIMessage, type BaseMessage } from '@langchain/core/messages';
import {
  Annotation,
  END,
  MessagesAnnotation,
  MessagesDeltaValue,
  START,
  StateGraph,
  StateSchema,
  type BaseCheckpointSaver,
} from '@langchain/langgraph/web';

const LoopState = Annotation.Root({ count: Annotation<number>() });

const taskBoundary = new MessageChannel();

/** Resolves on the next task, as a node awaiting a model's answer would (a timer would be clamped to 4 ms). */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    taskBoundary.port1.onmessage = () => resolve();
    taskBoundary.port2.postMessage(null);
  });
}

/**
 * One node that loops on a counter until `steps`: one superstep per count. With `yieldEachStep`, the node
 * awaits the next task first; otherwise LangGraph runs every superstep in one task.
 */
export function buildLoopGraph(checkpointer: BaseCheckpointSaver, steps: number, yieldEachStep = false) {
  return new StateGraph(LoopState)
    .addNode('tick', async (state) => {
      if (yieldEachStep) await nextTask();
      return { count: state.count + 1 };
    })
    .addEdge(START, 'tick')
    .addConditionalEdges('tick', (state) => (state.count < steps ? 'tick' : END))
    .compile({ checkpointer });
}

export const FIVE_CHANNELS = ['a', 'b', 'c', 'd', 'e'] as const;
type FiveChannel = (typeof FIVE_CHANNELS)[number];
const FiveChannelState = Annotation.Root({
  a: Annotation<string>(),
  b: Annotation<string>(),
  c: Annotation<string>(),
  d: Annotation<string>(),
  e: Annotation<string>(),
});
type FiveChannelValues = Record<FiveChannel, string>;

/** A value of `length` characters that starts with the step that wrote it. */
export function stepValue(step: number, length: number): string {
  const prefix = `${step}:`;
  return prefix + 'x'.repeat(Math.max(0, length - prefix.length));
}

/** The step that wrote the newest value: kept in the values themselves, so no sixth channel changes per step. */
function stepOf(state: FiveChannelValues): number {
  return Math.max(...FIVE_CHANNELS.map((channel) => Number.parseInt(state[channel], 10)));
}

/** Five string channels; superstep n rewrites channel n mod 5 with a new value of `valueLength` characters. */
export function buildFiveChannelGraph(checkpointer: BaseCheckpointSaver, steps: number, valueLength: number) {
  return new StateGraph(FiveChannelState)
    .addNode('write', (state) => {
      const step = stepOf(state) + 1;
      return { [FIVE_CHANNELS[step % FIVE_CHANNELS.length]!]: stepValue(step, valueLength) };
    })
    .addEdge(START, 'write')
    .addConditionalEdges('write', (state) => (stepOf(state) < steps ? 'write' : END))
    .compile({ checkpointer });
}

/** The input of a five-channel run: every channel at step 0. */
export function fiveChannelInput(valueLength: number): FiveChannelValues {
  const value = stepValue(0, valueLength);
  return { a: value, b: value, c: value, d: value, e: value };
}

/** `length` characters of text that differ from turn to turn. */
export function chatText(turn: number, who: string, length: number): string {
  const prefix = `${who} ${turn}: `;
  return prefix + 'lorem ipsum dolor sit amet '.repeat(Math.ceil(length / 27)).slice(0, Math.max(0, length - prefix.length));
}

/**
 * A chat on messages: one node answers each human message with one AI message of `length` characters. The
 * messages are kept by LangGraph's plain reducer (`MessagesAnnotation`), or by `DeltaChannel` (`MessagesDeltaValue`).
 */
export function buildChatGraph(checkpointer: BaseCheckpointSaver, delta: boolean, length: number) {
  const schema = delta ? new StateSchema({ messages: MessagesDeltaValue }) : MessagesAnnotation;
  return new StateGraph(schema as typeof MessagesAnnotation)
    .addNode('reply', (state: { messages: BaseMessage[] }) => ({ messages: [new AIMessage(chatText(state.messages.length, 'ai', length))] }))
    .addEdge(START, 'reply')
    .addEdge('reply', END)
    .compile({ checkpointer });
}
