import { HumanMessage, type BaseMessage } from '@langchain/core/messages';
import { MemorySaver, type BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import {
  BrowserSaver,
  BrowserStore,
  CheckpointError,
  deleteStoredKey,
  deriveKeyFromSecret,
  loadOrCreateKey,
  type CheckpointErrorCode,
} from '../../src/index.js';
import { readCheckpoint } from '../../src/devtools/reader.js';
import { buildChatGraph } from '../support/chat-graph.js';
import { checkpointId, collect, freshDbName, makeCheckpoint, makeMetadata, threadConfig, useFreshSavers } from '../support/fixtures.js';
import { holdsText, readEveryRecord } from '../support/raw-records.js';

const SECRET = 'kestrel-7731-moss';
const newSaver = useFreshSavers('encryption');

const aesKey = () => crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);

async function expectCode(promise: Promise<unknown>, code: CheckpointErrorCode): Promise<CheckpointError> {
  const error = await promise.then(
    () => new Error(`expected a CheckpointError ${code}, but the call succeeded`),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CheckpointError);
  expect((error as CheckpointError).code).toBe(code);
  return error as CheckpointError;
}

/** A chat with the secret in what the user says (so in messages, list items and writes). */
async function chat(saver: BaseCheckpointSaver, thread_id: string, turns: string[]) {
  const graph = buildChatGraph(saver);
  const config = { configurable: { thread_id } };
  for (const text of turns) {
    await graph.invoke({ messages: [new HumanMessage({ id: `human: ${text}`, content: text })] }, config);
  }
  const state = await graph.getState(config);
  const history = await collect(graph.getStateHistory(config));
  return {
    messages: (state.values.messages as BaseMessage[]).map((message) => [message.getType(), message.id, message.content]),
    history: history.map((snapshot) => [snapshot.metadata?.step, snapshot.next, (snapshot.values.messages as BaseMessage[] | undefined)?.length]),
  };
}

const TURNS = [`my code is ${SECRET}`, 'fanout please', `again ${SECRET}`, 'replace it', 'sub summary', 'remove one'];

/** Puts a checkpoint and a write holding the secret directly, outside any graph. */
async function putSecretDirectly(saver: BrowserSaver, thread_id: string) {
  const config = await saver.put(
    threadConfig(thread_id),
    makeCheckpoint('cp-000001', { notes: `a note: ${SECRET}`, list: [SECRET, { text: SECRET }] }, { notes: 1, list: 1 }),
    makeMetadata(0, { secret: SECRET }),
    { notes: 1, list: 1 },
  );
  await saver.putWrites(config, [['notes', `pending ${SECRET}`], ['__error__', { message: SECRET }]], 'task-1');
  return config;
}

