import type { SerializerProtocol } from '@langchain/langgraph-checkpoint';
import { JsonPlusSerializer } from '@langchain/langgraph-checkpoint';
import { BrowserSaver } from '../../src/index.js';
import { IndexedDBCheckpointStorage } from '../../src/storage/checkpoint-store.js';
import { checkpointId, collect, makeCheckpoint, makeMetadata, putChain, threadConfig, useFreshSavers } from '../support/fixtures.js';

/** LangGraph's serializer, taking a moment per value, as one that compresses or encrypts does. */
class SlowSerializer implements SerializerProtocol {
  readonly #inner = new JsonPlusSerializer();
  async dumpsTyped(value: unknown): Promise<[string, Uint8Array]> {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return this.#inner.dumpsTyped(value);
  }
  loadsTyped(type: string, data: Uint8Array | string): Promise<unknown> {
    return this.#inner.loadsTyped(type, data);
  }
}

describe('the order of calls', () => {
  const newSaver = useFreshSavers('call-order');

  it('a read waits for the writes made before it, not for those made after it began', async () => {
    const saver = newSaver();
    await putChain(saver, 'idle', '', [1]);
    const [a, b] = await Promise.all([putChain(saver, 'a', '', [2]), putChain(saver, 'b', '', [3])]);
    // Two agents write as fast as their commits allow, each awaiting its own writes, until told to stop.
    const cap = 5_000;
    let writing = true;
    const writer = async (config: (typeof a)[number]) => {
      let n = 0;
      while (writing && n < cap) await saver.putWrites(config, [['counter', n]], `task-${(n += 1)}`);
      return n;
    };
    const writers = [writer(a[0]!), writer(b[0]!)];
    await new Promise((resolve) => setTimeout(resolve, 20));
    const tuple = await saver.getTuple(threadConfig('idle'));
    const listed = await collect(saver.list(threadConfig('idle')));
    writing = false;
    // Had the reads waited for the writers to stop, both would have run to their cap first.
    const counts = await Promise.all(writers);
    expect(counts.every((count) => count > 0 && count < cap)).toBe(true);
    expect(tuple?.checkpoint.id).toBe(checkpointId(1));
    expect(listed.map((entry) => entry.checkpoint.id)).toEqual([checkpointId(1)]);
  });

  it('close() lets the calls made before it finish, and refuses those made after it', async () => {
    const saver = newSaver();
    const put = saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1), { a: 1 }), makeMetadata(0), { a: 1 });
    const pruned = saver.prune({ keepLatest: 1 });
    const read = saver.getTuple(threadConfig('t'));
    const closed = saver.close();
    await expect(saver.getTuple(threadConfig('t'))).rejects.toMatchObject({ code: 'CLOSED' });
    await closed;
    await expect(put).resolves.toMatchObject({ configurable: { checkpoint_id: checkpointId(1) } });
    await expect(pruned).resolves.toBe(0);
    expect((await read)?.checkpoint.channel_values).toEqual({ a: 1 });
    const reopened = newSaver({ dbName: saver.dbName });
    expect((await reopened.getTuple(threadConfig('t')))?.checkpoint.id).toBe(checkpointId(1));
  });

  it('flush() and close() wait for writes whose values are still being serialized', async () => {
    const saver = newSaver({ serde: new SlowSerializer() });
    const reader = newSaver({ dbName: saver.dbName });
    void saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1), { a: 1 }), makeMetadata(0), { a: 1 });
    await saver.flush();
    expect((await reader.getTuple(threadConfig('t')))?.checkpoint.id).toBe(checkpointId(1));
    void saver.put(threadConfig('t', '', checkpointId(1)), makeCheckpoint(checkpointId(2), { a: 2 }, { a: 2 }), makeMetadata(1), { a: 2 });
    await saver.close();
    expect((await reader.getTuple(threadConfig('t')))?.checkpoint.id).toBe(checkpointId(2));
  });

  it('a prune under way at close() announces its change before close() resolves, and leaves no channel open', async () => {
    const opened: BroadcastChannel[] = [];
    const Original = globalThis.BroadcastChannel;
    const closedChannels = new Set<BroadcastChannel>();
    globalThis.BroadcastChannel = class extends Original {
      constructor(name: string) {
        super(name);
        opened.push(this);
      }
      override close(): void {
        closedChannels.add(this);
        super.close();
      }
    };
    try {
      const saver = new BrowserSaver({ dbName: (await newSaver()).dbName });
      await putChain(saver, 't', '', [1, 2, 3]);
      const pruned = saver.prune({ keepLatest: 1, keepAncestors: false });
      await saver.close();
      expect(await pruned).toBe(2);
      expect(opened.filter((channel) => !closedChannels.has(channel))).toEqual([]);
    } finally {
      globalThis.BroadcastChannel = Original;
    }
  });

  it('a list with a filter leaves out checkpoints deleted between its two reads', async () => {
    const saver = newSaver();
    await putChain(saver, 't', '', [1, 2]);
    const storage = new IndexedDBCheckpointStorage({ dbName: saver.dbName, durability: 'default' });
    try {
      const page = await storage.listCheckpoints({ thread_id: 't' }, 10);
      expect(page.records).toHaveLength(2);
      await saver.deleteThread('t');
      expect(await storage.loadTuples(page.records)).toEqual([]);
    } finally {
      await storage.close();
    }
  });
});
