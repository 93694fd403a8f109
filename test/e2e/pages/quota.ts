// A page that runs an agent into a bounded storage quota and lets the test drive it through `window.harness`.
// `?saver=worker` runs it on WorkerSaver, whose storage (and so the refused transaction) lives in the worker.
import { openDB } from 'idb';
import type { RunnableConfig } from '@langchain/core/runnables';
import { BrowserSaver, CheckpointError, WorkerSaver, installBrowserAsyncContext, type CheckpointChange } from '../../../src/index.js';
import { Annotation, END, START, StateGraph } from '@langchain/langgraph/web';

installBrowserAsyncContext();
const saverKind = new URLSearchParams(location.search).get('saver') ?? 'browser';
const dbName = `e2e-quota-${saverKind}`;
const saver = saverKind === 'worker' ? new WorkerSaver({ dbName }) : new BrowserSaver({ dbName });

/** `bytes` random hex digits, which storage cannot compress much: each page costs about that much quota. */
function incompressible(bytes: number): string {
  const random = new Uint8Array(Math.ceil(bytes / 2));
  // getRandomValues fills at most 64 KiB per call.
  for (let offset = 0; offset < random.length; offset += 0x10000) crypto.getRandomValues(random.subarray(offset, offset + 0x10000));
  return Array.from(random, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * A research agent: each turn fetches a page (large, replaced every turn) and notes a line about it (small, kept).
 * Old checkpoints hold old pages, which is what pruning frees.
 */
const ResearchState = Annotation.Root({
  question: Annotation<string>(),
  bytes: Annotation<number>(),
  page: Annotation<string>(),
  notes: Annotation<string[]>({ reducer: (notes, more) => [...notes, ...more], default: () => [] }),
});
const graph = new StateGraph(ResearchState)
  .addNode('fetch', (state) => ({ page: incompressible(state.bytes) }))
  .addNode('note', (state) => ({ notes: [`${state.question}: ${state.page.length} characters`] }))
  .addEdge(START, 'fetch')
  .addEdge('fetch', 'note')
  .addEdge('note', END)
  .compile({ checkpointer: saver });
const thread = (thread_id: string): RunnableConfig => ({ configurable: { thread_id } });
const heard: CheckpointChange[] = [];
saver.subscribe((change) => heard.push(change));

/** What a call gave, or the code and message of the `CheckpointError` it rejected with. */
async function outcome<T>(call: Promise<T>): Promise<{ ok: true; result: T } | { ok: false; code: string; message: string }> {
  try {
    return { ok: true, result: await call };
  } catch (error) {
    if (CheckpointError.is(error)) return { ok: false, code: error.code, message: error.message };
    throw error;
  }
}

(window as unknown as { harness: unknown }).harness = {
  /**
   * One turn that fetches a page of about `bytes`; the code of the error if a call was refused. A refused turn
   * rejects as soon as one of its writes fails, while others may still be committing: it answers once they settled.
   */
  turn: (thread_id: string, question: string, bytes: number) =>
    outcome(graph.invoke({ question, bytes }, thread(thread_id)).then(() => undefined).finally(() => saver.flush().catch(() => undefined))),
  /** Every checkpoint of the thread as the saver reads it back: id, step, its notes and the size of its page. */
  checkpoints: async (thread_id: string) => {
    const rows = [];
    for await (const tuple of saver.list(thread(thread_id))) {
      const reread = await saver.getTuple(tuple.config);
      const values = reread?.checkpoint.channel_values ?? {};
      rows.push({ id: tuple.checkpoint.id, step: tuple.metadata?.step, notes: values['notes'] ?? [], page: String(values['page'] ?? '').length });
    }
    return rows;
  },
  /**
   * The raw records: how many checkpoints, and the blobs that no checkpoint names (a checkpoint whose record was
   * refused but whose values were stored would leave them).
   */
  orphans: async () => {
    const db = await openDB(dbName);
    try {
      // One transaction: a put still committing (a refused turn rejects before its earlier puts are done) is seen
      // whole or not at all.
      const tx = db.transaction(['checkpoints', 'blobs']);
      const [records, blobs] = await Promise.all([tx.objectStore('checkpoints').getAll(), tx.objectStore('blobs').getAllKeys()]);
      const named = new Set<string>();
      for (const record of records) {
        for (const [channel, version] of Object.entries(record.channel_versions as Record<string, string | number>)) {
          named.add(JSON.stringify([record.thread_id, record.checkpoint_ns, channel, version]));
        }
      }
      return { checkpoints: records.length, blobs: blobs.length, missing: blobs.map((key) => JSON.stringify(key)).filter((key) => !named.has(key)) };
    } finally {
      db.close();
    }
  },
  /** Prunes the thread to its newest `keepLatest` checkpoints: how many were deleted, or the code of the error. */
  prune: (thread_id: string, keepLatest: number) => outcome(saver.prune({ threadIds: [thread_id], keepLatest, keepAncestors: false })),
  /** Deletes the whole database (the saver steps aside and reopens it on its next call). */
  deleteDatabase: () => BrowserSaver.deleteDatabase(dbName),
  heard: () => heard.map((change) => change.kind),
  usage: async () => navigator.storage.estimate(),
};
