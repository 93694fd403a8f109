// A page whose graph pauses inside its subgraph (test/support/draft-graph.ts), shown to the devtools with its graph,
// so that the panel can fork and resume from the subgraph's checkpoints.
import type { RunnableConfig } from '@langchain/core/runnables';
import { BrowserSaver, installBrowserAsyncContext } from '../../../src/index.js';
import { connectDevtools } from '../../../src/devtools/index.js';
import { buildDraftGraph } from '../../support/draft-graph.js';

installBrowserAsyncContext();
const saver = new BrowserSaver({ dbName: 'e2e-drafts' });
/** Every node the graph ran, in order, since the last `forget`. */
const ran: string[] = [];
const graph = buildDraftGraph(saver, ran);
connectDevtools(saver, { graph });
const thread = (thread_id: string): RunnableConfig => ({ configurable: { thread_id } });

(window as unknown as { harness: unknown }).harness = {
  start: async (thread_id: string, draft: string) => {
    await graph.invoke({ draft }, thread(thread_id));
  },
  ran: () => [...ran],
  forget: () => {
    ran.length = 0;
  },
  /** What the run waits on, the subgraph's interrupts included. */
  interrupts: async (thread_id: string) =>
    (await graph.getState(thread(thread_id), { subgraphs: true })).tasks.flatMap((task) => task.interrupts.map((entry) => entry.value)),
  /** The subgraph's checkpoints of the thread, newest first: its namespace, id, source and draft. */
  subgraphCheckpoints: async (thread_id: string) => {
    const rows = [];
    for await (const tuple of saver.list(thread(thread_id))) {
      const checkpoint_ns = tuple.config.configurable?.['checkpoint_ns'] as string;
      if (checkpoint_ns === '') continue;
      rows.push({ checkpoint_ns, checkpoint_id: tuple.checkpoint.id, source: tuple.metadata?.source, draft: tuple.checkpoint.channel_values['draft'] ?? null });
    }
    return rows;
  },
};
