// An agent that writes checkpoints as fast as it can, reporting each `put` that resolved, until the browser dies;
// and, after the relaunch, a check of what the database holds.
import { Annotation, END, START, StateGraph, type BaseCheckpointSaver } from '@langchain/langgraph/web';
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
  // A list that grows by one entry a step, as a conversation does: stored as edits of the list before.
  log: Annotation<string[]>({ reducer: (list, more) => [...list, ...more], default: () => [] }),
});
const STATE_CHANNELS = ['step', 'a', 'b', 'c', 'd', 'log'];

function buildLoop(saver: BaseCheckpointSaver) {
  const channels = ['a', 'b', 'c', 'd'] as const;
  return new StateGraph(State)
    .addNode('work', (state) => ({
      step: state.step + 1,
      [channels[state.step % 4]!]: `step ${state.step + 1} `.repeat(500),
      log: [`entry ${state.step + 1} `.repeat(20)],
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
   * (the list one entry a step, every version it builds on there).
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
      const { step, log } = checkpoint.channel_values as { step?: number; log?: string[] };
      if (step !== undefined && (log?.length ?? 0) !== step) withoutValues.push(`${checkpoint.id}/log has ${log?.length} entries at step ${step}`);
      // Every state channel the checkpoint names has its value, held in the record (a small one) or stored beside it.
      for (const channel of Object.keys(checkpoint.channel_versions)) {
        if (STATE_CHANNELS.includes(channel) && !(channel in checkpoint.channel_values)) withoutValues.push(`${checkpoint.id}/${channel}`);
      }
    }
    await saver.close();
    return { missing, withoutValues, stored };
  },
};
