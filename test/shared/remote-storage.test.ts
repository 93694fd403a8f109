import { BrowserSaver, CheckpointError, WorkerSaver, exposeCheckpointStorage } from '../../src/index.js';
import type { CheckpointRecord } from '../../src/storage/records.js';
import type { Acknowledgement, StorageHostApi } from '../../src/worker/protocol.js';
import { HostConnection } from '../../src/worker/host-connection.js';
import { RemoteCheckpointStorage } from '../../src/worker/remote-storage.js';
import { checkpointId, checkpointOperation, freshDbName, threadConfig } from '../support/fixtures.js';


/** A storage host served on a MessageChannel in this context, and the page-side storage talking to it. */
function connect(ack: Acknowledgement) {
  const { port1, port2 } = new MessageChannel();
  exposeCheckpointStorage(port2);
  const dbName = freshDbName(`remote-${ack}`);
  const connection = new HostConnection<StorageHostApi>({ worker: port1, dbName, owner: 'WorkerSaver' });
  const storage = new RemoteCheckpointStorage(connection, { dbName, durability: 'default' }, ack);
  return {
    storage,
    dbName,
    async end() {
      await storage.close().catch(() => undefined);
      await connection.release();
      port1.close();
      await BrowserSaver.deleteDatabase(dbName);
    },
  };
}

describe('writes sent to a storage host', () => {
  it('one operation that cannot be sent fails alone; the others of its message are stored', async () => {
    const { storage, dbName, end } = connect('committed');
    try {
      const unclonable = checkpointOperation('broken', checkpointId(2));
      (unclonable as { checkpoint: CheckpointRecord & { extra?: unknown } }).checkpoint.extra = () => undefined;
      // Written in one task, so the three travel in one message.
      const results = await Promise.allSettled([
        storage.write(checkpointOperation('first', checkpointId(1))),
        storage.write(unclonable),
        storage.write(checkpointOperation('third', checkpointId(3))),
      ]);
      expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(CheckpointError);
      const reader = new BrowserSaver({ dbName });
      expect((await reader.getTuple(threadConfig('first')))?.checkpoint).toBeDefined();
      expect((await reader.getTuple(threadConfig('third')))?.checkpoint).toBeDefined();
      await reader.close();
    } finally {
      await end();
    }
  });

  it('with ack queued, a failed write is reported to its own thread and to flush(), never to another thread', async () => {
    const { storage, end } = connect('queued');
    try {
      // An id IndexedDB refuses as a key: the host's transaction fails for this operation alone.
      await storage.write(checkpointOperation('poison', Number.NaN));
      await storage.write(checkpointOperation('kept', checkpointId(1)));
      // Another thread's reads and writes go on untouched (the read's answer comes after the failure's).
      expect((await storage.getTuple('kept', ''))?.checkpoint.checkpoint_id).toBe(checkpointId(1));
      await storage.write(checkpointOperation('kept', checkpointId(2)));
      expect((await storage.getTuple('kept', ''))?.checkpoint.checkpoint_id).toBe(checkpointId(2));
      // The failed thread's next write hears of it, once, and is not sent.
      await expect(storage.write(checkpointOperation('poison', checkpointId(3)))).rejects.toMatchObject({ code: 'STORAGE' });
      await storage.write(checkpointOperation('poison', checkpointId(4)));
      await storage.flush();
      expect((await storage.getTuple('poison', ''))?.checkpoint.checkpoint_id).toBe(checkpointId(4));
    } finally {
      await end();
    }
  });

  it('with ack queued, flush() reports every failure no call has reported, with the threads', async () => {
    const { storage, end } = connect('queued');
    try {
      await storage.write(checkpointOperation('a', Number.NaN));
      await storage.write(checkpointOperation('b', Number.NaN));
      await storage.write(checkpointOperation('c', checkpointId(1)));
      await expect(storage.flush()).rejects.toMatchObject({ code: 'STORAGE', message: /Queued writes of 2 threads failed \("a", "b"\)/ });
      await storage.flush();
    } finally {
      await end();
    }
  });

  it('WorkerSaver checks startTimeout', () => {
    const { port1 } = new MessageChannel();
    expect(() => new WorkerSaver({ worker: port1, startTimeout: -1 })).toThrow(/startTimeout must be a positive number/);
    port1.close();
  });
});
