// Node reports the close of a MessagePort's far end; browsers notice a dead worker by its lifetime lock instead
// (test/browser/worker-saver.test.ts).
import { CheckpointError, WorkerSaver, WorkerStore, exposeCheckpointStorage, exposeJunctureStorage } from '../../src/index.js';
import { checkpointId, freshDbName, makeCheckpoint, makeMetadata, threadConfig } from '../support/fixtures.js';

describe('WorkerSaver whose storage host goes away', () => {
  it('rejects pending and later calls with UNAVAILABLE when the far end of its port closes', async () => {
    const { port1, port2 } = new (await import('node:worker_threads')).MessageChannel();
    exposeCheckpointStorage(port2 as unknown as MessagePort);
    const saver = new WorkerSaver({ dbName: freshDbName('port-closed'), worker: port1 as unknown as MessagePort });
    await saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1)), makeMetadata(0), {});
    expect(saver.unavailable).toBeUndefined();
    // The host stops answering and its port closes: the call already sent can never be answered.
    port2.removeAllListeners('message');
    const pending = saver.getTuple(threadConfig('t'));
    port2.close();
    const error = (await pending.catch((thrown: unknown) => thrown)) as CheckpointError;
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toMatch(/port was closed.*create a new WorkerSaver/);
    expect(saver.unavailable).toEqual({ reason: expect.stringMatching(/port was closed/), canRestart: true });
    await expect(saver.put(threadConfig('t'), makeCheckpoint(checkpointId(2)), makeMetadata(1), {})).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(saver.flush()).resolves.toBeUndefined();
    await saver.close();
    await expect(saver.getTuple(threadConfig('t'))).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('rejects calls with UNAVAILABLE when nothing answers within startTimeout', async () => {
    const { port1, port2 } = new MessageChannel();
    const saver = new WorkerSaver({ dbName: freshDbName('no-host'), worker: port1 as unknown as MessagePort, startTimeout: 50 });
    const put = saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1)), makeMetadata(0), {});
    await expect(put).rejects.toMatchObject({ code: 'UNAVAILABLE', message: /did not answer within 50 ms.*would fail the same way/ });
    expect(saver.unavailable?.canRestart).toBe(false);
    await saver.close();
    port1.close();
    port2.close();
  });
});

describe('WorkerStore whose storage host goes away', () => {
  it('rejects pending and later calls with UNAVAILABLE when the far end of its port closes', async () => {
    const { port1, port2 } = new (await import('node:worker_threads')).MessageChannel();
    exposeJunctureStorage(port2 as unknown as MessagePort);
    const store = new WorkerStore({ dbName: freshDbName('store-port-closed'), worker: port1 as unknown as MessagePort });
    await store.put(['prefs'], 'drink', { text: 'tea' });
    expect(store.unavailable).toBeUndefined();
    port2.removeAllListeners('message');
    const pending = store.get(['prefs'], 'drink');
    port2.close();
    const error = (await pending.catch((thrown: unknown) => thrown)) as CheckpointError;
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toMatch(/port was closed.*create a new WorkerStore/);
    expect(store.unavailable).toEqual({ reason: expect.stringMatching(/port was closed/), canRestart: true });
    await expect(store.search(['prefs'])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await store.close();
    await expect(store.get(['prefs'], 'drink')).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('rejects calls with UNAVAILABLE when nothing answers within startTimeout, and refuses a bad startTimeout', async () => {
    const { port1, port2 } = new MessageChannel();
    const store = new WorkerStore({ dbName: freshDbName('store-no-host'), worker: port1 as unknown as MessagePort, startTimeout: 50 });
    await expect(store.put(['prefs'], 'drink', { text: 'tea' })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: /did not answer within 50 ms.*would fail the same way.*use BrowserStore/,
    });
    expect(store.unavailable?.canRestart).toBe(false);
    await store.close();
    expect(() => new WorkerStore({ worker: port1 as unknown as MessagePort, startTimeout: -1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(/startTimeout must be a positive number/) }),
    );
    port1.close();
    port2.close();
  });
});