describe('encryption at rest', () => {
  it('leaves none of a planted secret in any record of any object store, and reads back what MemorySaver does', async () => {
    const saver = newSaver({ encryption: { key: await aesKey() } });
    expect(saver.encrypted).toBe(true);
    const stored = await chat(saver, 'chat', TURNS);
    await putSecretDirectly(saver, 'direct');
    expect(stored).toEqual(await chat(new MemorySaver(), 'chat', TURNS));
    expect((await saver.getTuple(threadConfig('direct')))?.pendingWrites).toEqual([
      ['task-1', '__error__', { message: SECRET }],
      ['task-1', 'notes', `pending ${SECRET}`],
    ]);

    const records = await readEveryRecord(saver.dbName);
    expect(records['checkpoints']!.length).toBeGreaterThan(10);
    expect(records['writes']!.length).toBeGreaterThan(10);
    // Lists are stored as items: the messages went into list records, each item encrypted on its own.
    expect(records['blobs']!.some((blob) => (blob as { list?: unknown }).list !== undefined)).toBe(true);
    expect(holdsText(records, SECRET)).toBe(false);
    // What stays in clear: ids, channel names, step and source, for the indexes and the timeline.
    expect(records['checkpoints']![0]).toMatchObject({ thread_id: expect.any(String), checkpoint_id: expect.any(String), step: expect.any(Number) });
  });

  it('finds the planted secret in the records of a saver without encryption (the scan can fail)', async () => {
    const saver = newSaver();
    await chat(saver, 'chat', TURNS.slice(0, 1));
    await putSecretDirectly(saver, 'direct');
    expect(holdsText(await readEveryRecord(saver.dbName), SECRET)).toBe(true);
  });

  it('gives DECRYPT for a wrong or missing key, and overwrites nothing', async () => {
    const dbName = freshDbName('wrong-key');
    const right = await aesKey();
    const owner = newSaver({ dbName, encryption: { key: right } });
    const expected = await chat(owner, 'chat', TURNS.slice(0, 3));
    await putSecretDirectly(owner, 'direct');
    await owner.close();
    const before = await readEveryRecord(dbName);

    for (const options of [{ encryption: { key: await aesKey() } }, {}]) {
      const other = newSaver({ dbName, ...options });
      const error = await expectCode(other.getTuple(threadConfig('chat')), 'DECRYPT');
      expect(error.message).toMatch(options.encryption ? /another key/ : /no key was given/);
      await expectCode(collect(other.list({ configurable: { thread_id: 'direct' } })), 'DECRYPT');
      // A graph run stops at its first read; a write of its own stops before storing anything.
      await expectCode(chat(other, 'chat', ['one more']), 'DECRYPT');
      if (options.encryption) {
        await expectCode(putSecretDirectly(other, 'direct'), 'DECRYPT');
        await expectCode(other.putWrites(threadConfig('chat', '', (await readCheckpointIds(dbName, 'chat'))[0]), [['x', 1]], 'task-2'), 'DECRYPT');
      }
      await other.close();
    }
    expect(await readEveryRecord(dbName)).toEqual(before);
    const again = newSaver({ dbName, encryption: { key: right } });
    expect(await chat(again, 'chat', [])).toEqual(expected);
  });

  it('reads records written before encryption was turned on, and continues their lists; turned off, DECRYPT on what was encrypted', async () => {
    const dbName = freshDbName('mixed');
    const clear = newSaver({ dbName });
    await chat(clear, 'chat', TURNS.slice(0, 2));
    const clearIds = await readCheckpointIds(dbName, 'chat');
    await clear.close();

    const key = await aesKey();
    const encrypting = newSaver({ dbName, encryption: { key } });
    const stored = await chat(encrypting, 'chat', TURNS.slice(2));
    expect(stored).toEqual(await chat(new MemorySaver(), 'chat', TURNS));
    await encrypting.close();
    // The new records are encrypted; the old ones stay as they were.
    // (A record stored as a change against its parent's leaves out metadata equal to the parent's.)
    const records = (await readEveryRecord(dbName))['checkpoints'] as { checkpoint_id: string; metadata?: { type: string } }[];
    for (const record of records) expect(record.metadata?.type ?? 'json').toBe(clearIds.includes(record.checkpoint_id) ? 'json' : 'juncture:aes-gcm');

    const turnedOff = newSaver({ dbName });
    const oldest = await turnedOff.getTuple(threadConfig('chat', '', clearIds.at(-1)));
    expect(oldest?.checkpoint.id).toBe(clearIds.at(-1));
    await expectCode(turnedOff.getTuple(threadConfig('chat')), 'DECRYPT');
  });

  it('keeps the small values a parent written in clear holds in its first encrypted child, sealed as values of their own', async () => {
    const dbName = freshDbName('mixed-scalars');
    const clear = newSaver({ dbName });
    const first = await clear.put(threadConfig('t'), makeCheckpoint(checkpointId(1), { topic: SECRET, count: 1 }), makeMetadata(0), { topic: 1, count: 1 });
    await clear.close();
    // Held in the record in clear: no value of its own.
    expect((await readEveryRecord(dbName))['blobs']).toEqual([]);

    const encrypting = newSaver({ dbName, encryption: { key: await aesKey() } });
    const second = await encrypting.put(first, makeCheckpoint(checkpointId(2), { count: 2 }, { topic: 1, count: 2 }), makeMetadata(1), { count: 2 });
    expect((await encrypting.getTuple(second))?.checkpoint.channel_values).toEqual({ topic: SECRET, count: 2 });
    const records = await readEveryRecord(dbName);
    const child = (records['checkpoints'] as { checkpoint_id: string; values?: unknown }[]).find((record) => record.checkpoint_id === checkpointId(2));
    expect(child?.values).toBeUndefined();
    expect((records['blobs'] as { channel: string; value: { type: string } }[]).map(({ channel, value }) => [channel, value.type]).sort()).toEqual([
      ['count', 'juncture:aes-gcm'],
      ['topic', 'juncture:aes-gcm'],
    ]);
    expect(holdsText(records['blobs'], SECRET)).toBe(false);
  });

  it('refuses a key that is not an AES-GCM key for encrypting and decrypting', async () => {
    const hmac = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    expect(() => new BrowserSaver({ encryption: { key: hmac } })).toThrow(/AES-GCM/);
    expect(() => new BrowserSaver({ encryption: { key: 'secret' as unknown as CryptoKey } })).toThrow(/must be a CryptoKey/);
    const encryptOnly = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt']);
    const error = (() => {
      try {
        return new BrowserSaver({ encryption: { key: encryptOnly } });
      } catch (e) {
        return e;
      }
    })();
    expect(CheckpointError.is(error, 'INVALID_CONFIG')).toBe(true);
  });
});

