import { BrowserSaver } from '../../src/index.js';
import { collect, checkpointId, freshDbName, makeCheckpoint, makeMetadata, threadConfig } from '../support/fixtures.js';

/** Runs `body` and reports the transactions opened meanwhile that had not finished (completed or aborted) when it resolved. */
async function unfinishedAfter(body: () => Promise<void>): Promise<string[]> {
  const { transaction } = IDBDatabase.prototype;
  const unfinished = new Set<IDBTransaction>();
  IDBDatabase.prototype.transaction = function tracked(this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
    const tx = transaction.apply(this, args);
    unfinished.add(tx);
    const finish = () => unfinished.delete(tx);
    tx.addEventListener('complete', finish);
    tx.addEventListener('abort', finish);
    return tx;
  } as IDBDatabase['transaction'];
  try {
    await body();
    return [...unfinished].map((tx) => `${tx.mode} on ${[...tx.objectStoreNames].join(', ')}`);
  } finally {
    IDBDatabase.prototype.transaction = transaction;
  }
}

describe('close()', () => {
  it('resolves only once every transaction of the connection has finished, so nothing holds the database after it', async () => {
    const dbName = freshDbName('closing');
    const unfinished = await unfinishedAfter(async () => {
      const saver = new BrowserSaver({ dbName });
      const config = await saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1), { a: 1 }), makeMetadata(0), { a: 1 });
      // A read answers before its transaction has finished.
      expect(await collect(saver.list(threadConfig('t')))).toHaveLength(1);
      expect((await saver.getTuple(config))?.checkpoint.id).toBe(checkpointId(1));
      await saver.close();
    });
    expect(unfinished).toEqual([]);
    await BrowserSaver.deleteDatabase(dbName);
  });
});
