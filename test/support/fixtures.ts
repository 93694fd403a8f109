import { openDB } from 'idb';
import { emptyCheckpoint, type Checkpoint, type CheckpointMetadata } from '@langchain/langgraph-checkpoint';
import type { RunnableConfig } from '@langchain/core/runnables';
import { BrowserSaver } from '../../src/index.js';
import type { CheckpointRecord } from '../../src/storage/records.js';
import type { WriteOperation } from '../../src/storage/storage.js';

let counter = 0;

/** A database name no other test uses. */
export function freshDbName(label = 'test'): string {
  counter += 1;
  return `${label}-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Savers on fresh databases for the tests of one file; each is closed and its database deleted after each test.
 * Call at the top level of a test file (or a describe block).
 */
export function useFreshSavers(label = 'test'): (options?: ConstructorParameters<typeof BrowserSaver>[0]) => BrowserSaver {
  const savers: BrowserSaver[] = [];
  afterEach(async () => {
    for (const saver of savers.splice(0)) {
      await saver.close().catch(() => undefined);
      await BrowserSaver.deleteDatabase(saver.dbName);
    }
  });
  return (options = {}) => {
    const saver = new BrowserSaver({ dbName: freshDbName(label), ...options });
    savers.push(saver);
    return saver;
  };
}

/** Checkpoint ids that sort in creation order, as LangGraph's uuid6 ids do. */
export function checkpointId(n: number): string {
  return `cp-${n.toString().padStart(6, '0')}`;
}

export function makeCheckpoint(id: string, values: Record<string, unknown> = {}, versions?: Record<string, number>): Checkpoint {
  return {
    ...emptyCheckpoint(),
    id,
    channel_values: values,
    channel_versions: versions ?? Object.fromEntries(Object.keys(values).map((channel) => [channel, 1])),
  };
}

export function makeMetadata(step: number, extra: Record<string, unknown> = {}): CheckpointMetadata {
  return { source: step < 0 ? 'input' : 'loop', step, parents: {}, ...extra } as CheckpointMetadata;
}

export function threadConfig(thread_id: string, checkpoint_ns = '', checkpoint_id?: string): RunnableConfig {
  return { configurable: { thread_id, checkpoint_ns, ...(checkpoint_id ? { checkpoint_id } : {}) } };
}

/** Puts a chain of checkpoints (each the parent of the next) with the given steps. */
export async function putChain(
  saver: BrowserSaver,
  thread_id: string,
  checkpoint_ns: string,
  ids: number[],
  values: (step: number) => Record<string, unknown> = (step) => ({ counter: step }),
): Promise<RunnableConfig[]> {
  const configs: RunnableConfig[] = [];
  let parent = threadConfig(thread_id, checkpoint_ns);
  for (const [step, n] of ids.entries()) {
    const channelValues = values(step);
    const versions = Object.fromEntries(Object.keys(channelValues).map((channel) => [channel, step + 1]));
    parent = await saver.put(parent, makeCheckpoint(checkpointId(n), channelValues, versions), makeMetadata(step), versions);
    configs.push(parent);
  }
  return configs;
}

/** Counts the raw records of each store, optionally only those of one thread. */
export async function countRecords(dbName: string, thread_id?: string): Promise<Record<string, number>> {
  const db = await openDB(dbName);
  try {
    const counts: Record<string, number> = {};
    for (const store of ['checkpoints', 'blobs', 'writes'] as const) {
      // A database that was never written to has no stores yet.
      const records = db.objectStoreNames.contains(store) ? ((await db.getAll(store)) as { thread_id: string }[]) : [];
      counts[store] = records.filter((record) => thread_id === undefined || record.thread_id === thread_id).length;
    }
    return counts;
  } finally {
    db.close();
  }
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** Serialized JSON as the savers store it. */
export function jsonBytes(text: string): { type: string; bytes: Uint8Array } {
  return { type: 'json', bytes: new TextEncoder().encode(JSON.stringify(text)) };
}

/**
 * A storage operation storing a bare checkpoint record. `checkpoint_id` may be a value IndexedDB refuses as a key
 * (a number such as NaN), to make a write fail on its own.
 */
export function checkpointOperation(thread_id: string, checkpoint_id: string | number): WriteOperation {
  const checkpoint = {
    thread_id,
    checkpoint_ns: '',
    checkpoint_id,
    v: 4,
    channel_versions: {},
    checkpoint: jsonBytes('checkpoint'),
    metadata: jsonBytes('metadata'),
  } as CheckpointRecord;
  return { kind: 'checkpoint', checkpoint, blobs: [] };
}