async function readCheckpointIds(dbName: string, thread_id: string): Promise<string[]> {
  const records = (await readEveryRecord(dbName))['checkpoints'] as { thread_id: string; checkpoint_id: string }[];
  return records.filter((record) => record.thread_id === thread_id).map((record) => record.checkpoint_id).sort().reverse();
}

describe('keys', () => {
  it('loadOrCreateKey keeps one non-extractable key per name, which opens what it encrypted after a restart', async () => {
    const keyDb = freshDbName('keys');
    const key = await loadOrCreateKey({ dbName: keyDb });
    expect(key.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('raw', key)).rejects.toThrow();
    const saver = newSaver({ encryption: { key } });
    await putSecretDirectly(saver, 'direct');
    await saver.close();

    const reopened = newSaver({ dbName: saver.dbName, encryption: { key: await loadOrCreateKey({ dbName: keyDb }) } });
    expect((await reopened.getTuple(threadConfig('direct')))?.metadata).toMatchObject({ secret: SECRET });
    const other = newSaver({ dbName: saver.dbName, encryption: { key: await loadOrCreateKey({ dbName: keyDb, name: 'other' }) } });
    await expectCode(other.getTuple(threadConfig('direct')), 'DECRYPT');
    await deleteStoredKey({ dbName: keyDb });
    const replaced = newSaver({ dbName: saver.dbName, encryption: { key: await loadOrCreateKey({ dbName: keyDb }) } });
    await expectCode(replaced.getTuple(threadConfig('direct')), 'DECRYPT');
    await indexedDB.deleteDatabase(keyDb);
  });

  it('deriveKeyFromSecret gives the same key for the same secret and salt, another for another salt', async () => {
    const salt = 'app.example/user-42';
    const saver = newSaver({ encryption: { key: await deriveKeyFromSecret('correct horse', { salt, iterations: 1000 }) } });
    await putSecretDirectly(saver, 'direct');
    const same = newSaver({ dbName: saver.dbName, encryption: { key: await deriveKeyFromSecret('correct horse', { salt, iterations: 1000 }) } });
    expect((await same.getTuple(threadConfig('direct')))?.checkpoint.channel_values['notes']).toBe(`a note: ${SECRET}`);
    for (const key of [
      await deriveKeyFromSecret('correct horse', { salt: `${salt}!`, iterations: 1000 }),
      await deriveKeyFromSecret('wrong horse', { salt, iterations: 1000 }),
    ]) {
      await expectCode(newSaver({ dbName: saver.dbName, encryption: { key } }).getTuple(threadConfig('direct')), 'DECRYPT');
    }
    await expectCode(deriveKeyFromSecret('correct horse', { salt: 'short' }), 'INVALID_CONFIG');
    await expectCode(deriveKeyFromSecret('', { salt }), 'INVALID_CONFIG');
  });
});

