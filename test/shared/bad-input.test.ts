import { openDB } from 'idb';
import type { RunnableConfig } from '@langchain/core/runnables';
import type { Checkpoint, SerializerProtocol } from '@langchain/langgraph-checkpoint';
import { BrowserSaver, CheckpointError, SCHEMA_VERSION, type CheckpointErrorCode } from '../../src/index.js';
import { checkpointId, collect, countRecords, freshDbName, makeCheckpoint, makeMetadata, putChain, threadConfig } from '../support/fixtures.js';

/**
 * The bad-input catalogue: every wrong call gets a `CheckpointError` whose code and message name the problem,
 * and nothing that was already stored is lost.
 */
type Case = {
  name: string;
  code: CheckpointErrorCode;
  message: RegExp;
  call(saver: BrowserSaver, stored: RunnableConfig): Promise<unknown>;
  /** A saver made differently for this case (another serializer, a prepared database). */
  saver?(dbName: string): Promise<BrowserSaver> | BrowserSaver;
};

const asAny = <T>(value: unknown) => value as T;

const CASES: Case[] = [
  {
    name: 'put without configurable',
    code: 'INVALID_CONFIG',
    message: /no "configurable" object/,
    call: (saver) => saver.put({}, makeCheckpoint('x'), makeMetadata(0), {}),
  },
  {
    name: 'put without thread_id',
    code: 'INVALID_CONFIG',
    message: /thread_id must be a non-empty string, got nothing/,
    call: (saver) => saver.put({ configurable: {} }, makeCheckpoint('x'), makeMetadata(0), {}),
  },
  {
    name: 'put with a numeric thread_id',
    code: 'INVALID_CONFIG',
    message: /thread_id must be a non-empty string, got a number/,
    call: (saver) => saver.put({ configurable: { thread_id: 42 } }, makeCheckpoint('x'), makeMetadata(0), {}),
  },
  {
    name: 'put with an empty thread_id',
    code: 'INVALID_CONFIG',
    message: /thread_id must be a non-empty string, got ""/,
    call: (saver) => saver.put({ configurable: { thread_id: '' } }, makeCheckpoint('x'), makeMetadata(0), {}),
  },
  {
    name: 'put with a non-string checkpoint_ns',
    code: 'INVALID_CONFIG',
    message: /checkpoint_ns must be a string, got an array/,
    call: (saver) => saver.put({ configurable: { thread_id: 't', checkpoint_ns: [] } }, makeCheckpoint('x'), makeMetadata(0), {}),
  },
  {
    name: 'put of a checkpoint that is not an object',
    code: 'INVALID_CONFIG',
    message: /the checkpoint must be an object/,
    call: (saver) => saver.put(threadConfig('t'), asAny<Checkpoint>(null), makeMetadata(0), {}),
  },
  {
    name: 'put of a checkpoint without an id',
    code: 'INVALID_CONFIG',
    message: /checkpoint\.id must be a non-empty string/,
    call: (saver) => saver.put(threadConfig('t'), { ...makeCheckpoint('x'), id: asAny<string>(undefined) }, makeMetadata(0), {}),
  },
  {
    name: 'put with a channel version IndexedDB cannot key',
    code: 'INVALID_CONFIG',
    message: /version of channel "a" must be a finite number or a string, got object/,
    call: (saver) => saver.put(threadConfig('t'), makeCheckpoint('x', { a: 1 }), makeMetadata(0), { a: asAny<number>({}) }),
  },
  {
    name: 'put with a channel named __proto__',
    code: 'INVALID_CONFIG',
    message: /channel name "__proto__" is reserved/,
    call: (saver) => saver.put(threadConfig('t'), makeCheckpoint('x', JSON.parse('{"__proto__": 1}')), makeMetadata(0), JSON.parse('{"__proto__": 1}')),
  },
  {
    name: 'put of a value JSON cannot carry (BigInt)',
    code: 'SERIALIZE',
    message: /Channel "big" of checkpoint x cannot be serialized: it holds something JSON cannot carry/,
    call: (saver) => saver.put(threadConfig('t'), makeCheckpoint('x', { big: 10n }), makeMetadata(0), { big: 1 }),
  },
  {
    name: 'put with a serializer that throws',
    code: 'SERIALIZE',
    message: /Could not serialize checkpoint x: TypeError: cannot encode/,
    saver: (dbName) =>
      new BrowserSaver({
        dbName,
        serde: {
          dumpsTyped: async (value: unknown) => {
            if (typeof value === 'object' && value !== null && 'unencodable' in value) throw new TypeError('cannot encode');
            return ['json', new TextEncoder().encode(JSON.stringify(value))];
          },
          loadsTyped: async (_type: string, bytes: Uint8Array | string) => JSON.parse(typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes)),
        } satisfies SerializerProtocol,
      }),
    // The serialized checkpoint leaves its id to the record: the serializer knows it by its versions_seen.
    call: (saver) => saver.put(threadConfig('t'), asAny<Checkpoint>({ ...makeCheckpoint('x'), unencodable: true }), makeMetadata(0), {}),
  },
  {
    name: 'put with a serializer that returns no bytes',
    code: 'SERIALIZE',
    message: /The serializer returned number for checkpoint x; expected a Uint8Array/,
    saver: (dbName) =>
      new BrowserSaver({
        dbName,
        serde: {
          dumpsTyped: async (value: unknown) =>
            typeof value === 'object' && value !== null && 'unencodable' in value
              ? asAny<[string, Uint8Array]>(['json', 7])
              : ['json', new TextEncoder().encode(JSON.stringify(value))],
          loadsTyped: async (_type: string, bytes: Uint8Array | string) => JSON.parse(typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes)),
        },
      }),
    // The serialized checkpoint leaves its id to the record: the serializer knows it by its versions_seen.
    call: (saver) => saver.put(threadConfig('t'), asAny<Checkpoint>({ ...makeCheckpoint('x'), unencodable: true }), makeMetadata(0), {}),
  },
  {
    name: 'putWrites without checkpoint_id',
    code: 'INVALID_CONFIG',
    message: /checkpoint_id must be a non-empty string, got nothing/,
    call: (saver) => saver.putWrites(threadConfig('t'), [['c', 1]], 'task'),
  },
  {
    name: 'putWrites with writes that are not an array',
    code: 'INVALID_CONFIG',
    message: /writes must be an array of \[channel, value\] pairs/,
    call: (saver, stored) => saver.putWrites(stored, asAny<[string, unknown][]>({ c: 1 }), 'task'),
  },
  {
    name: 'putWrites with a write that is not a pair',
    code: 'INVALID_CONFIG',
    message: /write 1 is not a \[channel, value\] pair/,
    call: (saver, stored) => saver.putWrites(stored, asAny<[string, unknown][]>([['c', 1], 'c']), 'task'),
  },
  {
    name: 'putWrites with an empty task id',
    code: 'INVALID_CONFIG',
    message: /taskId must be a non-empty string/,
    call: (saver, stored) => saver.putWrites(stored, [['c', 1]], ''),
  },
  {
    name: 'putWrites with a task path that is not a string',
    code: 'INVALID_CONFIG',
    message: /taskPath must be a string, got number/,
    call: (saver, stored) => saver.putWrites(stored, [['c', 1]], 'task', asAny<string>(3)),
  },
  {
    name: 'getTuple with a numeric checkpoint_id',
    code: 'INVALID_CONFIG',
    message: /checkpoint_id must be a string, got a number/,
    call: (saver) => saver.getTuple({ configurable: { thread_id: 't', checkpoint_id: 5 } }),
  },
  {
    name: 'list with a limit that is not a number',
    code: 'INVALID_CONFIG',
    message: /options\.limit must be a number, got string/,
    call: (saver) => collect(saver.list({}, { limit: asAny<number>('10') })),
  },
  {
    name: 'list with before that names a numeric id',
    code: 'INVALID_CONFIG',
    message: /list \(options\.before\): config\.configurable\.checkpoint_id must be a string/,
    call: (saver) => collect(saver.list({}, { before: { configurable: { checkpoint_id: 1 } } })),
  },
  {
    name: 'deleteThread without a thread id',
    code: 'INVALID_CONFIG',
    message: /threadId must be a non-empty string, got nothing/,
    call: (saver) => saver.deleteThread(asAny<string>(undefined)),
  },
  {
    name: 'a stored record whose bytes are corrupt',
    code: 'DESERIALIZE',
    message: /stored record of checkpoint cp-000001 is corrupt/,
    call: async (saver, stored) => {
      const db = await openDB(saver.dbName);
      const record = await db.get('checkpoints', ['t', '', checkpointId(1)]);
      await db.put('checkpoints', { ...record, checkpoint: { type: 'json' } });
      db.close();
      return saver.getTuple(stored);
    },
  },
  {
    name: 'a stored value with an unknown serializer type tag',
    code: 'DESERIALIZE',
    message: /channel "counter" of checkpoint cp-000001 \(type tag "msgpack"\)/,
    call: async (saver, stored) => {
      const db = await openDB(saver.dbName);
      const key = (await db.getAllKeys('blobs'))[0]!;
      const blob = await db.get('blobs', key);
      await db.put('blobs', { ...blob, value: { type: 'msgpack', bytes: new Uint8Array([1]) } });
      db.close();
      return saver.getTuple(stored);
    },
  },
  {
    name: 'a value held in a checkpoint record with an unknown serializer type tag',
    code: 'DESERIALIZE',
    message: /channel "counter" of checkpoint cp-000001 \(type tag "msgpack"\)/,
    call: async (saver, stored) => {
      const db = await openDB(saver.dbName);
      const key = (await db.getAllKeys('checkpoints'))[0]!;
      const record = await db.get('checkpoints', key);
      await db.put('checkpoints', { ...record, values: { counter: { type: 'msgpack', bytes: new Uint8Array([1]) } } });
      db.close();
      return saver.getTuple(stored);
    },
  },
  {
    name: 'a stored list with a tag this release does not know',
    code: 'DESERIALIZE',
    message: /stored list of channel "counter" of checkpoint cp-000001 has the unknown tag "future-wrapper"/,
    call: async (saver, stored) => {
      const db = await openDB(saver.dbName);
      const key = (await db.getAllKeys('blobs'))[0]!;
      const blob = await db.get('blobs', key);
      const list = { items: [{ type: 'json', bytes: new TextEncoder().encode('1') }], depth: 0, runs: [{ own: 0, count: 1 }], tag: 'future-wrapper' };
      await db.put('blobs', { ...blob, value: null, list });
      db.close();
      return saver.getTuple(stored);
    },
  },
  {
    name: 'a stored list that builds on a version that is not stored',
    code: 'DESERIALIZE',
    message: /stored list of channel "counter" refers to its version 999, which is not stored: the database is corrupt/,
    call: async (saver, stored) => {
      const db = await openDB(saver.dbName);
      const key = (await db.getAllKeys('blobs'))[0]!;
      const blob = await db.get('blobs', key);
      await db.put('blobs', { ...blob, value: null, list: { items: [], base: 999 } });
      db.close();
      return saver.getTuple(stored);
    },
  },
  {
    name: 'a stored list that refers to items its record does not hold',
    code: 'DESERIALIZE',
    message: /stored list of channel "counter" at version 1 holds 1 items, and a list refers to its item 1: the database is corrupt/,
    call: async (saver, stored) => {
      const db = await openDB(saver.dbName);
      const key = (await db.getAllKeys('blobs'))[0]!;
      const blob = await db.get('blobs', key);
      await db.put('blobs', { ...blob, value: null, list: { items: [{ type: 'json', bytes: new TextEncoder().encode('1') }], runs: [{ own: 0, count: 2 }] } });
      db.close();
      return saver.getTuple(stored);
    },
  },
];

