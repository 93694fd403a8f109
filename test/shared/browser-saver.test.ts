import { openDB } from 'idb';
import { ERROR, INTERRUPT, JsonPlusSerializer, type SerializerProtocol } from '@langchain/langgraph-checkpoint';
import { BrowserSaver, CheckpointError, SCHEMA_VERSION, type CheckpointChange, type CheckpointErrorCode } from '../../src/index.js';
import {
  checkpointId,
  collect,
  countRecords,
  freshDbName,
  makeCheckpoint,
  makeMetadata,
  putChain,
  threadConfig,
  useFreshSavers,
} from '../support/fixtures.js';
import { withFirefoxQuotaRefusal } from '../support/quota-refusal.js';
import { INLINE_VALUE_MAX_BYTES } from '../../src/storage/records.js';

const newSaver = useFreshSavers();

async function expectCode(promise: Promise<unknown>, code: CheckpointErrorCode, message: RegExp): Promise<CheckpointError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected a CheckpointError ${code}, but the call succeeded`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CheckpointError);
  expect((error as CheckpointError).code).toBe(code);
  expect((error as CheckpointError).message).toMatch(message);
  return error as CheckpointError;
}

const ids = (tuples: { checkpoint: { id: string } }[]) => tuples.map((tuple) => tuple.checkpoint.id);

describe('list', () => {
  let saver: BrowserSaver;
  beforeEach(async () => {
    saver = newSaver();
    // Interleaved ids: thread a root 1,4,7; thread a "sub" 2,5; thread b root 3,6.
    await putChain(saver, 'a', '', [1, 4, 7]);
    await putChain(saver, 'a', 'sub', [2, 5]);
    await putChain(saver, 'b', '', [3, 6]);
  });

  it('lists every thread and namespace newest first', async () => {
    expect(ids(await collect(saver.list({})))).toEqual([7, 6, 5, 4, 3, 2, 1].map(checkpointId));
  });

  it('lists one thread across its namespaces newest first', async () => {
    expect(ids(await collect(saver.list({ configurable: { thread_id: 'a' } })))).toEqual([7, 5, 4, 2, 1].map(checkpointId));
  });

  it('lists one namespace of a thread', async () => {
    expect(ids(await collect(saver.list(threadConfig('a', 'sub'))))).toEqual([5, 2].map(checkpointId));
    expect(ids(await collect(saver.list(threadConfig('a', ''))))).toEqual([7, 4, 1].map(checkpointId));
  });

  it('applies before, after and limit, in every listing shape', async () => {
    const before = threadConfig('a', '', checkpointId(7));
    const after = threadConfig('a', '', checkpointId(2));
    expect(ids(await collect(saver.list({}, { before, after })))).toEqual([6, 5, 4, 3].map(checkpointId));
    expect(ids(await collect(saver.list({ configurable: { thread_id: 'a' } }, { before, after })))).toEqual([5, 4].map(checkpointId));
    expect(ids(await collect(saver.list(threadConfig('a', ''), { before, after })))).toEqual([4].map(checkpointId));
    expect(ids(await collect(saver.list({}, { after, limit: 2 })))).toEqual([7, 6].map(checkpointId));
    expect(ids(await collect(saver.list({}, { before: threadConfig('a', '', checkpointId(1)) })))).toEqual([]);
    expect(ids(await collect(saver.list({}, { after: before, before: after })))).toEqual([]);
  });

  it('after returns just what was stored since a known head, for following a thread', async () => {
    const [head] = await collect(saver.list(threadConfig('a', ''), { limit: 1 }));
    await putChain(saver, 'a', '', [8, 9]);
    expect(ids(await collect(saver.list(threadConfig('a', ''), { after: head!.config })))).toEqual([9, 8].map(checkpointId));
  });

  it('filters by step range without a metadata filter, and with one', async () => {
    expect(ids(await collect(saver.list({}, { step: { gte: 1 } })))).toEqual([7, 6, 5, 4].map(checkpointId));
    expect(ids(await collect(saver.list({}, { step: { lte: 0 } })))).toEqual([3, 2, 1].map(checkpointId));
    expect(ids(await collect(saver.list({ configurable: { thread_id: 'a' } }, { step: { gte: 1, lte: 1 } })))).toEqual([5, 4].map(checkpointId));
    expect(ids(await collect(saver.list({}, { step: { gte: 1 }, filter: { source: 'loop' }, limit: 1 })))).toEqual([checkpointId(7)]);
  });

  it('filters by metadata equality, including nested values', async () => {
    await saver.put(threadConfig('c'), makeCheckpoint(checkpointId(8)), makeMetadata(0, { user: { name: 'ada' } }), {});
    expect(ids(await collect(saver.list({}, { filter: { user: { name: 'ada' } } })))).toEqual([checkpointId(8)]);
    expect(ids(await collect(saver.list({}, { filter: { user: { name: 'bob' } } })))).toEqual([]);
  });

  it('counts the limit after filtering and pages through many checkpoints', async () => {
    const many = Array.from({ length: 150 }, (_, i) => 100 + i);
    await putChain(saver, 'long', '', many);
    const all = await collect(saver.list(threadConfig('long', '')));
    expect(ids(all)).toEqual([...many].reverse().map(checkpointId));
    const firstStep = await collect(saver.list(threadConfig('long', ''), { filter: { step: 0 }, limit: 5 }));
    expect(ids(firstStep)).toEqual([checkpointId(100)]);
    expect(ids(await collect(saver.list({ configurable: { thread_id: 'long' } }, { limit: 70 })))).toHaveLength(70);
  });

  it('restricts to one checkpoint when the config names it', async () => {
    expect(ids(await collect(saver.list(threadConfig('a', 'sub', checkpointId(2)))))).toEqual([checkpointId(2)]);
  });
});

describe('reading pages of checkpoints', () => {
  /** What a tuple holds, to compare a page read by `list` with the same checkpoints read one by one. */
  const contents = (tuple: { checkpoint: { id: string; channel_values: unknown }; pendingWrites?: unknown }) => ({
    id: tuple.checkpoint.id,
    values: tuple.checkpoint.channel_values,
    writes: tuple.pendingWrites,
  });

  it('reads the same page in range requests as one by one, though other branches\' records lie in between', async () => {
    const saver = newSaver();
    // Noise older than the page: versions of channel "c" between the page's, and writes of checkpoints whose
    // ids sort between the page's, far more than a range read takes at once.
    for (let n = 1; n <= 60; n += 1) {
      const version = 100 + n;
      await saver.put(threadConfig('t'), makeCheckpoint(checkpointId(n), { c: `noise ${n}` }, { c: version }), makeMetadata(0), { c: version });
    }
    let parent = threadConfig('t');
    for (let n = 0; n < 10; n += 1) {
      const version = 100 * (n + 1);
      const id = checkpointId(1000 + 10 * n);
      parent = await saver.put(parent, makeCheckpoint(id, { c: `page ${n}`, fixed: 'same' }, { c: version, fixed: 1 }), makeMetadata(n), n === 0 ? { c: version, fixed: 1 } : { c: version });
      await saver.putWrites(parent, [['c', `write ${n}`]], `task-${n}`);
      const between = threadConfig('t', '', checkpointId(1000 + 10 * n + 5));
      await saver.putWrites(between, Array.from({ length: 50 }, (_, i) => ['noise', i] as [string, unknown]), 'noise');
    }
    const page = await collect(saver.list(threadConfig('t', ''), { limit: 10 }));
    expect(page.map((tuple) => tuple.checkpoint.channel_values['c'])).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0].map((n) => `page ${n}`));
    const oneByOne = await Promise.all(page.map((tuple) => saver.getTuple(tuple.config)));
    expect(page.map(contents)).toEqual(oneByOne.map((tuple) => contents(tuple!)));
    expect(page.every((tuple) => tuple.pendingWrites?.length === 1)).toBe(true);
  });

  it('lists the same where the browser cannot read a range newest first in one request', async () => {
    const saver = newSaver();
    await putChain(saver, 'a', '', [1, 4, 7]);
    await putChain(saver, 'a', 'sub', [2, 5]);
    await putChain(saver, 'b', '', [3, 6]);
    const shapes = [{}, { configurable: { thread_id: 'a' } }, threadConfig('a', '')];
    const listed = async () => Promise.all(shapes.map(async (config) => (await collect(saver.list(config, { limit: 2 }))).map(contents)));
    const withRecords = await listed();
    const prototypes = [IDBObjectStore.prototype, IDBIndex.prototype] as unknown as Record<string, unknown>[];
    const hidden = prototypes.map((prototype) => Object.getOwnPropertyDescriptor(prototype, 'getAllRecords'));
    try {
      for (const prototype of prototypes) delete prototype['getAllRecords'];
      expect(await listed()).toEqual(withRecords);
    } finally {
      prototypes.forEach((prototype, i) => hidden[i] && Object.defineProperty(prototype, 'getAllRecords', hidden[i]!));
    }
    expect(withRecords.map((page) => page.map((tuple) => tuple.id))).toEqual([
      [7, 6].map(checkpointId),
      [7, 5].map(checkpointId),
      [7, 4].map(checkpointId),
    ]);
  });
});

describe('put and getTuple', () => {
  it('stores only the channels named in newVersions and rebuilds values from channel_versions', async () => {
    const saver = newSaver();
    const [x, y, z] = ['x', 'y', 'z'].map((letter) => ({ text: letter }));
    const first = await saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1), { a: x, b: y }), makeMetadata(0), { a: 1, b: 1 });
    const second = await saver.put(first, makeCheckpoint(checkpointId(2), { a: x, b: z }, { a: 1, b: 2 }), makeMetadata(1), { b: 2 });
    expect((await countRecords(saver.dbName)).blobs).toBe(3);
    expect((await saver.getTuple(second))?.checkpoint.channel_values).toEqual({ a: x, b: z });
    expect((await saver.getTuple(first))?.checkpoint.channel_values).toEqual({ a: x, b: y });
    expect((await saver.getTuple(second))?.parentConfig).toEqual(threadConfig('t', '', checkpointId(1)));
  });

  it('holds small scalars in the checkpoint record, kept by children while their version stays, also after a reload and on a fork', async () => {
    const saver = newSaver();
    const long = 'l'.repeat(INLINE_VALUE_MAX_BYTES);
    const first = await saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1), { a: 'x', n: 1, none: null, long }), makeMetadata(0), { a: 1, n: 1, none: 1, long: 1 });
    // Only `n` changes; the checkpoint is told nothing of the others' values, as LangGraph's loop tells it.
    const second = await saver.put(first, makeCheckpoint(checkpointId(2), { n: 2 }, { a: 1, n: 2, none: 1, long: 1 }), makeMetadata(1), { n: 2 });
    // A quoted string longer than the limit is a value of its own; everything else is in the two records.
    expect(await countRecords(saver.dbName)).toEqual({ checkpoints: 2, blobs: 1, writes: 0 });
    expect((await saver.getTuple(second))?.checkpoint.channel_values).toEqual({ a: 'x', n: 2, none: null, long });
    expect((await saver.getTuple(first))?.checkpoint.channel_values).toEqual({ a: 'x', n: 1, none: null, long });
    await saver.close();
    // After a reload the saver knows no parent: it reads it to keep its values; a fork of the first does the same.
    const reopened = newSaver({ dbName: saver.dbName });
    const third = await reopened.put(second, makeCheckpoint(checkpointId(3), { n: 3 }, { a: 1, n: 3, none: 1, long: 1 }), makeMetadata(2), { n: 3 });
    const fork = await reopened.put(first, makeCheckpoint(checkpointId(4), { a: 'y' }, { a: 2, n: 1, none: 1, long: 1 }), makeMetadata(1), { a: 2 });
    expect((await reopened.getTuple(third))?.checkpoint.channel_values).toEqual({ a: 'x', n: 3, none: null, long });
    expect((await reopened.getTuple(fork))?.checkpoint.channel_values).toEqual({ a: 'y', n: 1, none: null, long });
    expect(await countRecords(saver.dbName)).toEqual({ checkpoints: 4, blobs: 1, writes: 0 });
  });

  it('keeps the two branches of a fork apart, though both write the next version of a channel', async () => {
    const saver = newSaver();
    const root = await saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1), { a: 'root' }), makeMetadata(0), { a: 1 });
    const branch = async (n: number, value: string) => {
      const version = saver.getNextVersion(1);
      expect(Math.floor(version)).toBe(2);
      return saver.put(root, makeCheckpoint(checkpointId(n), { a: value }, { a: version }), makeMetadata(1), { a: version });
    };
    const left = await branch(2, 'left');
    const right = await branch(3, 'right');
    expect((await saver.getTuple(left))?.checkpoint.channel_values).toEqual({ a: 'left' });
    expect((await saver.getTuple(right))?.checkpoint.channel_values).toEqual({ a: 'right' });
    expect(saver.getNextVersion(saver.getNextVersion(undefined))).toBeGreaterThanOrEqual(2);
  });

  it('returns the greatest id of (thread, namespace) as latest, and undefined for unknown ones', async () => {
    const saver = newSaver();
    await putChain(saver, 't', '', [1, 3]);
    await putChain(saver, 't', 'sub', [5]);
    expect((await saver.getTuple(threadConfig('t')))?.checkpoint.id).toBe(checkpointId(3));
    expect((await saver.getTuple(threadConfig('t', 'sub')))?.checkpoint.id).toBe(checkpointId(5));
    expect(await saver.getTuple(threadConfig('t', '', checkpointId(9)))).toBeUndefined();
    expect(await saver.getTuple(threadConfig('nobody'))).toBeUndefined();
  });

  it('keeps values the structured clone cannot carry, through the serializer', async () => {
    const saver = newSaver();
    const values = { when: new Date(0), nested: { list: [1, 'two', null], bytes: new Uint8Array([1, 2, 3]) } };
    const config = await saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1), values), makeMetadata(0), { when: 1, nested: 1 });
    const restored = (await saver.getTuple(config))!.checkpoint.channel_values;
    expect(restored['nested']).toEqual(values.nested);
    expect(new Date(restored['when'] as string).getTime()).toBe(0);
  });
});

describe('putWrites', () => {
  it('keeps the first regular write and replaces special ones', async () => {
    const saver = newSaver();
    const [config] = await putChain(saver, 't', '', [1]);
    await saver.putWrites(config!, [['messages', 'first'], [ERROR, 'boom 1']], 'task');
    await saver.putWrites(config!, [['messages', 'second'], [ERROR, 'boom 2']], 'task');
    expect((await saver.getTuple(config!))?.pendingWrites).toEqual([
      ['task', ERROR, 'boom 2'],
      ['task', 'messages', 'first'],
    ]);
  });

  it('orders pending writes by task path, then task id, then index', async () => {
    const saver = newSaver();
    const [config] = await putChain(saver, 't', '', [1]);
    await saver.putWrites(config!, [['c', 1], ['c', 2]], 'task-z', '~__pregel_pull, b');
    await saver.putWrites(config!, [['c', 3]], 'task-a', '~__pregel_pull, b');
    await saver.putWrites(config!, [['c', 4], [INTERRUPT, 'ask']], 'task-y', '~__pregel_pull, a');
    await saver.putWrites(config!, [['c', 5]], 'task-x');
    const writes = (await saver.getTuple(config!))?.pendingWrites;
    expect(writes).toEqual([
      ['task-x', 'c', 5],
      ['task-y', INTERRUPT, 'ask'],
      ['task-y', 'c', 4],
      ['task-a', 'c', 3],
      ['task-z', 'c', 1],
      ['task-z', 'c', 2],
    ]);
  });
});

describe('deleteThread', () => {
  it('removes every checkpoint, blob and write of the thread and keeps the others', async () => {
    const saver = newSaver();
    for (const thread of ['gone', 'kept']) {
      const value = (step: number) => ({ counter: { step } });
      const configs = [...(await putChain(saver, thread, '', [1, 2], value)), ...(await putChain(saver, thread, 'sub', [3], value))];
      for (const config of configs) await saver.putWrites(config, [['c', thread]], 'task');
    }
    const keptBefore = await countRecords(saver.dbName, 'kept');
    await saver.deleteThread('gone');
    expect(await countRecords(saver.dbName, 'gone')).toEqual({ checkpoints: 0, blobs: 0, writes: 0 });
    expect(await countRecords(saver.dbName, 'kept')).toEqual(keptBefore);
    expect(keptBefore).toEqual({ checkpoints: 3, blobs: 3, writes: 3 });
    expect(await saver.getTuple(threadConfig('gone'))).toBeUndefined();
  });
});

describe('durability across instances', () => {
  it('a second saver on the same database sees everything the first stored, after close', async () => {
    const first = newSaver();
    const [config] = await putChain(first, 't', 'sub', [1], () => ({ greeting: 'hello' }));
    await first.putWrites(config!, [['greeting', 'pending']], 'task', 'path');
    const before = await collect(first.list({}));
    await first.close();
    const second = newSaver({ dbName: first.dbName });
    expect(await collect(second.list({}))).toEqual(before);
    expect((await second.getTuple(config!))?.pendingWrites).toEqual([['task', 'greeting', 'pending']]);
  });
});

describe('errors', () => {
  it('INVALID_CONFIG names the missing or wrong key', async () => {
    const saver = newSaver();
    await expectCode(saver.put({}, makeCheckpoint('x'), makeMetadata(0), {}), 'INVALID_CONFIG', /configurable/);
    await expectCode(saver.put({ configurable: {} }, makeCheckpoint('x'), makeMetadata(0), {}), 'INVALID_CONFIG', /thread_id must be a non-empty string, got nothing/);
    await expectCode(saver.put({ configurable: { thread_id: 7 } }, makeCheckpoint('x'), makeMetadata(0), {}), 'INVALID_CONFIG', /thread_id .* got a number/);
    await expectCode(saver.put(threadConfig('t'), makeCheckpoint(''), makeMetadata(0), {}), 'INVALID_CONFIG', /checkpoint\.id/);
    await expectCode(saver.putWrites(threadConfig('t'), [['c', 1]], 'task'), 'INVALID_CONFIG', /checkpoint_id/);
    await expectCode(saver.putWrites(threadConfig('t', '', 'x'), [['c', 1]], ''), 'INVALID_CONFIG', /taskId/);
    await expectCode(saver.getTuple({ configurable: { thread_id: 't', checkpoint_ns: 3 } }), 'INVALID_CONFIG', /checkpoint_ns must be a string/);
    await expectCode(collect(saver.list({}, { step: { gte: '1' as unknown as number } })), 'INVALID_CONFIG', /step\.gte/);
    await expectCode(saver.deleteThread(undefined as unknown as string), 'INVALID_CONFIG', /threadId/);
    expect(() => new BrowserSaver({ durability: 'fast' as 'strict' })).toThrow(/durability must be one of/);
    expect(() => new BrowserSaver({ dbName: '' })).toThrow(CheckpointError);
  });

  it('SERIALIZE when the serializer fails, and nothing is stored', async () => {
    const failing: SerializerProtocol = {
      dumpsTyped: async () => {
        throw new TypeError('cannot encode');
      },
      loadsTyped: async () => undefined,
    };
    const saver = newSaver({ serde: failing });
    await expectCode(saver.put(threadConfig('t'), makeCheckpoint('x', { a: 1 }), makeMetadata(0), { a: 1 }), 'SERIALIZE', /checkpoint x.*cannot encode/);
    expect(await countRecords(saver.dbName)).toEqual({ checkpoints: 0, blobs: 0, writes: 0 });
  });

  it('DESERIALIZE for a corrupt record and for an unknown type tag', async () => {
    const saver = newSaver();
    const [config] = await putChain(saver, 't', '', [1]);
    const db = await openDB(saver.dbName);
    const record = await db.get('checkpoints', ['t', '', checkpointId(1)]);
    await db.put('checkpoints', { ...record, metadata: { type: 'msgpack-v9', bytes: new Uint8Array([1]) } });
    await expectCode(saver.getTuple(config!), 'DESERIALIZE', /metadata of checkpoint .*"msgpack-v9"/);
    await db.put('checkpoints', { ...record, checkpoint: 'garbage' });
    await expectCode(saver.getTuple(config!), 'DESERIALIZE', /corrupt/);
    db.close();
  });

  /** Makes the n-th `put` on any object store throw `error`, as a failing disk or a full quota would. */
  async function withFailingPut<T>(n: number, error: () => Error, body: () => Promise<T>): Promise<T> {
    const put = IDBObjectStore.prototype.put;
    let calls = 0;
    IDBObjectStore.prototype.put = function failing(this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      calls += 1;
      if (calls === n) throw error();
      return put.apply(this, args);
    };
    try {
      return await body();
    } finally {
      IDBObjectStore.prototype.put = put;
    }
  }

  it('STORAGE when IndexedDB fails mid-transaction: the cause is kept and nothing of the call is stored', async () => {
    const saver = newSaver();
    const [config] = await putChain(saver, 't', '', [1], () => ({ a: { text: 'first' } }));
    const error = await withFailingPut(2, () => new DOMException('Disk is broken.', 'UnknownError'), () =>
      expectCode(
        saver.put(config!, makeCheckpoint(checkpointId(2), { a: { text: 'second' }, b: { text: 'third' } }), makeMetadata(1), { a: 2, b: 2 }),
        'STORAGE',
        /Storing checkpoint cp-000002 failed in IndexedDB \(UnknownError: Disk is broken/,
      ),
    );
    expect((error.cause as Error).name).toBe('UnknownError');
    expect(await countRecords(saver.dbName)).toEqual({ checkpoints: 1, blobs: 1, writes: 0 });
    expect((await saver.getTuple(threadConfig('t')))?.checkpoint.id).toBe(checkpointId(1));
  });

  it('INVALID_CONFIG for a channel version IndexedDB cannot key, before anything is stored', async () => {
    const saver = newSaver();
    await expectCode(
      saver.put(threadConfig('t'), makeCheckpoint('x', { a: 1 }), makeMetadata(0), { a: { not: 'a key' } as unknown as number }),
      'INVALID_CONFIG',
      /version of channel "a"/,
    );
    expect(await countRecords(saver.dbName)).toEqual({ checkpoints: 0, blobs: 0, writes: 0 });
  });

  it('QUOTA when the browser refuses to store more, leaving earlier data readable', async () => {
    const saver = newSaver();
    const [config] = await putChain(saver, 't', '', [1], () => ({ a: { text: 'first' } }));
    const heard: CheckpointChange[] = [];
    const unsubscribe = saver.subscribe((change) => heard.push(change));
    await withFailingPut(2, () => new DOMException('The quota has been exceeded.', 'QuotaExceededError'), () =>
      expectCode(saver.put(config!, makeCheckpoint(checkpointId(2), { a: { text: 'second' } }), makeMetadata(1), { a: 2 }), 'QUOTA', /quota is exhausted/),
    );
    expect(await countRecords(saver.dbName)).toEqual({ checkpoints: 1, blobs: 1, writes: 0 });
    expect((await saver.getTuple(threadConfig('t')))?.checkpoint.id).toBe(checkpointId(1));
    await vi.waitFor(() => expect(heard).toContainEqual({ kind: 'quota', action: `Storing checkpoint ${checkpointId(2)}` }));
    unsubscribe();
  });

  it('QUOTA, and the next call works, where the browser invalidates the connection the quota refused a write on', async () => {
    const saver = newSaver();
    const [config] = await putChain(saver, 't', '', [1]);
    const { refusals } = await withFirefoxQuotaRefusal(async () => {
      await expectCode(saver.put(config!, makeCheckpoint(checkpointId(2), { a: 1 }), makeMetadata(1), { a: 2 }), 'QUOTA', /quota is exhausted/);
      // Space was freed meanwhile: the same write goes through on a new connection.
      await saver.put(config!, makeCheckpoint(checkpointId(2), { a: 1 }), makeMetadata(1), { a: 2 });
    });
    expect(refusals).toBe(1);
    expect((await saver.getTuple(threadConfig('t')))?.checkpoint.id).toBe(checkpointId(2));
  });

  it('MIGRATION for a database of a newer schema, and for one created by something else', async () => {
    const newer = freshDbName();
    (await openDB(newer, SCHEMA_VERSION + 1)).close();
    const saver = newSaver({ dbName: newer });
    await expectCode(saver.getTuple(threadConfig('t')), 'MIGRATION', /newer schema/);

    const foreign = freshDbName();
    (await openDB(foreign, SCHEMA_VERSION, { upgrade: (db) => db.createObjectStore('todos') })).close();
    await expectCode(newSaver({ dbName: foreign }).getTuple(threadConfig('t')), 'MIGRATION', /created by something else/);
  });

  it('UNAVAILABLE where there is no IndexedDB', async () => {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'indexedDB')!;
    Object.defineProperty(globalThis, 'indexedDB', { value: undefined, configurable: true, writable: true });
    try {
      await expectCode(new BrowserSaver({ dbName: freshDbName() }).getTuple(threadConfig('t')), 'UNAVAILABLE', /IndexedDB is not available/);
    } finally {
      Object.defineProperty(globalThis, 'indexedDB', descriptor);
    }
  });

  it('CLOSED after close(), while the data stays for the next saver', async () => {
    const saver = newSaver();
    await putChain(saver, 't', '', [1]);
    await saver.close();
    await expectCode(saver.getTuple(threadConfig('t')), 'CLOSED', /was closed/);
    await expectCode(saver.put(threadConfig('t'), makeCheckpoint('y'), makeMetadata(0), {}), 'CLOSED', /was closed/);
  });

  it('the default serializer is LangGraph\'s JSON-plus one', () => {
    expect(newSaver().serde).toBeInstanceOf(JsonPlusSerializer);
  });
});

describe('call order', () => {
  it('a read sees a write called before it, even one not awaited, and writes never overtake each other', async () => {
    const saver = newSaver();
    const big = { text: 'x'.repeat(200_000) };
    const put = saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1), big), makeMetadata(0), { text: 1 });
    const deleted = saver.deleteThread('t');
    const read = saver.getTuple(threadConfig('t'));
    await Promise.all([put, deleted]);
    expect(await read).toBeUndefined();
    const again = saver.put(threadConfig('t'), makeCheckpoint(checkpointId(2), big), makeMetadata(0), { text: 1 });
    expect((await saver.getTuple(threadConfig('t')))?.checkpoint.id).toBe(checkpointId(2));
    await again;
  });

  it('subscribe hears every commit: checkpoints, writes and deletions', async () => {
    const saver = newSaver();
    const heard: unknown[] = [];
    const unsubscribe = saver.subscribe((change) => heard.push(change));
    const [config] = await putChain(saver, 't', 'sub', [1]);
    await saver.putWrites(config!, [['c', 1]], 'task');
    await saver.deleteThread('t');
    await vi.waitFor(() => expect(heard).toHaveLength(3));
    unsubscribe();
    expect(heard).toEqual([
      { kind: 'checkpoint', thread_id: 't', checkpoint_ns: 'sub', checkpoint_id: checkpointId(1) },
      { kind: 'writes', thread_id: 't', checkpoint_ns: 'sub', checkpoint_id: checkpointId(1), task_id: 'task' },
      { kind: 'delete', thread_id: 't' },
    ]);
  });
});

describe('another connection changing the database', () => {
  it('a deletion elsewhere makes the saver step aside, say so once, and reopen on its next call', async () => {
    const saver = newSaver();
    await putChain(saver, 't', '', [1]);
    const heard: string[] = [];
    const unsubscribe = saver.subscribe((change) => heard.push(change.kind));
    await BrowserSaver.deleteDatabase(saver.dbName);
    expect(await saver.getTuple(threadConfig('t'))).toBeUndefined();
    await putChain(saver, 't', '', [2]);
    expect((await saver.getTuple(threadConfig('t')))?.checkpoint.id).toBe(checkpointId(2));
    await vi.waitFor(() => expect(heard).toContain('versionchange'));
    expect(heard.filter((kind) => kind === 'versionchange')).toHaveLength(1);
    unsubscribe();
  });

  it('an upgrade elsewhere to a newer schema is not blocked, and the next call gets MIGRATION instead of hanging', async () => {
    const saver = newSaver();
    await putChain(saver, 't', '', [1]);
    const newer = await openDB(saver.dbName, SCHEMA_VERSION + 1);
    newer.close();
    await expectCode(saver.getTuple(threadConfig('t')), 'MIGRATION', /newer schema/);
  });
});