describe('devtools reader on an encrypted database', () => {
  it('says "encrypted" for values, metadata and writes it cannot open, and shows them when given the saver to open them', async () => {
    const saver = newSaver({ encryption: { key: await aesKey() } });
    const config = await putSecretDirectly(saver, 'direct');
    const key = { thread_id: 'direct', checkpoint_ns: '', checkpoint_id: config.configurable!['checkpoint_id'] as string };
    const sealed = await readCheckpoint(saver.dbName, key);
    expect(holdsText(sealed, SECRET)).toBe(false);
    expect(sealed).toMatchObject({
      step: 0,
      channel_values: { notes: { $encrypted: expect.any(String) } },
      metadata: { $encrypted: expect.any(String) },
      pending_writes: [{ value: { $encrypted: expect.any(String) } }, { value: { $encrypted: expect.any(String) } }],
    });
    const opened = await readCheckpoint(saver.dbName, key, (typed) => saver.decryptStored(typed));
    expect(opened).toMatchObject({
      channel_values: { notes: `a note: ${SECRET}`, list: [SECRET, { text: SECRET }] },
      metadata: { secret: SECRET },
      pending_writes: expect.arrayContaining([expect.objectContaining({ value: `pending ${SECRET}` })]),
    });
  });
});

describe('BrowserStore with encryption', () => {
  const stores: BrowserStore[] = [];
  const newStore = (options: ConstructorParameters<typeof BrowserStore>[0]) => {
    const store = new BrowserStore(options);
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    for (const store of stores.splice(0)) {
      await store.close().catch(() => undefined);
      await BrowserStore.deleteDatabase(store.dbName);
    }
  });

  it('stores values encrypted beside their clear fields, filters on those, and gives DECRYPT without the key', async () => {
    const dbName = freshDbName('encrypted-store');
    const key = await aesKey();
    // Written in clear before encryption was turned on: still read.
    const before = newStore({ dbName });
    await before.put(['memories', 'u1'], 'old', { kind: 'fact', text: 'written in clear' });
    await before.close();

    const store = newStore({ dbName, encryption: { key, clearFields: ['kind'] } });
    await store.put(['memories', 'u1'], 'code', { kind: 'secret', text: `the code is ${SECRET}` });
    await store.put(['memories', 'u1'], 'pet', { kind: 'fact', text: 'a cat' });
    expect((await store.get(['memories', 'u1'], 'code'))?.value).toEqual({ kind: 'secret', text: `the code is ${SECRET}` });
    expect((await store.search(['memories'], { filter: { kind: 'fact' } })).map((item) => [item.key, item.value['text']])).toEqual([
      ['old', 'written in clear'],
      ['pet', 'a cat'],
    ]);
    await expectCode(store.search(['memories'], { filter: { text: 'a cat' } }), 'INVALID_CONFIG');
    await expectCode(store.search(['memories'], { query: 'cat' }), 'INVALID_CONFIG');

    const records = await readEveryRecord(dbName);
    expect(holdsText(records, SECRET)).toBe(false);
    expect(holdsText(records, 'secret')).toBe(true);

    await expectCode(newStore({ dbName, encryption: { key: await aesKey() } }).get(['memories', 'u1'], 'code'), 'DECRYPT');
    const keyless = newStore({ dbName });
    await expectCode(keyless.get(['memories', 'u1'], 'code'), 'DECRYPT');
    expect((await keyless.get(['memories', 'u1'], 'old'))?.value).toEqual({ kind: 'fact', text: 'written in clear' });
    expect(await readEveryRecord(dbName)).toEqual(records);
  });
});
