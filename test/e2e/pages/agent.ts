// A page that runs the test agent on a saver and lets the test drive it through `window.harness`.
// `?saver=worker` runs it on WorkerSaver; `?saver=memory` on MemorySaver, to show that the reload tests
// depend on durable storage.
import { MemorySaver } from '@langchain/langgraph-checkpoint';
import type { RunnableConfig } from '@langchain/core/runnables';
import { BrowserSaver, WorkerSaver, installBrowserAsyncContext } from '../../../src/index.js';
import { buildAgentGraph, describeHistory, describeSnapshot, resume } from '../../support/agent-graph.js';

installBrowserAsyncContext();
const savers = {
  browser: () => new BrowserSaver({ dbName: 'e2e-agent' }),
  worker: () => new WorkerSaver({ dbName: 'e2e-agent' }),
  memory: () => new MemorySaver(),
};
const kind = (new URLSearchParams(location.search).get('saver') ?? 'browser') as keyof typeof savers;
const saver = savers[kind]();
const graph = buildAgentGraph(saver);
const thread = (thread_id: string): RunnableConfig => ({ configurable: { thread_id } });

async function branches(thread_id: string) {
  const rows = [];
  for await (const tuple of saver.list({ configurable: { thread_id, checkpoint_ns: '' } })) {
    rows.push({ id: tuple.checkpoint.id, parent: tuple.parentConfig?.configurable?.['checkpoint_id'] ?? null, source: tuple.metadata?.source });
  }
  return rows;
}

(window as unknown as { harness: unknown }).harness = {
  start: async (thread_id: string, topic: string) => {
    await graph.invoke({ topic }, thread(thread_id));
    return describeSnapshot(await graph.getState(thread(thread_id)));
  },
  state: async (thread_id: string) => describeSnapshot(await graph.getState(thread(thread_id))),
  history: (thread_id: string) => describeHistory(graph, thread(thread_id)),
  resume: async (thread_id: string, answer: string) => {
    await graph.invoke(resume(answer), thread(thread_id));
    return describeSnapshot(await graph.getState(thread(thread_id)));
  },
  /** Forks at the checkpoint that waited for review, with an edited summary; returns the fork's checkpoint id. */
  fork: async (thread_id: string, summary: string) => {
    for await (const snapshot of graph.getStateHistory(thread(thread_id))) {
      if (snapshot.next.includes('review')) {
        const config = await graph.updateState(snapshot.config, { summary });
        return config.configurable?.['checkpoint_id'];
      }
    }
    throw new Error(`thread ${thread_id} never waited for review`);
  },
  branches,
};
