import { CheckpointError } from '../../src/index.js';
import type { BlobRecord, CheckpointRecord } from '../../src/storage/records.js';
import { checkpointId, makeCheckpoint, makeMetadata, threadConfig, useFreshSavers } from '../support/fixtures.js';
import { readEveryRecord } from '../support/raw-records.js';

/** A record as IndexedDB names it: its store and its key. */
function recordName(store: IDBObjectStore, value: unknown): string {
  const paths = typeof store.keyPath === 'string' ? [store.keyPath] : store.keyPath ?? [];
  return JSON.stringify([store.name, paths.map((path) => (value as Record<string, unknown>)[path])]);
}

/**
 * Runs `body` while every `put` of the record named `failing` fails after it was queued, as a put the quota refuses
 * does: the request after it, a second `add` of the same record, fails with `ConstraintError` and nothing handles
 * it. Resolves with the names of every record put meanwhile, in order.
 */
async function withFailingPut<T>(failing: string | undefined, body: () => Promise<T>): Promise<{ result: PromiseSettledResult<T>; puts: string[] }> {
  const { put } = IDBObjectStore.prototype;
  const puts: string[] = [];
  IDBObjectStore.prototype.put = function putThenFail(this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
    const name = recordName(this, args[0]);
    puts.push(name);
    const request = put.apply(this, args);
    if (name === failing) this.add(args[0]);
    return request;
  };
  try {
    const [result] = await Promise.allSettled([body()]);
    return { result: result!, puts };
  } finally {
    IDBObjectStore.prototype.put = put;
  }
}

/** The values stored without a checkpoint that names them (thread, channel and version). */
async function valuesWithoutCheckpoint(dbName: string): Promise<string[]> {
  const { checkpoints = [], blobs = [] } = (await readEveryRecord(dbName)) as { checkpoints?: CheckpointRecord[]; blobs?: BlobRecord[] };
  const named = new Set(
    checkpoints.flatMap((record) => Object.entries(record.channel_versions).map(([channel, version]) => JSON.stringify([record.thread_id, channel, version]))),
  );
  return blobs.map((blob) => JSON.stringify([blob.thread_id, blob.channel, blob.version])).filter((key) => !named.has(key));
}

// Objects: a put stores each as a value of its own (small scalars would be held in the checkpoint's record).
const values = { a: { text: 'first' }, b: { text: 'second' }, c: { text: 'third' } };
const versions = { a: 1, b: 1, c: 1 };

describe('a put whose request fails after it was queued', () => {
  const fresh = useFreshSavers('failed-request');

  it('keeps nothing of that put, whichever of its records fails', async () => {
    const { puts } = await withFailingPut(undefined, () => fresh().put(threadConfig('t'), makeCheckpoint(checkpointId(1), values), makeMetadata(0), versions));
    expect(puts).toHaveLength(4);
    for (const failing of puts) {
      const saver = fresh();
      const { result } = await withFailingPut(failing, () => saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1), values), makeMetadata(0), versions));
      expect(result.status, failing).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(CheckpointError);
      expect(await readEveryRecord(saver.dbName), failing).toMatchObject({ checkpoints: [], blobs: [] });
    }
  });

  it('in a coalesced batch, fails only the call it belongs to, and leaves no value without its checkpoint', async () => {
    const putAll = (saver: ReturnType<typeof fresh>) =>
      Promise.allSettled(['x', 'y', 'z'].map((thread) => saver.put(threadConfig(thread), makeCheckpoint(checkpointId(1), values), makeMetadata(0), versions)));
    const { puts } = await withFailingPut(undefined, () => putAll(fresh()));
    // One batch: every record of the three puts once.
    expect(puts).toHaveLength(12);
    for (const failing of puts) {
      const saver = fresh();
      const { result } = await withFailingPut(failing, () => putAll(saver));
      const thread = (JSON.parse(failing) as [string, string[]])[1][0];
      const outcomes = (result as PromiseFulfilledResult<PromiseSettledResult<unknown>[]>).value.map((outcome) => outcome.status);
      expect(outcomes, failing).toEqual(['x', 'y', 'z'].map((id) => (id === thread ? 'rejected' : 'fulfilled')));
      expect(await valuesWithoutCheckpoint(saver.dbName), failing).toEqual([]);
      for (const id of ['x', 'y', 'z']) expect((await saver.getTuple(threadConfig(id)))?.checkpoint.channel_values, `${failing} ${id}`).toEqual(id === thread ? undefined : values);
    }
  });
});
