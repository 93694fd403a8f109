// The package's worker serves checkpoints and items; asked to end, it closes every database it opened first.
import * as Comlink from 'comlink';
import { BrowserSaver, WorkerSaver, WorkerStore, exposeJunctureStorage } from '../../src/index.js';
import type { JunctureHostApi } from '../../src/worker/store-host.js';
import { checkpointId, freshDbName, makeCheckpoint, makeMetadata, threadConfig } from '../support/fixtures.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the storage host', () => {
  it('closes its item databases as well as its checkpoint databases when asked to end', async () => {
    const { port1, port2 } = new MessageChannel();
    exposeJunctureStorage(port2);
    const names = { items: freshDbName('host-end-items'), checkpoints: freshDbName('host-end-checkpoints') };
    const store = new WorkerStore({ dbName: names.items, worker: port1 });
    const saver = new WorkerSaver({ dbName: names.checkpoints, worker: port1 });
    await store.put(['prefs'], 'drink', { text: 'tea' });
    await saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1)), makeMetadata(0), {});
    const close = vi.spyOn(IDBDatabase.prototype, 'close');

    const host = Comlink.wrap<JunctureHostApi>(port1);
    expect(await host.end()).toEqual({ ok: true, value: undefined });
    const closed = close.mock.contexts.map((db) => (db as IDBDatabase).name);
    expect(closed).toEqual(expect.arrayContaining([names.items, names.checkpoints]));
    await Promise.all([store.close(), saver.close()]);
    port1.close();
    port2.close();
    await BrowserSaver.deleteDatabase(names.checkpoints);
  });
});
