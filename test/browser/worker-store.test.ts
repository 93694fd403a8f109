import { BrowserSaver, BrowserStore, CheckpointError, WorkerSaver, WorkerStore } from '../../src/index.js';
import { freshDbName } from '../support/fixtures.js';
import { buildMemoryGraph } from '../support/memory-graph.js';
import { WordCountEmbeddings } from '../support/store-fixtures.js';

describe('WorkerStore', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    // Last opened, first closed: the worker ends after the store and saver it serves.
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  });
  function track<T extends WorkerStore | WorkerSaver | BrowserStore>(opened: T, remove: (dbName: string) => Promise<void>): T {
    closers.push(async () => {
      await opened.close();
      await remove(opened.dbName);
    });
    return opened;
  }

  it('shares one worker with a WorkerSaver, and a graph remembers across threads through it', async () => {
    const worker = new Worker(new URL('../../src/worker.ts', import.meta.url), { type: 'module' });
    closers.push(async () => worker.terminate());
    const embeddings = new WordCountEmbeddings(32);
    const index = { dims: embeddings.dims, embeddings, fields: ['text'] };
    const store = track(new WorkerStore({ dbName: freshDbName('worker-store'), worker, index }), BrowserStore.deleteDatabase);
    const saver = track(new WorkerSaver({ dbName: freshDbName('worker-store-saver'), worker }), BrowserSaver.deleteDatabase);
    const graph = buildMemoryGraph(saver, store);
    await graph.invoke({ user: 'ada', said: 'remember that I like green tea' }, { configurable: { thread_id: 'one' } });
    const answer = await graph.invoke({ user: 'ada', said: 'which tea do I like?' }, { configurable: { thread_id: 'two' } });
    expect(answer.reply).toBe('You told me I like green tea');
    expect((await graph.getState({ configurable: { thread_id: 'one' } })).values.reply).toBe('Noted: I like green tea');

    // What the worker stored, a BrowserStore in the page reads: the same database.
    const inPage = new BrowserStore({ dbName: store.dbName, index });
    const [memory] = await inPage.search(['memories', 'ada'], { query: 'tea' });
    expect(memory).toMatchObject({ key: 'memory-1', value: { text: 'I like green tea', kind: 'fact' } });
    expect(memory!.score).toBeCloseTo(0.5, 6);
    expect(memory!.createdAt).toBeInstanceOf(Date);
    await inPage.close();
  });

  it('starts its own worker when given none, and reports the worker\'s errors with their codes', async () => {
    const store = track(new WorkerStore({ dbName: freshDbName('own-worker') }), BrowserStore.deleteDatabase);
    await store.put(['a'], 'k', { v: 1 }, undefined, { ttl: 5 });
    expect(await store.listNamespaces()).toEqual([['a']]);
    expect((await store.get(['a'], 'k'))?.value).toEqual({ v: 1 });

    // A checkpoint database is not a store database: the worker refuses it with MIGRATION, naming it. (Its version
    // is above the store's, so the message speaks of a newer schema.)
    const saver = new BrowserSaver({ dbName: freshDbName('not-a-store') });
    await saver.deleteThread('nothing');
    await saver.close();
    const wrong = track(new WorkerStore({ dbName: saver.dbName }), BrowserStore.deleteDatabase);
    const error = await wrong.get(['a'], 'k').catch((thrown: unknown) => thrown);
    expect(CheckpointError.is(error, 'MIGRATION')).toBe(true);
    expect((error as Error).message).toContain(`IndexedDB database "${saver.dbName}"`);
  });

  describe('when its worker is gone', () => {
    it('rejects pending and later calls with UNAVAILABLE once the worker was terminated', async () => {
      const worker = new Worker(new URL('../../src/worker.ts', import.meta.url), { type: 'module' });
      // Not deleted afterwards: WebKit keeps a terminated worker's connection open, which blocks a deletion.
      const store = new WorkerStore({ dbName: freshDbName('store-terminated'), worker });
      await store.put(['prefs'], 'drink', { text: 'tea' });
      const pending = store.put(['prefs'], 'food', { text: 'rice' });
      worker.terminate();
      // Its lifetime lock is granted at once where the engine releases it (Chromium, Firefox); else a ping finds it gone.
      await expect(pending).rejects.toMatchObject({ name: 'CheckpointError', code: 'UNAVAILABLE', message: /terminated, crashed or ran out of memory|stopped answering/ });
      await expect(store.get(['prefs'], 'drink')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect(store.unavailable?.canRestart).toBe(true);
      // What was committed before is there for the next store.
      const next = new BrowserStore({ dbName: store.dbName });
      expect((await next.get(['prefs'], 'drink'))?.value).toEqual({ text: 'tea' });
      await Promise.all([store.close(), next.close()]);
    });

    it('rejects calls with UNAVAILABLE when its worker script cannot be loaded', async () => {
      const worker = new Worker(new URL('./no-such-worker.js', import.meta.url), { type: 'module' });
      closers.push(async () => worker.terminate());
      const store = track(new WorkerStore({ dbName: freshDbName('store-no-script'), worker }), BrowserStore.deleteDatabase);
      await expect(store.get(['prefs'], 'drink')).rejects.toMatchObject({ code: 'UNAVAILABLE', message: /failed to start.*use BrowserStore/ });
      expect(store.unavailable?.canRestart).toBe(false);
    });
  });
});
