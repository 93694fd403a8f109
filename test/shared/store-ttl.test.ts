import { BrowserStore, CheckpointError } from '../../src/index.js';
import { countRecords, readRecords } from '../support/store-probes.js';
import { useFreshStores, WordCountEmbeddings } from '../support/store-fixtures.js';

const MINUTE = 60_000;
const START = Date.UTC(2026, 0, 1);

describe('BrowserStore TTL', () => {
  const freshStore = useFreshStores('ttl');
  let now = START;
  const at = (minutes: number) => {
    now = START + minutes * MINUTE;
    vi.setSystemTime(now);
  };
  beforeEach(() => {
    // Only Date: fake-indexeddb schedules with timers of its own.
    vi.useFakeTimers({ toFake: ['Date'] });
    at(0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('never returns an expired item, from get, search or listNamespaces, and sweeps it on the next write', async () => {
    const store = freshStore();
    await store.put(['t'], 'short', { text: 'tea' }, undefined, { ttl: 1 });
    await store.put(['t'], 'kept', { text: 'coffee' });
    await store.put(['gone'], 'x', { v: 1 }, undefined, { ttl: 2 });
    at(0.99);
    expect(await store.get(['t'], 'short', { refreshTtl: false })).not.toBeNull();
    at(1);
    expect(await store.get(['t'], 'short')).toBeNull();
    expect((await store.search(['t'], { query: 'tea' })).map((item) => item.key)).toEqual([]);
    expect((await store.search(['t'])).map((item) => item.key)).toEqual(['kept']);
    expect(await store.listNamespaces()).toEqual([['gone'], ['t']]);
    at(2);
    expect(await store.listNamespaces()).toEqual([['t']]);
    // The listing swept both expired items away, with their namespace.
    expect(await countRecords(store.dbName, 'items')).toBe(1);
    expect(await countRecords(store.dbName, 'namespaces')).toBe(1);
  });

  it('puts an expired key again as a new item, and deletes an expired one as already gone', async () => {
    const store = freshStore();
    await store.put(['t'], 'k', { v: 1 }, undefined, { ttl: 1 });
    await store.put(['gone'], 'k', { v: 1 }, undefined, { ttl: 1 });
    at(5);
    await store.batch([
      { namespace: ['t'], key: 'k', value: { v: 2 } },
      { namespace: ['gone'], key: 'k', value: null },
    ]);
    const item = (await store.get(['t'], 'k'))!;
    expect(item.createdAt.getTime()).toBe(now);
    expect(await store.listNamespaces()).toEqual([['t']]);
    expect(await readRecords(store.dbName, 'namespaces')).toEqual([{ namespace: ['t'], items: 1 }]);
  });

  it('applies the store default, which a put may override or turn off with null', async () => {
    const store = freshStore({ ttl: { defaultTtl: 10 } });
    await store.put(['d'], 'default', { v: 1 });
    await store.put(['d'], 'own', { v: 2 }, undefined, { ttl: 30 });
    await store.put(['d'], 'forever', { v: 3 }, undefined, { ttl: null });
    at(20);
    expect((await store.search(['d'])).map((item) => item.key)).toEqual(['forever', 'own']);
    at(10_000);
    expect((await store.search(['d'])).map((item) => item.key)).toEqual(['forever']);
  });

  it('refreshes the expiry of what get and search return, unless told not to', async () => {
    const store = freshStore({ ttl: { refreshOnRead: true } });
    await store.put(['r'], 'read', { v: 1 }, undefined, { ttl: 10 });
    await store.put(['r'], 'searched', { v: 2 }, undefined, { ttl: 10 });
    await store.put(['r'], 'unread', { v: 3 }, undefined, { ttl: 10 });
    at(8);
    await store.get(['r'], 'read');
    await store.search(['r'], { filter: { v: 2 } });
    await store.get(['r'], 'unread', { refreshTtl: false });
    at(15);
    expect((await store.search(['r'], { refreshTtl: false })).map((item) => item.key)).toEqual(['read', 'searched']);
    at(18.5);
    expect(await store.search(['r'])).toEqual([]);
  });

  it('does not refresh on read when the store says so', async () => {
    const store = freshStore({ ttl: { refreshOnRead: false } });
    await store.put(['r'], 'k', { v: 1 }, undefined, { ttl: 10 });
    at(8);
    await store.get(['r'], 'k');
    at(12);
    expect(await store.get(['r'], 'k')).toBeNull();
  });

  it('sweeps expired items and their vectors on demand', async () => {
    const embeddings = new WordCountEmbeddings();
    const store = freshStore({ index: { dims: embeddings.dims, embeddings, fields: ['text'] } });
    await store.put(['s'], 'a', { text: 'tea' }, undefined, { ttl: 1 });
    await store.put(['s'], 'b', { text: 'milk' }, undefined, { ttl: 1 });
    await store.put(['s'], 'c', { text: 'cake' });
    expect(await countRecords(store.dbName, 'vectors')).toBe(3);
    at(2);
    expect(await store.sweepExpiredItems()).toBe(2);
    expect(await store.sweepExpiredItems()).toBe(0);
    expect(await countRecords(store.dbName, 'items')).toBe(1);
    expect(await countRecords(store.dbName, 'vectors')).toBe(1);
  });

  it('sweeps on its own every sweepIntervalMinutes while open', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    at(0);
    const store = freshStore({ ttl: { sweepIntervalMinutes: 5 } });
    await store.put(['s'], 'a', { v: 1 }, undefined, { ttl: 1 });
    at(5);
    vi.advanceTimersByTime(5 * MINUTE);
    for (let attempt = 0; attempt < 100 && (await countRecords(store.dbName, 'items')) > 0; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await countRecords(store.dbName, 'items')).toBe(0);
  });

  it('refuses a TTL that is not a positive number of minutes', async () => {
    const store = freshStore();
    for (const ttl of [0, -1, Number.NaN, '5' as unknown as number]) {
      const error = await store.put(['t'], 'k', { v: 1 }, undefined, { ttl }).catch((thrown: unknown) => thrown);
      expect(CheckpointError.is(error, 'INVALID_CONFIG')).toBe(true);
    }
    expect(() => new BrowserStore({ ttl: { defaultTtl: -5 } })).toThrow(CheckpointError);
  });
});