/** Cases about the database itself, where nothing of ours can be stored first. */
const DATABASE_CASES: Case[] = [
  {
    name: 'a database created by something else under our name',
    code: 'MIGRATION',
    message: /created by something else/,
    saver: async (dbName) => {
      (await openDB(dbName, SCHEMA_VERSION, { upgrade: (db) => db.createObjectStore('todos') })).close();
      return new BrowserSaver({ dbName });
    },
    call: (saver) => saver.getTuple(threadConfig('t')),
  },
  {
    name: 'a database of a newer schema',
    code: 'MIGRATION',
    message: /newer schema/,
    saver: async (dbName) => {
      (await openDB(dbName, SCHEMA_VERSION + 1)).close();
      return new BrowserSaver({ dbName });
    },
    call: (saver) => saver.getTuple(threadConfig('t')),
  },
  {
    name: 'options of the wrong type',
    code: 'INVALID_CONFIG',
    message: /durability must be one of default, strict, relaxed, got "fast"/,
    call: async () => new BrowserSaver({ durability: asAny<'strict'>('fast') }),
  },
];

async function expectError(promise: Promise<unknown>, code: CheckpointErrorCode, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error, 'the call should have failed').toBeInstanceOf(CheckpointError);
  expect((error as CheckpointError).code).toBe(code);
  expect((error as CheckpointError).message).toMatch(message);
}

