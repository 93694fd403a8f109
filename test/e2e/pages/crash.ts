// An agent that writes checkpoints as fast as it can, reporting each `put` that resolved, until the browser dies;
// and, after the relaunch, a check of what the database holds.
import { AIMessage, type BaseMessage } from '@langchain/core/messages';
import { Annotation, END, START, StateGraph, messagesStateReducer, type BaseCheckpointSaver } from '@langchain/langgraph/web';
import { BrowserSaver, WorkerSaver, installBrowserAsyncContext } from '../../../src/index.js';

installBrowserAsyncContext();
const kind = new URLSearchParams(location.search).get('saver') === 'worker' ? 'worker' : 'browser';
const dbName = `crash-${kind}`;

const State = Annotation.Root({
  step: Annotation<number>({ reducer: (_, next) => next, default: () => 0 }),
  // Five channels, one of which changes per step, with a value large enough to take a moment to write.
  a: Annotation<string>({ reducer: (_, next) => next, default: () => '' }),
  b: Annotation<string>({ reducer: (_, next) => next, default: () => '' }),
  c: Annotation<string>({ reducer: (_, next) => next, default: () => '' }),
  d: Annotation<string>({ reducer: (_, next) => next, default: () => '' }),
  // A conversation that grows by one message a step, on LangGraph's own reducer: stored as lists that build on the
  // list before, with an anchor every 256 versions.
  messages: Annotation<BaseMessage[]>({ reducer: messagesStateReducer, default: () => [] }),
});
const STATE_CHANNELS = ['step', 'a', 'b', 'c', 'd', 'messages'];

/** The message step `n` adds. */
const messageText = (n: number) => `message ${n} `.repeat(20);

function buildLoop(saver: BaseCheckpointSaver) {
  const channels = ['a', 'b', 'c', 'd'] as const;
  return new StateGraph(State)
    .addNode('work', (state) => ({
      step: state.step + 1,
      [channels[state.step % 4]!]: `step ${state.step + 1} `.repeat(500),
      messages: [new AIMessage({ id: `m-${state.step + 1}`, content: messageText(state.step + 1) })],
    }))
    .addEdge(START, 'work')
    // Runs of 500 steps: a recursion limit in the millions makes LangGraph allocate for all of them up front.
    .addConditionalEdges('work', (state) => (state.step % 500 === 0 ? END : 'work'), { work: 'work', [END]: END })
    .compile({ checkpointer: saver });
}

declare global {
  interface Window {
    reportCommitted?: (checkpointId: string) => void;
  }
}

(window as unknown as { harness: unknown }).harness = {
  /** Runs until the browser is killed; every resolved `put` is reported to the test. */
  write: async () => {
    const saver = kind === 'worker' ? new WorkerSaver({ dbName }) : new BrowserSaver({ dbName });
    const put = saver.put.bind(saver);
    saver.put = async (...args) => {
      const config = await put(...args);
      window.reportCommitted?.(config.configurable?.['checkpoint_id'] as string);
      return config;
    };
    const graph = buildLoop(saver);
    void (async () => {
      for (let step = 0; ; ) step = (await graph.invoke({ step }, { configurable: { thread_id: 'crash' }, recursionLimit: 1000 })).step;
    })();
  },
  /**
   * After the relaunch: which reported checkpoints are missing, and which stored ones are not whole: a state
   * channel version without its value record (a half-written put), or a state that does not read back as written
   * (the conversation one message a step, each as that step wrote it: every list version it builds on is there).
   */
  verify: async (reported: string[]) => {
    const saver = new BrowserSaver({ dbName });
    const missing: string[] = [];
    for (const checkpoint_id of reported) {
      const tuple = await saver.getTuple({ configurable: { thread_id: 'crash', checkpoint_ns: '', checkpoint_id } });
      if (!tuple) missing.push(checkpoint_id);
    }
    const withoutValues: string[] = [];
    let stored = 0;
    for await (const { checkpoint } of saver.list({ configurable: { thread_id: 'crash' } })) {
      stored += 1;
      const { step, messages = [] } = checkpoint.channel_values as { step?: number; messages?: BaseMessage[] };
      if (step !== undefined) {
        const wrong = messages.length === step ? messages.findIndex((message, i) => message.id !== `m-${i + 1}` || message.content !== messageText(i + 1)) : 0;
        if (wrong !== -1) withoutValues.push(`${checkpoint.id}/messages: ${messages.length} at step ${step}, message ${wrong} not as written`);
      }
      // Every state channel the checkpoint names has its value, held in the record (a small one) or stored beside it.
      for (const channel of Object.keys(checkpoint.channel_versions)) {
        if (STATE_CHANNELS.includes(channel) && !(channel in checkpoint.channel_values)) withoutValues.push(`${checkpoint.id}/${channel}`);
      }
    }
    await saver.close();
    return { missing, withoutValues, stored };
  },
};
