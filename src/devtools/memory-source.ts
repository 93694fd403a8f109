import type { CheckpointDataSource, ThreadExport } from './data-source.js';
import { searchDetails, summariesOfDetails, threadSummaryOf } from './thread-model.js';

export interface MemoryDataSource extends CheckpointDataSource {
  /** Replaces the threads shown and tells subscribers. */
  replace(threads: ThreadExport[]): void;
}

/**
 * A read-only data source over exported threads: what the panel shows after importing a file, and what tests
 * feed it. Time travel is off.
 */
export function createMemoryDataSource(initial: ThreadExport[]): MemoryDataSource {
  let threads = initial;
  const listeners = new Set<(dbName: string) => void>();
  const threadOf = (dbName: string, thread_id: string) => threads.find((entry) => entry.dbName === dbName && entry.thread_id === thread_id);
  const unavailable = async (): Promise<never> => {
    throw new Error('Imported threads are read-only: time travel needs the live page.');
  };
  return {
    databases: async () => [...new Set(threads.map((entry) => entry.dbName))].sort().map((name) => ({ name, live: false, timeTravel: false })),
    threads: async (dbName) =>
      threads
        .filter((entry) => entry.dbName === dbName)
        .map((entry) => threadSummaryOf(entry.thread_id, entry.checkpoints))
        .sort((a, b) => (a.latest_checkpoint_id < b.latest_checkpoint_id ? 1 : -1)),
    history: async (dbName, query) => {
      const all = threadOf(dbName, query.thread_id)?.checkpoints ?? [];
      const page = all
        .filter((detail) => query.checkpoint_ns === undefined || detail.checkpoint_ns === query.checkpoint_ns)
        .filter((detail) => query.before === undefined || detail.checkpoint_id < query.before)
        .slice(0, query.limit);
      return summariesOfDetails(page, all);
    },
    checkpoint: async (dbName, key) =>
      threadOf(dbName, key.thread_id)?.checkpoints.find(
        (detail) => detail.checkpoint_ns === key.checkpoint_ns && detail.checkpoint_id === key.checkpoint_id,
      ),
    search: async (dbName, thread_id, text) => searchDetails(threadOf(dbName, thread_id)?.checkpoints ?? [], text),
    exportThread: async (dbName, thread_id) => {
      const thread = threadOf(dbName, thread_id);
      if (!thread) throw new Error(`No thread "${thread_id}" in "${dbName}".`);
      return thread;
    },
    // An export holds one thread's checkpoints, never a store.
    storeDatabases: async () => [],
    storeNamespaces: async () => [],
    storeItems: async () => [],
    fork: unavailable,
    resume: unavailable,
    // An export holds checkpoints, not the graph: the panel infers one from them.
    graph: async () => null,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    replace(next) {
      threads = next;
      for (const listener of listeners) listener('');
    },
  };
}

/** Checks a parsed file before it is shown; throws with what is wrong. */
export function parseThreadExport(value: unknown): ThreadExport {
  const candidate = value as Partial<ThreadExport> | null;
  if (typeof candidate !== 'object' || candidate === null || candidate.format !== 'juncture-thread' || candidate.version !== 1) {
    throw new Error('This file is not a juncture thread export (format "juncture-thread", version 1).');
  }
  if (typeof candidate.dbName !== 'string' || typeof candidate.thread_id !== 'string' || !Array.isArray(candidate.checkpoints)) {
    throw new Error('This thread export lacks its dbName, thread_id or checkpoints.');
  }
  for (const [i, detail] of candidate.checkpoints.entries()) {
    if (typeof detail?.checkpoint_id !== 'string' || typeof detail.checkpoint_ns !== 'string' || typeof detail.channel_values !== 'object') {
      throw new Error(`Checkpoint ${i} of this thread export is malformed.`);
    }
  }
  return candidate as ThreadExport;
}
