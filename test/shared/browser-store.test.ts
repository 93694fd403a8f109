import { BrowserStore, openStoreReader, type ItemChange } from '../../src/index.js';
import { freshDbName } from '../support/fixtures.js';
import { countRecordsRead, countRecords } from '../support/store-probes.js';
import { withFirefoxQuotaRefusal } from '../support/quota-refusal.js';
import { useFreshStores } from '../support/store-fixtures.js';

describe('BrowserStore', () => {
  const freshStore = useFreshStores('browser-store');

  it('keeps items across store instances on the same database, in its own database by default', async () => {
    expect(new BrowserStore().dbName).toBe('juncture-store');
    const first = freshStore();
    await first.put(['users', 'ada'], 'profile', { name: 'Ada', likes: ['tea'] });
    await first.close();
    const second = new BrowserStore({ dbName: first.dbName });
    const item = await second.get(['users', 'ada'], 'profile');
    expect(item).toMatchObject({ namespace: ['users', 'ada'], key: 'profile', value: { name: 'Ada', likes: ['tea'] } });
    await second.close();
  });

  it('keeps createdAt and moves updatedAt when an item is put again', async () => {
    const store = freshStore();
    await store.put(['notes'], 'n', { v: 1 });
    const created = (await store.get(['notes'], 'n'))!;
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(created.updatedAt.getTime()).toBe(created.createdAt.getTime());
    await new Promise((resolve) => setTimeout(resolve, 5));
    await store.put(['notes'], 'n', { v: 2 });
    const updated = (await store.get(['notes'], 'n'))!;
    expect(updated.createdAt.getTime()).toBe(created.createdAt.getTime());
    expect(updated.updatedAt.getTime()).toBeGreaterThan(created.updatedAt.getTime());
    // Deleted and put again: a new item.
    await store.delete(['notes'], 'n');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await store.put(['notes'], 'n', { v: 3 });
    expect((await store.get(['notes'], 'n'))!.createdAt.getTime()).toBeGreaterThan(created.createdAt.getTime());
  });

  it('runs a batch so that its reads see the state before its writes, and the last put of a key wins', async () => {
    const store = freshStore();
    await store.put(['a'], 'k', { v: 'before' });
    const results: unknown[] = await store.batch([
      { namespace: ['a'], key: 'k', value: { v: 'first' } },
      { namespace: ['a'], key: 'k' },
      { namespacePrefix: ['a'], limit: 10, offset: 0 },
      { namespace: ['a'], key: 'k', value: { v: 'last' } },
      { namespace: ['b'], key: 'new', value: { v: 1 } },
      { namespace: ['b'], key: 'new', value: null },
      { matchConditions: undefined, limit: 10, offset: 0 },
    ]);
    expect(results[0]).toBeNull();
    expect((results[1] as { value: unknown }).value).toEqual({ v: 'before' });
    expect((results[2] as { value: unknown }[]).map((item) => item.value)).toEqual([{ v: 'before' }]);
    expect(results[6]).toEqual([['a']]);
    expect((await store.get(['a'], 'k'))!.value).toEqual({ v: 'last' });
    expect(await store.get(['b'], 'new')).toBeNull();
    expect(await store.listNamespaces()).toEqual([['a']]);
  });

  it('searches a namespace prefix by key range, and lists namespaces from their own records', async () => {
    const store = freshStore();
    await store.batch(Array.from({ length: 200 }, (_, i) => ({ namespace: ['other', `n${i % 20}`], key: `k${i}`, value: { i } })));
    await store.batch([
      { namespace: ['mine'], key: 'a', value: { i: 1 } },
      { namespace: ['mine', 'deep'], key: 'b', value: { i: 2 } },
      { namespace: ['minefield'], key: 'c', value: { i: 3 } },
    ]);
    let found: unknown;
    const read = await countRecordsRead(async () => {
      found = await store.search(['mine']);
    });
    expect((found as { key: string }[]).map((item) => item.key)).toEqual(['a', 'b']);
    // Only the two items under the prefix were read: not the 200 others, nor ['minefield'].
    expect(read.get('items')).toBe(2);

    let namespaces: unknown;
    const listed = await countRecordsRead(async () => {
      namespaces = await store.listNamespaces({ prefix: ['other'], maxDepth: 1 });
    });
    expect(namespaces).toEqual([['other']]);
    expect(listed.get('items') ?? 0).toBe(0);
    expect(listed.get('namespaces')).toBe(20);
    expect(await store.listNamespaces({ suffix: ['deep'] })).toEqual([['mine', 'deep']]);
    expect(await store.listNamespaces({ prefix: ['*', 'n1'] })).toEqual([['other', 'n1']]);
    expect(await store.listNamespaces({ limit: 2, offset: 1 })).toEqual([['mine', 'deep'], ['minefield']]);
    expect(await countRecords(store.dbName, 'namespaces')).toBe(23);
  });

  it('pages a search by offset and limit in key order', async () => {
    const store = freshStore();
    await store.batch(['e', 'b', 'd', 'a', 'c'].map((key) => ({ namespace: ['p'], key, value: { key } })));
    expect((await store.search(['p'], { limit: 2 })).map((item) => item.key)).toEqual(['a', 'b']);
    expect((await store.search(['p'], { limit: 2, offset: 2 })).map((item) => item.key)).toEqual(['c', 'd']);
    expect((await store.search(['p'], { offset: 4 })).map((item) => item.key)).toEqual(['e']);
    expect(await store.search(['p'], { limit: 0 })).toEqual([]);
  });

  it('without an index, matches a query as plain text: every word, in any string of the value, ignoring case', async () => {
    const store = freshStore();
    await store.put(['m'], '1', { text: 'The user likes green Tea', topic: 'drinks' });
    await store.put(['m'], '2', { text: 'The user likes coffee', nested: { note: 'no tea after 6pm' } });
    await store.put(['m'], '3', { text: 'Birthday in May' });
    expect((await store.search(['m'], { query: 'tea' })).map((item) => item.key)).toEqual(['1', '2']);
    expect((await store.search(['m'], { query: 'TEA green' })).map((item) => item.key)).toEqual(['1']);
    expect((await store.search(['m'], { query: 'tea', filter: { topic: 'drinks' } })).map((item) => item.key)).toEqual(['1']);
    expect(await store.search(['m'], { query: 'juice' })).toEqual([]);
    expect((await store.search(['m'], { query: 'tea' }))[0]!.score).toBeUndefined();
  });

  it('rejects with QUOTA, and the next call works, where the browser invalidates the connection the quota refused a write on', async () => {
    const store = freshStore();
    await store.put(['notes'], 'kept', { v: 1 });
    const { refusals } = await withFirefoxQuotaRefusal(async () => {
      await expect(store.put(['notes'], 'n', { v: 2 })).rejects.toMatchObject({ code: 'QUOTA', message: expect.stringMatching(/quota is exhausted/) });
      // Space was freed meanwhile: the same write goes through on a new connection.
      await store.put(['notes'], 'n', { v: 2 });
    });
    expect(refusals).toBe(1);
    expect((await store.get(['notes'], 'n'))?.value).toEqual({ v: 2 });
    expect((await store.get(['notes'], 'kept'))?.value).toEqual({ v: 1 });
  });

  it('is usable from several instances at once on one database', async () => {
    const dbName = freshDbName('two-stores');
    const [a, b] = [new BrowserStore({ dbName }), new BrowserStore({ dbName })];
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).put(['shared'], `k${i}`, { i })));
    expect(await a.search(['shared'], { limit: 100 })).toHaveLength(20);
    await a.close();
    await b.close();
    await BrowserStore.deleteDatabase(dbName);
  });

  it('has a read-only reader for inspection: namespaces, items with their expiry, text search, changes', async () => {
    const store = freshStore();
    const reader = openStoreReader(store.dbName);
    const changes: ItemChange[] = [];
    const unsubscribe = reader.subscribe((change) => changes.push(change));
    await store.put(['users', 'ada'], 'likes', { text: 'green tea' }, undefined, { ttl: 60 });
    await store.put(['users', 'bob'], 'likes', { text: 'coffee' });
    await store.delete(['users', 'bob'], 'likes');
    expect(await reader.listNamespaces({ maxDepth: 1 })).toEqual([['users']]);
    expect(await reader.listNamespaces()).toEqual([['users', 'ada']]);
    const [item] = await reader.listItems(['users'], { text: 'tea' });
    expect(item).toMatchObject({ namespace: ['users', 'ada'], key: 'likes', value: { text: 'green tea' } });
    expect(item!.expiresAt! - item!.updatedAt).toBe(60 * 60_000);
    // Reading does not push the expiry on, as the store's own reads do.
    expect((await reader.getItem(['users', 'ada'], 'likes'))!.expiresAt).toBe(item!.expiresAt);
    await vi.waitFor(() => expect(changes).toHaveLength(3));
    expect(changes).toEqual([
      { kind: 'put', namespace: ['users', 'ada'], key: 'likes' },
      { kind: 'put', namespace: ['users', 'bob'], key: 'likes' },
      { kind: 'delete', namespace: ['users', 'bob'], key: 'likes' },
    ]);
    unsubscribe();
    await reader.close();
  });
});