describe('the bad-input catalogue', () => {
  it('has at least fifteen cases', () => {
    expect(CASES.length + DATABASE_CASES.length).toBeGreaterThanOrEqual(15);
  });

  it.each(CASES)('$name → $code, and what was stored stays', async ({ code, message, call, saver: make }) => {
    const dbName = freshDbName('bad-input');
    const saver = make ? await make(dbName) : new BrowserSaver({ dbName });
    try {
      // An object, stored as a value of its own, which the cases may corrupt (a small scalar would be in the record).
      const [stored] = await putChain(saver, 't', '', [1], () => ({ counter: { n: 0 } }));
      await saver.putWrites(stored!, [['counter', 'pending']], 'task');
      const before = await countRecords(dbName);
      await expectError(Promise.resolve().then(() => call(saver, stored!)), code, message);
      // Corrupting a record is the case's own doing; everything else must be exactly as it was.
      expect(await countRecords(dbName)).toEqual(before);
      if (code !== 'DESERIALIZE') {
        expect((await saver.getTuple(threadConfig('t')))?.checkpoint.channel_values).toEqual({ counter: { n: 0 } });
      }
    } finally {
      await saver.close();
      await BrowserSaver.deleteDatabase(dbName);
    }
  });

  it.each(DATABASE_CASES)('$name → $code', async ({ code, message, call, saver: make }) => {
    const dbName = freshDbName('bad-db');
    const saver = make ? await make(dbName) : new BrowserSaver({ dbName });
    try {
      await expectError(Promise.resolve().then(() => call(saver, threadConfig('t'))), code, message);
    } finally {
      await saver.close();
      await BrowserSaver.deleteDatabase(dbName);
    }
  });
});
