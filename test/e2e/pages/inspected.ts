// A page whose agent writes checkpoints through WorkerSaver, keeps memories in a BrowserStore, and shows both to the
// devtools with connectDevtools.
// It can also forge the messages a hostile script on the page could send.
import type { RunnableConfig } from '@langchain/core/runnables';
import { BrowserStore, WorkerSaver, installBrowserAsyncContext } from '../../../src/index.js';
import { connectDevtools } from '../../../src/devtools/index.js';
import { HOOK_SOURCE } from '../../../src/devtools/protocol.js';
import { buildAgentGraph, resume } from '../../support/agent-graph.js';

installBrowserAsyncContext();
const saver = new WorkerSaver({ dbName: 'e2e-devtools' });
const graph = buildAgentGraph(saver);
// The store's database is created by its first put, not here.
const store = new BrowserStore({ dbName: 'e2e-devtools-store' });
connectDevtools(saver, { graph, store });
const thread = (thread_id: string): RunnableConfig => ({ configurable: { thread_id } });

async function checkpointIds(thread_id: string) {
  const ids: string[] = [];
  for await (const tuple of saver.list({ configurable: { thread_id } })) ids.push(tuple.checkpoint.id);
  return ids;
}

(window as unknown as { harness: unknown }).harness = {
  rootCheckpointIds: async (thread_id: string) => {
    const ids: string[] = [];
    for await (const tuple of saver.list({ configurable: { thread_id, checkpoint_ns: '' } })) ids.push(tuple.checkpoint.id);
    return ids;
  },
  start: async (thread_id: string) => {
    await graph.invoke({ topic: thread_id }, thread(thread_id));
    return checkpointIds(thread_id);
  },
  resume: async (thread_id: string) => {
    await graph.invoke(resume('yes'), thread(thread_id));
    return checkpointIds(thread_id);
  },
  /** Messages a hostile script could post, none of which may put data into the panel. */
  forge: async (fakeId: string) => {
    const post = (message: unknown) => window.postMessage(message, location.origin);
    post({ source: HOOK_SOURCE, type: 'announce', dbName: `forged-${fakeId}` });
    post({ source: HOOK_SOURCE, type: 'changed', dbName: 'e2e-devtools', threads: [{ thread_id: fakeId }], checkpoints: [{ checkpoint_id: fakeId }] });
    post({ source: 'juncture-devtools:other', type: 'announce', dbName: fakeId });
    post({ source: HOOK_SOURCE, type: 'checkpoint', dbName: 'e2e-devtools', checkpoint_id: fakeId });
    const frame = document.createElement('iframe');
    frame.srcdoc = `<script>parent.postMessage(${JSON.stringify({ source: HOOK_SOURCE, type: 'announce', dbName: `framed-${fakeId}` })}, '*')</script>`;
    document.body.append(frame);
    await new Promise((done) => setTimeout(done, 300));
  },
  remember: async (user: string, key: string, text: string) => store.put(['memories', user], key, { text }),
  latestValues: async (thread_id: string) => (await graph.getState(thread(thread_id))).values,
  next: async (thread_id: string) => (await graph.getState(thread(thread_id))).next,
  databases: async () => (await indexedDB.databases()).map((info) => info.name),
};
