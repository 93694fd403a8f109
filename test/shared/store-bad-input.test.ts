import { CheckpointError, type CheckpointErrorCode } from '../../src/index.js';
import { useFreshStores, WordCountEmbeddings } from '../support/store-fixtures.js';
import { BrowserStore } from '../../src/index.js';
import { openDB } from 'idb';
import { freshDbName } from '../support/fixtures.js';

async function failure(promise: Promise<unknown>): Promise<CheckpointError> {
  const error = await promise.then(() => undefined, (thrown: unknown) => thrown);
  expect(error).toBeInstanceOf(CheckpointError);
  return error as CheckpointError;
}

class Point {
  constructor(readonly x: number) {}
}

describe('BrowserStore refuses bad input with typed errors', () => {
  const freshStore = useFreshStores('store-bad-input');

  it.each<[string, unknown, RegExp]>([
    ['an empty namespace', [], /cannot be empty/],
    ['an empty label', ['a', ''], /cannot be empty strings/],
    ['a label with a period', ['a.b'], /periods/],
    ['a label with a colon', ['a:b'], /colons/],
    ['a non-string label', ['a', 3], /must be strings/],
    ['the reserved root', ['langgraph', 'x'], /cannot be "langgraph"/],
    ['a string instead of an array', 'users', /must be an array of strings/],
  ])('put with %s', async (_, namespace, message) => {
    const error = await failure(freshStore().put(namespace as string[], 'k', { v: 1 }));
    expect(error.code).toBe<CheckpointErrorCode>('INVALID_CONFIG');
    expect(error.message).toMatch(message);
  });

  it('reads with bad namespaces and keys', async () => {
    const store = freshStore();
    expect((await failure(store.get([], 'k'))).code).toBe('INVALID_CONFIG');
    expect((await failure(store.search(['a.b']))).code).toBe('INVALID_CONFIG');
    expect((await failure(store.listNamespaces({ prefix: ['a:b'] }))).code).toBe('INVALID_CONFIG');
    expect((await failure(store.get(['a'], 7 as unknown as string))).message).toMatch(/key must be a string, got number 7/);
    expect((await failure(store.put(['a'], undefined as unknown as string, { v: 1 }))).code).toBe('INVALID_CONFIG');
    expect((await failure(store.search(['a'], { limit: -1 }))).message).toMatch(/limit must be an integer of at least 0/);
    expect((await failure(store.search(['a'], { offset: 1.5 }))).code).toBe('INVALID_CONFIG');
    expect((await failure(store.listNamespaces({ maxDepth: 0 }))).message).toMatch(/maxDepth must be an integer of at least 1/);
  });

  it.each<[string, unknown, RegExp]>([
    ['an array', [1, 2], /must be a plain object, got an array/],
    ['a string', 'tea', /must be a plain object/],
    ['a class instance', new Point(1), /must be a plain object, got an instance of Point/],
    ['a nested Date', { when: new Date(0) }, /value.when is an instance of Date/],
    ['a nested class instance', { at: [new Point(1)] }, /value.at\[0\] is an instance of Point/],
    ['a function', { f: () => 1 }, /value.f is a function/],
    ['a BigInt', { n: 10n }, /value.n is a bigint/],
    ['NaN', { n: Number.NaN }, /value.n is NaN/],
    ['Infinity', { n: Infinity }, /value.n is Infinity/],
    ['undefined in an array', { list: [undefined] }, /value.list\[0\] is undefined/],
  ])('a value that is %s', async (_, value, message) => {
    const store = freshStore();
    const error = await failure(store.put(['a'], 'k', value as Record<string, unknown>));
    expect(error.code).toBe<CheckpointErrorCode>('SERIALIZE');
    expect(error.message).toMatch(message);
    expect(await store.get(['a'], 'k')).toBeNull();
  });

  it('a value that contains itself', async () => {
    const value: Record<string, unknown> = { a: 1 };
    value['self'] = { inner: value };
    expect((await failure(freshStore().put(['a'], 'k', value))).message).toMatch(/value.self.inner refers back/);
  });

  it('reads an undefined property back as absent, as JSON would', async () => {
    const store = freshStore();
    await store.put(['a'], 'k', { kept: 1, dropped: undefined });
    expect(await store.search(['a'], { filter: { dropped: { $exists: false } } })).toHaveLength(1);
  });

  it('a bad operation fails its whole batch before anything is written or embedded', async () => {
    const embeddings = new WordCountEmbeddings();
    const store = freshStore({ index: { dims: embeddings.dims, embeddings } });
    const error = await failure(
      store.batch([
        { namespace: ['a'], key: 'good', value: { v: 1 } },
        { namespacePrefix: ['a'], filter: { v: { $near: 1 } }, limit: 10, offset: 0 },
      ]),
    );
    expect(error.code).toBe('INVALID_CONFIG');
    expect(embeddings.embedded).toEqual([]);
    expect(await store.get(['a'], 'good')).toBeNull();
    expect((await failure(store.batch([{ nothing: true } as never]))).message).toMatch(/neither a get, a search, a put nor a namespace listing/);
  });

  it('bad index configuration and index arguments', async () => {
    const embeddings = new WordCountEmbeddings();
    expect(() => new BrowserStore({ index: { dims: 0, embeddings } })).toThrow(/index.dims must be a positive integer/);
    expect(() => new BrowserStore({ index: { dims: 4, embeddings: {} as WordCountEmbeddings } })).toThrow(/embedDocuments and embedQuery/);
    expect(() => new BrowserStore({ index: { dims: 4, embeddings, fields: ['a..b]'] } })).toThrow(CheckpointError);
    expect(() => new BrowserStore({ dbName: '' })).toThrow(/dbName must be a non-empty string/);
    const store = freshStore({ index: { dims: embeddings.dims, embeddings } });
    expect((await failure(store.put(['a'], 'k', { v: 1 }, 'v' as unknown as string[]))).message).toMatch(/index must be false or an array/);
  });

  it('calls after close fail with CLOSED', async () => {
    const store = freshStore();
    await store.put(['a'], 'k', { v: 1 });
    await store.close();
    expect((await failure(store.get(['a'], 'k'))).code).toBe('CLOSED');
  });

  it('UNAVAILABLE where there is no IndexedDB', async () => {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'indexedDB')!;
    Object.defineProperty(globalThis, 'indexedDB', { value: undefined, configurable: true, writable: true });
    try {
      const error = await failure(new BrowserStore({ dbName: freshDbName() }).get(['a'], 'k'));
      expect(error.code).toBe('UNAVAILABLE');
    } finally {
      Object.defineProperty(globalThis, 'indexedDB', descriptor);
    }
  });

  it('MIGRATION for a store database of a newer schema, which stays as it was', async () => {
    const dbName = freshDbName('newer-store');
    const newer = await openDB(dbName, 7, { upgrade: (db) => void db.createObjectStore('future') });
    newer.close();
    const store = new BrowserStore({ dbName });
    const error = await failure(store.put(['a'], 'k', { v: 1 }));
    expect(error.code).toBe('MIGRATION');
    expect(error.message).toMatch(/newer schema/);
    const reopened = await openDB(dbName);
    expect([reopened.version, [...reopened.objectStoreNames]]).toEqual([7, ['future']]);
    reopened.close();
    await store.close();
    await BrowserStore.deleteDatabase(dbName);
  });
});
