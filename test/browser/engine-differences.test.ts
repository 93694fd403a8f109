// Where the engines the saver runs in differ in what it relies on, and what the library does about it. Each
// difference is pinned per engine (the browser-mode project names it), so a change in any engine shows up
// here, next to a check that the saver behaves the same in all of them. The library itself detects, never asks
// which engine it runs in.
import { server } from 'vitest/browser';
import { CheckpointError, storageError } from '../../src/errors.js';
import { BrowserSaver, WorkerSaver, requestPersistentStorage } from '../../src/index.js';
import { checkpointId, freshDbName, makeCheckpoint, makeMetadata, putChain, threadConfig } from '../support/fixtures.js';

const engine = server.browser as 'chromium' | 'firefox' | 'webkit';

function openScratchDatabase(name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => request.result.createObjectStore('records', { keyPath: ['thread', 'idx'] });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function settled(tx: IDBTransaction): Promise<string> {
  return new Promise((resolve) => {
    tx.oncomplete = () => resolve('complete');
    tx.onabort = () => resolve(`abort: ${tx.error?.name ?? 'no error'}`);
  });
}

describe(`IndexedDB in ${engine}`, () => {
  const savers: (BrowserSaver | WorkerSaver)[] = [];
  afterEach(async () => {
    for (const saver of savers.splice(0)) {
      await saver.close();
      await BrowserSaver.deleteDatabase(saver.dbName);
    }
  });

  it('after commit(), a failed request whose error is handled aborts in Chromium and WebKit, not in Firefox', async () => {
    const name = freshDbName('commit-after-error');
    const db = await openScratchDatabase(name);
    const seed = db.transaction('records', 'readwrite');
    seed.objectStore('records').put({ thread: 't', idx: 0 });
    await settled(seed);
    const tx = db.transaction('records', 'readwrite');
    const outcome = settled(tx);
    tx.objectStore('records').add({ thread: 't', idx: 0 }).onerror = (event) => event.preventDefault();
    tx.objectStore('records').put({ thread: 't', idx: 1 });
    tx.commit();
    expect(await outcome).toBe({ chromium: 'abort: UnknownError', firefox: 'complete', webkit: 'abort: no error' }[engine]);
    db.close();
    indexedDB.deleteDatabase(name);
  });

  it('after commit(), a failed request whose error is not handled aborts in Chromium and WebKit, and Firefox commits the rest', async () => {
    const name = freshDbName('commit-after-failure');
    const db = await openScratchDatabase(name);
    const tx = db.transaction('records', 'readwrite');
    const outcome = settled(tx);
    tx.objectStore('records').put({ thread: 't', idx: 0 });
    // Fails as a put the quota refuses does: after it was queued, with nothing handling its error.
    tx.objectStore('records').add({ thread: 't', idx: 0 });
    tx.objectStore('records').put({ thread: 't', idx: 1 });
    tx.commit();
    expect(await outcome).toBe({ chromium: 'abort: ConstraintError', firefox: 'complete', webkit: 'abort: no error' }[engine]);
    const count = db.transaction('records').objectStore('records').count();
    expect(await new Promise((resolve) => (count.onsuccess = () => resolve(count.result)))).toBe(engine === 'firefox' ? 2 : 0);
    db.close();
    indexedDB.deleteDatabase(name);
  });

  it('so the saver redoes a batch that meets a taken key without commit(): the first write is kept in all', async () => {
    const saver = new WorkerSaver({ dbName: freshDbName('first-write') });
    savers.push(saver);
    const config = await saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1)), makeMetadata(0), {});
    // Not awaited one by one, so the worker commits them in one batch: the second meets the first's key.
    await Promise.all([
      saver.putWrites(config, [['channel', 'first']], 'task'),
      saver.putWrites(config, [['channel', 'second']], 'task'),
      saver.putWrites(config, [['other', 'kept too']], 'other-task'),
    ]);
    const writes = (await saver.getTuple(config))!.pendingWrites!.map(([, channel, value]) => [channel, value]);
    expect(writes).toEqual([
      ['other', 'kept too'],
      ['channel', 'first'],
    ]);
  });

  it('honours the durability asked for, on every write transaction of the saver', async () => {
    const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction');
    try {
      const saver = new BrowserSaver({ dbName: freshDbName('durability'), durability: 'strict' });
      savers.push(saver);
      const config = await saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1)), makeMetadata(0), {});
      await saver.putWrites(config, [['channel', 1]], 'task');
      const writes = transaction.mock.results.map((result) => result.value as IDBTransaction).filter((tx) => tx.mode === 'readwrite');
      expect(writes.length).toBeGreaterThanOrEqual(2);
      expect(new Set(writes.map((tx) => tx.durability))).toEqual(new Set(['strict']));
    } finally {
      transaction.mockRestore();
    }
  });

  it('reports a full quota as QUOTA: a QuotaExceededError in Chromium, a DOMException of that name in Firefox and WebKit', () => {
    const QuotaError = (globalThis as { QuotaExceededError?: new (message: string) => DOMException }).QuotaExceededError;
    expect(typeof QuotaError).toBe({ chromium: 'function', firefox: 'undefined', webkit: 'undefined' }[engine]);
    const message = 'The quota has been exceeded.';
    const refused = QuotaError ? new QuotaError(message) : new DOMException(message, 'QuotaExceededError');
    expect(storageError('Storing checkpoint cp-1', refused).code).toBe('QUOTA');
  });

  it('persist(): Chromium decides on its own (no, for a page without engagement), Firefox asks the user, WebKitGTK has none', async () => {
    const storage = (navigator as { storage?: StorageManager }).storage;
    expect(typeof storage?.persist).toBe({ chromium: 'function', firefox: 'function', webkit: 'undefined' }[engine]);
    if (storage) {
      // The Firefox test profile answers the prompt as a user who allows it (see scripts/firefox.mjs).
      expect(await storage.persist()).toBe({ chromium: false, firefox: true, webkit: undefined }[engine]);
    } else {
      // Without the API, asking fails with a typed error: an app keeps going on best-effort storage.
      await expect(requestPersistentStorage()).rejects.toSatisfy((error) => CheckpointError.is(error, 'UNAVAILABLE'));
    }
  });

  it('has getAllRecords in Chromium and Firefox, not in WebKit, and lists the same by cursor without it', async () => {
    const prototypes = [IDBObjectStore.prototype, IDBIndex.prototype];
    const hasGetAllRecords = { chromium: true, firefox: true, webkit: false }[engine];
    expect(prototypes.map((prototype) => typeof (prototype as { getAllRecords?: unknown }).getAllRecords)).toEqual(
      Array(2).fill(hasGetAllRecords ? 'function' : 'undefined'),
    );

    const saver = new BrowserSaver({ dbName: freshDbName('get-all-records') });
    savers.push(saver);
    const ids = Array.from({ length: 60 }, (_, n) => n + 1);
    await putChain(saver, 'a', '', ids);
    await putChain(saver, 'a', 'child', ids.slice(0, 20));
    await putChain(saver, 'b', '', ids.slice(0, 30));
    const listings = async () => {
      const queries = [
        [threadConfig('a'), undefined],
        [{ configurable: { thread_id: 'a' } }, undefined],
        [threadConfig('a'), { limit: 7, before: threadConfig('a', '', checkpointId(40)) }],
        [{ configurable: {} }, { limit: 50 }],
      ] as const;
      return Promise.all(
        queries.map(async ([config, options]) => {
          const listed: string[] = [];
          for await (const tuple of saver.list(config, options)) listed.push(`${tuple.config.configurable?.['thread_id']}/${tuple.checkpoint.id}`);
          return listed;
        }),
      );
    };
    const listed = await listings();
    expect(listed.map((listing) => listing.length)).toEqual([60, 80, 7, 50]);
    expect([listed[0]![0], listed[0]![59]]).toEqual([`a/${checkpointId(60)}`, `a/${checkpointId(1)}`]);
    if (!hasGetAllRecords) return;
    const descriptors = prototypes.map((prototype) => Object.getOwnPropertyDescriptor(prototype, 'getAllRecords')!);
    try {
      for (const prototype of prototypes) Reflect.deleteProperty(prototype, 'getAllRecords');
      expect(await listings()).toEqual(listed);
    } finally {
      prototypes.forEach((prototype, index) => Object.defineProperty(prototype, 'getAllRecords', descriptors[index]!));
    }
  });
});
