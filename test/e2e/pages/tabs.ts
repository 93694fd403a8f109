// One of several tabs writing to the same database: `?saver=worker` uses WorkerSaver, else BrowserSaver.
import { emptyCheckpoint } from '@langchain/langgraph-checkpoint';
import { BrowserSaver, CheckpointError, SCHEMA_VERSION, WorkerSaver } from '../../../src/index.js';

const dbName = 'tabs';
const saver = new URLSearchParams(location.search).get('saver') === 'worker' ? new WorkerSaver({ dbName }) : new BrowserSaver({ dbName });

async function putNext(thread_id: string): Promise<number> {
  const latest = await saver.getTuple({ configurable: { thread_id } });
  const counter = ((latest?.checkpoint.channel_values['counter'] as number | undefined) ?? 0) + 1;
  const checkpoint = { ...emptyCheckpoint(), channel_values: { counter }, channel_versions: { counter: saver.getNextVersion(undefined) } };
  await saver.put(latest?.config ?? { configurable: { thread_id } }, checkpoint, { source: 'loop', step: counter, parents: {} }, checkpoint.channel_versions);
  return counter;
}

(window as unknown as { harness: unknown }).harness = {
  /** Read-then-write steps on a thread of this tab's own. */
  writeOwn: async (thread_id: string, steps: number) => {
    for (let i = 0; i < steps; i += 1) await putNext(thread_id);
  },
  /** The same on a thread other tabs write too, each step under the thread's lock. */
  writeShared: async (thread_id: string, steps: number) => {
    await Promise.all(Array.from({ length: steps }, () => saver.withThreadLock(thread_id, () => putNext(thread_id))));
  },
  /** A call after another tab upgraded the database: its error code, or 'ok'; never a hang. */
  probe: async () => {
    const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('hung'), 10_000));
    const call = saver.getTuple({ configurable: { thread_id: 'a' } }).then(
      () => 'ok',
      (error: unknown) => (error instanceof CheckpointError ? error.code : `untyped: ${String(error)}`),
    );
    return Promise.race([call, timeout]);
  },
  /** Opens the database at a newer schema version, as a newer release in another tab would; counts what is there. */
  upgrade: () =>
    new Promise((resolve, reject) => {
      const request = indexedDB.open(dbName, SCHEMA_VERSION + 1);
      let blocked = false;
      request.onblocked = () => (blocked = true);
      request.onerror = () => reject(request.error);
      request.onsuccess = async () => {
        const db = request.result;
        const tx = db.transaction('checkpoints', 'readonly');
        const keys = await new Promise<IDBValidKey[]>((done) => {
          const all = tx.objectStore('checkpoints').getAllKeys();
          all.onsuccess = () => done(all.result);
        });
        db.close();
        const perThread: Record<string, number> = {};
        for (const key of keys as string[][]) perThread[key[0]!] = (perThread[key[0]!] ?? 0) + 1;
        resolve({ blocked, perThread });
      };
    }),
  latestCounter: async (thread_id: string) => (await saver.getTuple({ configurable: { thread_id } }))?.checkpoint.channel_values['counter'],
};
