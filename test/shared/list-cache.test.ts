import { MemorySaver } from '@langchain/langgraph-checkpoint';
import { BrowserSaver } from '../../src/index.js';
import type { CheckpointStorage } from '../../src/storage/storage.js';
import { buffersOfTuples } from '../../src/worker/transfer.js';
import { buildChatGraph, human } from '../support/chat-graph.js';
import { freshDbName } from '../support/fixtures.js';

/** Counts the records that requests on the `blobs` and `writes` stores answer while `body` runs. */
async function recordsReadDuring(body: () => Promise<unknown>): Promise<number> {
  const proto = IDBObjectStore.prototype;
  const { get, getAll } = proto;
  let count = 0;
  const counted = <A extends unknown[]>(read: (this: IDBObjectStore, ...args: A) => IDBRequest) =>
    function (this: IDBObjectStore, ...args: A): IDBRequest {
      const request = read.apply(this, args);
      if (this.name === 'blobs' || this.name === 'writes') {
        request.addEventListener('success', () => {
          const { result } = request as IDBRequest<unknown>;
          count += Array.isArray(result) ? result.length : result === undefined ? 0 : 1;
        });
      }
      return request;
    };
  proto.get = counted(get);
  proto.getAll = counted(getAll);
  try {
    await body();
  } finally {
    proto.get = get;
    proto.getAll = getAll;
  }
  return count;
}

/** Versions 1, 2, 3, ... as LangGraph's base class counts them: two threads written alike get equal versions. */
class CountingSaver extends BrowserSaver {
  override getNextVersion(current: number | undefined): number {
    return (typeof current === 'number' ? current : 0) + 1;
  }
}

describe('reading a growing conversation', () => {
  const savers: BrowserSaver[] = [];
  afterEach(async () => {
    const names = new Set(savers.map((saver) => saver.dbName));
    for (const saver of savers.splice(0)) await saver.close();
    for (const name of names) await BrowserSaver.deleteDatabase(name);
  });
  function open<S extends BrowserSaver>(saver: S): S {
    savers.push(saver);
    return saver;
  }

  it('reads only the records stored since its last read of the thread, and what it reads equals MemorySaver', async () => {
    const dbName = freshDbName('list-cache');
    const saver = open(new BrowserSaver({ dbName }));
    const graph = buildChatGraph(saver);
    const memory = buildChatGraph(new MemorySaver());
    const config = { configurable: { thread_id: 'growing' } };
    for (let turn = 0; turn < 40; turn += 1) {
      const input = { messages: [human(`message ${turn} ${'x'.repeat(100)}`, turn)] };
      await graph.invoke(input, config);
      await memory.invoke(input, config);
    }
    const warm = await recordsReadDuring(() => saver.getTuple(config));
    const cold = await recordsReadDuring(() => open(new BrowserSaver({ dbName })).getTuple(config));
    // Each message lives in the record of the version that added it: a first read needs them all.
    expect(cold).toBeGreaterThan(80);
    expect(warm).toBeLessThan(10);
    expect((await graph.getState(config)).values).toEqual((await memory.getState(config)).values);
  });

  it('reads only the records stored since, when the items its last read returned were transferred away (as a worker hands them to the page)', async () => {
    // Encrypted items are stored whole in the record of the version that added them (not as slices of a write):
    // the last read's newest items are that record's own bytes.
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const saver = open(new BrowserSaver({ dbName: freshDbName('list-cache-transferred'), encryption: { key } }));
    const storage = (saver as unknown as { storage: CheckpointStorage }).storage;
    const graph = buildChatGraph(saver);
    const config = { configurable: { thread_id: 'handed-over' } };
    const memory = buildChatGraph(new MemorySaver());
    for (let turn = 0; turn < 40; turn += 1) {
      const input = { messages: [human(`message ${turn} ${'z'.repeat(100)}`, turn)] };
      await graph.invoke(input, config);
      await memory.invoke(input, config);
    }
    for (let read = 0; read < 3; read += 1) {
      const tuple = await storage.getTuple('handed-over', '', undefined);
      structuredClone(tuple, { transfer: buffersOfTuples([tuple]) });
    }
    expect(await recordsReadDuring(() => storage.getTuple('handed-over', '', undefined))).toBeLessThan(10);
    expect((await graph.getState(config)).values).toEqual((await memory.getState(config)).values);
  });

  it('reads what another context wrote after deleting the thread, though it stored the same versions again', async () => {
    const dbName = freshDbName('list-cache-rewritten');
    const first = open(new CountingSaver({ dbName }));
    const second = open(new CountingSaver({ dbName }));
    const config = { configurable: { thread_id: 'rewritten' } };
    const chat = async (saver: BrowserSaver, words: string) => {
      const graph = buildChatGraph(saver);
      for (let turn = 0; turn < 5; turn += 1) await graph.invoke({ messages: [human(`${words} ${turn} ${'y'.repeat(100)}`, turn)] }, config);
      return graph;
    };
    const firstGraph = await chat(first, 'first');
    const before = await first.getTuple(config);
    await second.deleteThread('rewritten');
    const secondGraph = await chat(second, 'second');
    const after = await first.getTuple(config);
    expect(after?.checkpoint.channel_versions).toEqual(before?.checkpoint.channel_versions);
    expect((await firstGraph.getState(config)).values).toEqual((await secondGraph.getState(config)).values);
    expect(JSON.stringify((await firstGraph.getState(config)).values)).toContain('second 4');
  });
});
