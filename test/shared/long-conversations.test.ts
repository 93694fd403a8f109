import { BaseMessage } from '@langchain/core/messages';
import { BaseCheckpointSaver, JsonPlusSerializer, MemorySaver, type CheckpointMetadata, type CheckpointTuple } from '@langchain/langgraph-checkpoint';
import type { RunnableConfig } from '@langchain/core/runnables';
import { Annotation, END, START, StateGraph } from '@langchain/langgraph/web';
import { BrowserSaver } from '../../src/index.js';
import { IndexedDBCheckpointStorage } from '../../src/storage/checkpoint-store.js';
import { readThreadDetails, searchThread } from '../../src/devtools/reader.js';
import { EDITS_PER_ANCHOR, isItemSlice } from '../../src/storage/lists.js';
import type { BlobRecord, ChannelVersion, StoredCheckpointRecord } from '../../src/storage/records.js';
import { recordBytes } from '../../bench/page/record-bytes.js';
import { buildChatGraph, human } from '../support/chat-graph.js';
import { playChat as play } from '../support/chat-play.js';
import { checkpointId, collect, makeCheckpoint, makeMetadata, threadConfig, useFreshSavers } from '../support/fixtures.js';
import { importDatabase } from '../support/database-export.js';
import { legacyDatabaseExport } from '../support/legacy-database.js';

/** LangGraph's serializer, counting the messages it is given to serialize (alone, or in arrays and objects). */
class MessageCountingSerializer extends JsonPlusSerializer {
  messages = 0;

  override async dumpsTyped(value: unknown): Promise<[string, Uint8Array]> {
    const count = (found: unknown): number => {
      if (found instanceof BaseMessage) return 1;
      if (Array.isArray(found)) return found.reduce((sum: number, item) => sum + count(item), 0);
      if (typeof found === 'object' && found !== null && !ArrayBuffer.isView(found)) return Object.values(found).reduce((sum: number, item) => sum + count(item), 0);
      return 0;
    };
    this.messages += count(value);
    return super.dumpsTyped(value);
  }
}

describe('long conversations: what is stored as lists reads back as MemorySaver keeps it', () => {
  const newSaver = useFreshSavers('long-conversations');

  for (const delta of [false, true]) {
    it.each([1, 2, 3])(`random chat ${delta ? 'on DeltaChannel ' : ''}with edits, removals, forks, Send and a subgraph (seed %i)`, async (seed) => {
      const saver = newSaver();
      const stored = await play(saver, seed, 30, delta);
      const expected = await play(new MemorySaver(), seed, 30, delta);
      // The seed played forks and every kind of reply: removals, replacements, a Send fan-out and the subgraph.
      expect(stored.forks).toBeGreaterThan(0);
      expect([...stored.words]).toEqual(expect.arrayContaining(['remove', 'replace', 'fanout', 'sub']));
      expect(stored.state).toEqual(expected.state);
      expect(stored.history).toEqual(expected.history);
      expect(stored.tuples).toEqual(expected.tuples);
      // And again through a new saver on the same database, as after a reload.
      const reopened = newSaver({ dbName: saver.dbName });
      const graph = buildChatGraph(reopened, { delta });
      expect((await graph.getState({ configurable: { thread_id: `chat-${seed}` } })).values).toEqual(expected.state);
    });
  }

  // LangGraph snapshots a DeltaChannel's whole array every so many updates; every third here, so that forks,
  // removals and replacements fall between snapshots and snapshots build on snapshots of other branches.
  it.each([1, 2])('random chat on DeltaChannel with a snapshot every third update (seed %i)', async (seed) => {
    const saver = newSaver();
    const stored = await play(saver, seed, 30, true, 3);
    const expected = await play(new MemorySaver(), seed, 30, true, 3);
    // The seed played forks and every kind of reply: removals, replacements, a Send fan-out and the subgraph.
    expect(stored.forks).toBeGreaterThan(0);
    expect([...stored.words]).toEqual(expect.arrayContaining(['remove', 'replace', 'fanout', 'sub']));
    expect(stored.state).toEqual(expected.state);
    expect(stored.history).toEqual(expected.history);
    expect(stored.tuples).toEqual(expected.tuples);
    // The subgraph keeps its messages with the plain reducer, in a namespace of its own.
    const snapshots = (await blobRecords(saver)).filter((blob) => blob.channel === 'messages' && blob.checkpoint_ns === '');
    expect(snapshots.length).toBeGreaterThan(5);
    expect(snapshots.every((blob) => blob.list?.tag === 'delta_snapshot')).toBe(true);
    // Their new items are slices of the writes and inputs since the snapshot before, across forks too.
    expect(snapshots.some((blob) => blob.list?.items.some(isItemSlice))).toBe(true);
    const reopened = newSaver({ dbName: saver.dbName });
    const graph = buildChatGraph(reopened, { delta: true, snapshotFrequency: 3 });
    expect((await graph.getState({ configurable: { thread_id: `chat-${seed}` } })).values).toEqual(expected.state);
  });

  it('stores a DeltaChannel snapshot as the messages new since the one before, not the whole array again', async () => {
    const saver = newSaver();
    const graph = buildChatGraph(saver, { delta: true, snapshotFrequency: 4 });
    const config = { configurable: { thread_id: 'long-delta' } };
    for (let turn = 0; turn < 40; turn += 1) await graph.invoke({ messages: [human(`message ${turn}`, turn)] }, config);
    const snapshots = (await blobRecords(saver)).filter((blob) => blob.channel === 'messages');
    // Two updates a turn: a snapshot every second turn, each holding the whole conversation so far.
    expect(snapshots.length).toBe(20);
    const storedItems = snapshots.reduce((sum, blob) => sum + (blob.list?.items.length ?? 0), 0);
    // Each message stored once among the snapshots (whole arrays would be 2 + 4 + ... + 80 = 840 items).
    expect(storedItems).toBe(80);
    expect(((await graph.getState(config)).values.messages as unknown[]).length).toBe(80);
  });

  it.each([
    { snapshots: "LangGraph's default", snapshotFrequency: undefined },
    { snapshots: 'every third update', snapshotFrequency: 3 },
  ])('reads the history of DeltaChannel values in one read transaction, without a getTuple, equal to the base class\'s walk at every checkpoint (snapshots: $snapshots)', async ({ snapshotFrequency }) => {
    const saver = newSaver();
    const { forks } = await play(saver, 4, 25, true, snapshotFrequency);
    expect(forks).toBeGreaterThan(0);
    const checkpoints = await collect(saver.list({ configurable: { thread_id: 'chat-4' } }));
    expect(checkpoints.length).toBeGreaterThan(50);
    const getTuple = vi.spyOn(saver, 'getTuple');
    const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction');
    try {
      for (const { config } of checkpoints) {
        const options = { config, channels: ['messages', 'no-such-channel'] };
        const walked = await BaseCheckpointSaver.prototype.getDeltaChannelHistory.call(saver, options);
        getTuple.mockClear();
        transaction.mockClear();
        expect(await saver.getDeltaChannelHistory(options)).toEqual(walked);
        expect(getTuple).not.toHaveBeenCalled();
        expect(transaction.mock.calls.map(([, mode]) => mode ?? 'readonly')).toEqual(['readonly']);
      }
    } finally {
      getTuple.mockRestore();
      transaction.mockRestore();
    }
    expect(await saver.getDeltaChannelHistory({ config: { configurable: { thread_id: 'none' } }, channels: ['messages'] })).toEqual({ messages: { writes: [] } });
  });

  it.each([false, true])('serializes each new message at most twice a turn and no other message, however long the conversation (DeltaChannel: %s)', async (delta) => {
    const serde = new MessageCountingSerializer();
    const graph = buildChatGraph(newSaver({ serde }), { delta });
    const perTurn: number[] = [];
    for (let turn = 0; turn < 12; turn += 1) {
      const before = serde.messages;
      await graph.invoke({ messages: [human(`turn ${turn} ${'words '.repeat(20)}`, turn)] }, threadConfig('serialized'));
      perTurn.push(serde.messages - before);
    }
    // A turn brings two messages: its human message and the reply (once as a task's write, once as a list item).
    expect(perTurn[0]).toBeLessThanOrEqual(4);
    expect(perTurn).toEqual(perTurn.map(() => perTurn[0]));
  });

  it('the devtools reader shows every checkpoint of a chat stored as lists past an anchor as the saver reads it, and finds a message where it came in', async () => {
    const saver = newSaver();
    const graph = buildChatGraph(saver);
    const config = threadConfig('read-by-devtools');
    for (let turn = 0; turn < 130; turn += 1) await graph.invoke({ messages: [human(`turn ${turn}: needle-${turn}.`, turn)] }, config);
    const lists = (await blobRecords(saver)).filter((blob) => blob.channel === 'messages' && blob.list);
    expect(lists.length).toBeGreaterThan(EDITS_PER_ANCHOR);

    const tuples = await collect(saver.list(config));
    const details = new Map((await readThreadDetails(saver.dbName, 'read-by-devtools')).map((detail) => [detail.checkpoint_id, detail]));
    expect(details.size).toBe(tuples.length);
    type Shown = { kwargs: { id: string; content: string } };
    for (const { checkpoint } of tuples) {
      const shown = (details.get(checkpoint.id)!.channel_values['messages'] ?? []) as Shown[];
      const read = (checkpoint.channel_values['messages'] ?? []) as BaseMessage[];
      expect(shown.map(({ kwargs }) => [kwargs.id, kwargs.content])).toEqual(read.map((message) => [message.id, message.content]));
    }

    // A message is found where the list that brought it in was stored, and in every later version of the list.
    const hits = (await searchThread(saver.dbName, 'read-by-devtools', 'needle-97.')).filter((hit) => hit.where === 'channel "messages"');
    const versions = new Map(tuples.map(({ checkpoint }) => [checkpoint.id, checkpoint.channel_versions['messages']]));
    const expected = tuples.filter(
      ({ checkpoint, parentConfig }) =>
        versions.get(String(parentConfig?.configurable?.checkpoint_id)) !== checkpoint.channel_versions['messages'] &&
        ((checkpoint.channel_values['messages'] ?? []) as BaseMessage[]).some((message) => message.content === 'turn 97: needle-97.'),
    );
    expect(expected.length).toBeGreaterThan(60);
    expect(hits.map((hit) => hit.checkpoint.checkpoint_id).sort()).toEqual(expected.map(({ checkpoint }) => checkpoint.id).sort());
  });

  it('forks a long chat on either side of its lists\' first anchor, and after a reload reads each branch as MemorySaver keeps it', async () => {
    const saver = newSaver();
    const memory = new MemorySaver();
    const config = threadConfig('forked-past-anchor');
    for (const checkpointer of [saver, memory]) {
      const graph = buildChatGraph(checkpointer);
      for (let turn = 0; turn < 140; turn += 1) await graph.invoke({ messages: [human(`turn ${turn}`, turn)] }, config);
    }
    const lists = (await blobRecords(saver)).filter((blob) => blob.channel === 'messages' && blob.list);
    expect(lists.length).toBeGreaterThan(EDITS_PER_ANCHOR);
    // Steps number the linear thread's checkpoints alike on both savers: a turn is steps 3t - 1 (its input), 3t and
    // 3t + 1, each of the last two a new list, so the 257th list (depth 256, the first anchor) comes at step 384.
    const atStep = async (checkpointer: BaseCheckpointSaver, step: number) => (await collect(checkpointer.list(config, { filter: { step } })))[0]!;
    const anchorStep = 384;
    const anchorVersion = lists.find((blob) => blob.list!.depth === EDITS_PER_ANCHOR)!.version;
    expect((await atStep(saver, anchorStep)).checkpoint.channel_versions['messages']).toBe(anchorVersion);
    const forkSteps = [anchorStep - 4, anchorStep - 1, anchorStep, anchorStep + 1, anchorStep + 5, 40, 400];
    const heads = new Map<BaseCheckpointSaver, RunnableConfig[]>();
    for (const checkpointer of [saver, memory]) {
      const graph = buildChatGraph(checkpointer);
      const made: RunnableConfig[] = [];
      for (const [i, step] of forkSteps.entries()) {
        const forked = await graph.updateState((await atStep(checkpointer, step)).config, { messages: [human(`fork at ${step}`, 1_000 + i, 1)] });
        await graph.invoke({ messages: [human(`on the fork from ${step}`, 1_000 + i, 2)] }, forked);
        // The thread's newest checkpoint: this fork's head.
        made.push((await graph.getState(config)).config);
      }
      heads.set(checkpointer, made);
    }
    const reopened = buildChatGraph(newSaver({ dbName: saver.dbName }));
    const graphOfMemory = buildChatGraph(memory);
    // A fork's head and the checkpoints that led to it.
    const latest = async (graph: typeof reopened, head: RunnableConfig) =>
      (await collect(graph.getStateHistory(head, { limit: 6 }))).map((snapshot) => ({ values: snapshot.values, next: snapshot.next, step: snapshot.metadata?.step }));
    for (const [i, step] of forkSteps.entries()) {
      const mine = await latest(reopened, heads.get(saver)![i]!);
      expect(mine, `the fork from step ${step}`).toEqual(await latest(graphOfMemory, heads.get(memory)![i]!));
      expect((mine[0]!.values as { messages: unknown[] }).messages.length).toBeGreaterThan(2);
    }
  }, 90_000);

  it('stores each message about once, however long the conversation', async () => {
    const saver = newSaver();
    const graph = buildChatGraph(saver);
    const config = { configurable: { thread_id: 'long' } };
    const text = 'a message of some length '.repeat(16);
    for (let turn = 0; turn < 40; turn += 1) await graph.invoke({ messages: [human(`${text}${turn}`, turn)] }, config);
    const bytes = await storedBytes(saver);
    // Each turn adds two messages of about 400 characters; every checkpoint holding the whole list again would
    // store hundreds of kilobytes by now.
    expect(bytes.blobs).toBeLessThan(40 * 2 * 1_500);
    expect(((await graph.getState(config)).values.messages as unknown[]).length).toBe(80);
  });

  it('stores 1,537 lists in records that grow with what each adds, read through a short chain, as MemorySaver keeps them', async () => {
    let saver = newSaver();
    const memory = new MemorySaver();
    const thread_id = 'many-lists';
    let config = threadConfig(thread_id);
    let messages: { role: string; content: string }[] = [];
    for (let n = 1; n <= 1_537; n += 1) {
      if (n === 1_100) {
        // A reload: the next lists build on the list a new saver reads, and on the anchors of its chain.
        saver = newSaver({ dbName: saver.dbName });
        messages = (await saver.getTuple(config))!.checkpoint.channel_values['messages'] as typeof messages;
      }
      messages = [...messages, { role: n % 2 === 0 ? 'ai' : 'human', content: `message ${n}` }];
      if (n % 97 === 0) messages = messages.filter((_, i) => i !== n % messages.length);
      const checkpoint = makeCheckpoint(checkpointId(n), { messages }, { messages: n });
      await memory.put(config, checkpoint, makeMetadata(n));
      config = await saver.put(config, checkpoint, makeMetadata(n), { messages: n });
      if (n % 256 === 0 || n === 1_537) {
        const [stored, expected] = await Promise.all([saver.getTuple(config), memory.getTuple(config)]);
        expect(stored?.checkpoint.channel_values, `checkpoint ${n}`).toEqual(expected?.checkpoint.channel_values);
        // As a graph goes on from what it read.
        messages = stored!.checkpoint.channel_values['messages'] as typeof messages;
      }
    }
    const lists = (await blobRecords(saver)).filter((blob) => blob.list).sort((a, b) => Number(a.version) - Number(b.version));
    expect(lists.length).toBe(1_537);
    // Only the first spells itself (depth 0, at version 1); every 256th builds on the one 256 before, the rest on
    // the one before.
    expect(lists.filter((blob) => blob.list!.base === undefined).map((blob) => blob.version)).toEqual([1]);
    expect(lists.filter((blob) => blob.list!.depth !== undefined).map((blob) => [blob.list!.depth, blob.version, blob.list!.base])).toEqual(
      [256, 512, 768, 1_024, 1_280, 1_536].map((depth) => [depth, depth + 1, depth - 255]),
    );
    // A read of the list before the last follows it and its chain: 255 edits back to an anchor, then five anchors
    // (1,280 down to 256) and the first list.
    const byVersion = new Map(lists.map((blob) => [blob.version, blob]));
    let followed = 0;
    for (let at: ChannelVersion | undefined = 1_536; at !== undefined; at = byVersion.get(at)!.list!.base) followed += 1;
    expect(followed).toBe(261);
    const bytes = lists.map((blob) => recordBytes(blob) - recordBytes(blob.list!.items));
    const sum = (part: number[]) => part.reduce((total, n) => total + n, 0);
    // Past the first, the second half's lists are three times as long as the first half's on average, with as many
    // anchors; their records are not larger.
    expect(sum(bytes.slice(769))).toBeLessThanOrEqual(1.2 * sum(bytes.slice(1, 769)));
  }, 120_000);
});

describe('checkpoint records: what the record holds in clear is not serialized again', () => {
  const newSaver = useFreshSavers('long-conversations-records');

  it('stores the id, v, step and source once, and every tuple reads back as MemorySaver keeps it', async () => {
    const saver = newSaver();
    const memory = new MemorySaver();
    const config = { configurable: { thread_id: 'fields' } };
    for (const checkpointer of [saver, memory]) {
      const graph = buildChatGraph(checkpointer);
      for (let turn = 0; turn < 3; turn += 1) await graph.invoke({ messages: [human(`turn ${turn}`, turn)] }, config);
    }
    const records = await checkpointRecords(saver);
    expect(records.length).toBe(9);
    for (const record of records) {
      expect(typeof record.ts).toBe('number');
      // The first is stored whole, with the rest of its checkpoint and metadata serialized (nothing left); the
      // others as changes against it, without what equals their parent's.
      if (record.depth === 0) {
        expect(JSON.parse(new TextDecoder().decode(record.checkpoint!.bytes))).toEqual({});
        expect(JSON.parse(new TextDecoder().decode(record.metadata!.bytes))).toEqual({});
        expect(Object.keys(record.metadata_entries!)).toEqual(['parents']);
        expect([record.v, record.step, record.source, typeof record.versions_seen]).toEqual([4, -1, 'input', 'object']);
        // The step is the parent's next; the source is held where it is not the parent's.
      } else {
        expect([record.v, record.step, record.checkpoint, record.metadata, record.metadata_entries]).toEqual([undefined, undefined, undefined, undefined, undefined]);
      }
    }
    const sources = (await collect(saver.list(config))).reverse().map((tuple) => tuple.metadata?.source);
    expect(records.map((record) => record.source)).toEqual(sources.map((source, i) => (i > 0 && source === sources[i - 1] ? undefined : source)));
    expect(records.map((record) => record.depth)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const stored = await collect(saver.list(config));
    const expected = await collect(memory.list(config));
    const comparable = (tuples: CheckpointTuple[]) => tuples.map(({ checkpoint, metadata }) => ({ v: checkpoint.v, metadata, keys: Object.keys(checkpoint).sort() }));
    expect(comparable(stored)).toEqual(comparable(expected));
    for (const tuple of stored) {
      const again = await saver.getTuple(tuple.config);
      expect(again?.checkpoint.id).toBe(tuple.config.configurable?.['checkpoint_id']);
      expect(again?.metadata).toEqual(tuple.metadata);
      expect(Object.keys(again!.metadata!).slice(0, 2)).toEqual(['source', 'step']);
    }
    // Filtering by metadata still sees the fields kept in the record.
    expect((await collect(saver.list(config, { filter: { source: 'input' } }))).length).toBe(3);
    expect((await collect(saver.list(config, { filter: { step: 1 } }))).length).toBe(1);
  });
});

describe('checkpoint records stored as changes against their parent\'s', () => {
  const newSaver = useFreshSavers('long-conversations-changes');

  /** What each put was given, but the values: every tuple must read back as this. */
  function recordPuts(saver: BrowserSaver): Map<string, unknown> {
    const puts = new Map<string, unknown>();
    const put = saver.put.bind(saver);
    vi.spyOn(saver, 'put').mockImplementation(async (config, checkpoint, metadata, versions) => {
      const { channel_values: _values, ...rest } = checkpoint;
      puts.set(checkpoint.id, JSON.parse(JSON.stringify({ checkpoint: rest, metadata })));
      return put(config, checkpoint, metadata, versions);
    });
    return puts;
  }

  const asRead = ({ checkpoint: { channel_values: _values, ...rest }, metadata }: CheckpointTuple) => JSON.parse(JSON.stringify({ checkpoint: rest, metadata })) as unknown;

  async function expectReadAsPut(saver: BrowserSaver, puts: Map<string, unknown>, thread_id: string): Promise<number> {
    const listed = await collect(saver.list({ configurable: { thread_id } }));
    for (const tuple of listed) {
      expect(asRead(tuple)).toEqual(puts.get(tuple.checkpoint.id));
      expect(asRead((await saver.getTuple(tuple.config))!)).toEqual(puts.get(tuple.checkpoint.id));
    }
    return listed.length;
  }

  for (const delta of [false, true]) {
    it(`stores a chat${delta ? ' on DeltaChannel' : ''} as changes with a whole record every 32, and reads each back as it was put`, async () => {
      const saver = newSaver();
      const puts = recordPuts(saver);
      const graph = buildChatGraph(saver, { delta });
      const config = { configurable: { thread_id: 'changes' } };
      for (let turn = 0; turn < 12; turn += 1) await graph.invoke({ messages: [human(`turn ${turn}`, turn)] }, config);
      const records = await checkpointRecords(saver);
      expect(records.length).toBeGreaterThan(32);
      // A linear thread: each record builds on the one before, and a read follows at most 31 of them.
      expect(records.map((record) => record.depth)).toEqual(records.map((_, i) => i % 32));
      // A change holds little: its parent's versions_seen and channel versions are not repeated.
      // A change holds the channel versions that differ from its parent's, and no more.
      const read = (id: string) => saver.getTuple({ configurable: { thread_id: 'changes', checkpoint_ns: '', checkpoint_id: id } });
      for (const [i, record] of records.entries()) {
        if (record.depth === 0) continue;
        const [own, parent] = await Promise.all([read(record.checkpoint_id), read(records[i - 1]!.checkpoint_id)]);
        const differing = Object.entries(own!.checkpoint.channel_versions).filter(([channel, version]) => parent!.checkpoint.channel_versions[channel] !== version);
        expect(record.channel_versions).toEqual(Object.fromEntries(differing));
        expect(Object.keys(record.versions_seen ?? {}).length).toBeLessThan(Object.keys(own!.checkpoint.versions_seen).length);
      }
      expect(await expectReadAsPut(saver, puts, 'changes')).toBe(records.length);
      // Through a new saver on the database, as after a reload: the first put there is stored whole.
      const reopened = newSaver({ dbName: saver.dbName });
      const again = recordPuts(reopened);
      await buildChatGraph(reopened, { delta }).invoke({ messages: [human('after a reload', 12)] }, config);
      const after = await checkpointRecords(reopened);
      expect(after.slice(records.length).map((record) => record.depth)).toEqual(after.slice(records.length).map((_, i) => i));
      for (const [id, put] of again) puts.set(id, put);
      expect(await expectReadAsPut(reopened, puts, 'changes')).toBe(after.length);
    });
  }

  it('stores a fork (updateState on an earlier checkpoint) whole, and what follows it as changes against it', async () => {
    const saver = newSaver();
    const puts = recordPuts(saver);
    const graph = buildChatGraph(saver);
    const config = { configurable: { thread_id: 'fork' } };
    for (let turn = 0; turn < 4; turn += 1) await graph.invoke({ messages: [human(`turn ${turn}`, turn)] }, config);
    const history = await collect(saver.list(config));
    const forked = await graph.updateState(history[5]!.config, { messages: [human('a fork', 4, 1)] });
    await graph.invoke({ messages: [human('on the fork', 5, 1)] }, forked);
    const records = await checkpointRecords(saver);
    const fork = records.find((record) => record.checkpoint_id === forked.configurable?.['checkpoint_id'])!;
    expect(fork.depth).toBe(0);
    const onFork = records.filter((record) => record.checkpoint_id > fork.checkpoint_id);
    expect(onFork.map((record) => record.depth)).toEqual(onFork.map((_, i) => i + 1));
    expect(await expectReadAsPut(saver, puts, 'fork')).toBe(records.length);
  });

  it('prune and maxCheckpointsPerThread keep what kept records build on: a kept change whose parent goes is stored whole', async () => {
    for (const options of [{}, { maxCheckpointsPerThread: 7 }]) {
      const saver = newSaver(options);
      const puts = recordPuts(saver);
      const graph = buildChatGraph(saver);
      const config = { configurable: { thread_id: 'pruned' } };
      for (let turn = 0; turn < 6; turn += 1) await graph.invoke({ messages: [human(`turn ${turn}`, turn)] }, config);
      if (!options.maxCheckpointsPerThread) await saver.prune({ keepLatest: 7, keepAncestors: false });
      const records = await checkpointRecords(saver);
      expect(records.length).toBeLessThan(7 + 4);
      expect(records[0]!.depth).toBe(0);
      expect(await expectReadAsPut(saver, puts, 'pruned')).toBe(records.length);
      await graph.invoke({ messages: [human('after the prune', 6)] }, config);
      for (const tuple of await collect(saver.list(config))) expect(asRead(tuple)).toEqual(puts.get(tuple.checkpoint.id));
    }
  });

  /**
   * Runs `body` on a storage that is full as Chromium's is at its quota: every put throws QuotaExceededError until a
   * delete makes room (`freesRoom`), or for good; resolves with the puts tried, and whether each was refused.
   */
  async function whileFull<T>(freesRoom: boolean, body: () => Promise<T>): Promise<{ result: PromiseSettledResult<T>; puts: boolean[] }> {
    const { put, delete: remove } = IDBObjectStore.prototype;
    let full = true;
    const puts: boolean[] = [];
    IDBObjectStore.prototype.put = function refusedWhileFull(this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      puts.push(full);
      if (full) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return put.apply(this, args);
    };
    IDBObjectStore.prototype.delete = function freeing(this: IDBObjectStore, ...args: Parameters<IDBObjectStore['delete']>) {
      if (freesRoom) full = false;
      return remove.apply(this, args);
    };
    try {
      const [result] = await Promise.allSettled([body()]);
      return { result: result!, puts };
    } finally {
      IDBObjectStore.prototype.put = put;
      IDBObjectStore.prototype.delete = remove;
    }
  }

  /** An agent that fetches a page each turn (replaced, large) and notes a line about it (appended, small). */
  function buildResearchGraph(saver: BrowserSaver) {
    const Research = Annotation.Root({
      question: Annotation<string>(),
      page: Annotation<string>(),
      notes: Annotation<string[]>({ reducer: (notes, more) => [...notes, ...more], default: () => [] }),
    });
    return new StateGraph(Research)
      .addNode('fetch', (state) => ({ page: state.question.repeat(500) }))
      .addNode('note', (state) => ({ notes: [`${state.question}: ${state.page.length} characters`] }))
      .addEdge(START, 'fetch')
      .addEdge('fetch', 'note')
      .addEdge('note', END)
      .compile({ checkpointer: saver });
  }

  /** A research thread of twelve turns: more records than a chain holds, so the oldest are built on by nothing kept. */
  async function researchThread(thread_id: string) {
    const saver = newSaver();
    const puts = recordPuts(saver);
    const graph = buildResearchGraph(saver);
    const config = { configurable: { thread_id } };
    for (let turn = 0; turn < 12; turn += 1) await graph.invoke({ question: `question ${turn}` }, config);
    return { saver, puts, graph, config, before: await checkpointRecords(saver) };
  }

  it('at a full quota, prune first deletes what no kept record builds on, writing nothing, and then prunes the rest', async () => {
    const { saver, puts, graph, config, before } = await researchThread('full');
    const newest = before.at(-1)!;
    expect(before.length).toBeGreaterThan(32);
    expect(newest.depth).toBeGreaterThan(0);

    const { result, puts: tried } = await whileFull(true, () => saver.prune({ keepLatest: 1, keepAncestors: false }));
    expect(result).toEqual({ status: 'fulfilled', value: before.length - 1 });
    // The first pass was refused at its first put; the delete-only pass made room; the last stored the kept change whole.
    expect(tried[0]).toBe(true);
    expect(tried.at(-1)).toBe(false);
    const after = await checkpointRecords(saver);
    expect(after.map((record) => [record.checkpoint_id, record.depth])).toEqual([[newest.checkpoint_id, 0]]);
    expect(await expectReadAsPut(saver, puts, 'full')).toBe(1);
    await graph.invoke({ question: 'after the prune' }, config);
    const { values } = await graph.getState(config);
    expect(values.notes).toEqual([...Array.from({ length: 12 }, (_, turn) => `question ${turn}: ${500 * `question ${turn}`.length} characters`), `after the prune: ${500 * 'after the prune'.length} characters`]);
  });

  it('when deleting makes no room, prune rejects with QUOTA, and what the delete-only pass left reads back as put', async () => {
    const { saver, puts, graph, config, before } = await researchThread('still full');
    const { result } = await whileFull(false, () => saver.prune({ keepLatest: 1, keepAncestors: false }));
    expect(result).toMatchObject({ status: 'rejected', reason: { code: 'QUOTA' } });
    // Left: the newest checkpoint and the records it builds on, back to the whole one.
    const after = await checkpointRecords(saver);
    const newest = before.at(-1)!;
    expect(after.map((record) => record.checkpoint_id)).toEqual(before.slice(before.length - 1 - newest.depth!).map((record) => record.checkpoint_id));
    expect(after[0]!.depth).toBe(0);
    expect(after.length).toBeLessThan(before.length);
    expect(await expectReadAsPut(saver, puts, 'still full')).toBe(after.length);
    expect((await graph.getState(config)).values.notes).toHaveLength(12);
  });

  it('a change says what its parent has and it has not: channels, nodes, channels seen, metadata entries, step and source', async () => {
    const saver = newSaver();
    const puts = recordPuts(saver);
    const first = { ...makeCheckpoint(checkpointId(1), { a: 1, b: 2 }), versions_seen: { n: { a: 1, b: 1 }, m: { a: 1 } } };
    const config = await saver.put(threadConfig('removals'), first, makeMetadata(0, { x: 1, y: 'two' }), { a: 1, b: 1 });
    const second = { ...makeCheckpoint(checkpointId(2), { a: 3 }, { a: 2 }), versions_seen: { n: { a: 2 } } };
    const { step: _step, source: _source, ...metadata } = makeMetadata(1, { x: 1 });
    await saver.put(config, second, metadata as CheckpointMetadata, { a: 2 });
    const [, change] = await checkpointRecords(saver);
    expect(change!.depth).toBe(1);
    expect(change!.removed).toEqual(
      expect.arrayContaining([['channel_versions', 'b'], ['versions_seen', 'n', 'b'], ['versions_seen', 'm'], ['metadata_entries', 'y'], ['step'], ['source']]),
    );
    expect(await expectReadAsPut(saver, puts, 'removals')).toBe(2);
  });

  it('copies a thread with its records as they are stored, and reads the copy the same', async () => {
    const saver = newSaver();
    const puts = recordPuts(saver);
    const graph = buildChatGraph(saver);
    for (let turn = 0; turn < 3; turn += 1) await graph.invoke({ messages: [human(`turn ${turn}`, turn)] }, { configurable: { thread_id: 'original' } });
    await saver.copyThread('original', 'copy');
    await saver.deleteThread('original');
    expect(await expectReadAsPut(saver, puts, 'copy')).toBe(9);
  });

  it('reads a record whose parent is missing as DESERIALIZE, never as a wrong record', async () => {
    const saver = newSaver();
    const graph = buildChatGraph(saver);
    const config = { configurable: { thread_id: 'broken' } };
    for (let turn = 0; turn < 2; turn += 1) await graph.invoke({ messages: [human(`turn ${turn}`, turn)] }, config);
    const records = await checkpointRecords(saver);
    const { openDB } = await import('idb');
    const db = await openDB(saver.dbName);
    await db.delete('checkpoints', ['broken', '', records[2]!.checkpoint_id]);
    db.close();
    const child = { configurable: { thread_id: 'broken', checkpoint_ns: '', checkpoint_id: records[3]!.checkpoint_id } };
    await expect(saver.getTuple(child)).rejects.toMatchObject({ code: 'DESERIALIZE', message: expect.stringContaining('which is not stored') });
    await expect(collect(saver.list(config))).rejects.toMatchObject({ code: 'DESERIALIZE' });
  });

  it('refuses to store a change whose parent is not stored, and stores nothing of the call', async () => {
    const saver = newSaver();
    await buildChatGraph(saver).invoke({ messages: [human('hello', 0)] }, { configurable: { thread_id: 'checked' } });
    const [, second] = await checkpointRecords(saver);
    const storage = new IndexedDBCheckpointStorage({ dbName: saver.dbName, durability: 'default' });
    try {
      const orphan = { ...second!, checkpoint_id: `${second!.checkpoint_id}-orphan`, parent_checkpoint_id: 'no-such-checkpoint' };
      await expect(storage.write({ kind: 'checkpoint', checkpoint: orphan, blobs: [] })).rejects.toMatchObject({ code: 'STORAGE', message: expect.stringContaining('no-such-checkpoint') });
      // Nor against a parent more changes deep than itself: the chain would have no bound.
      const tooShallow = { ...second!, checkpoint_id: `${second!.checkpoint_id}-shallow`, depth: 1, parent_checkpoint_id: second!.checkpoint_id };
      await expect(storage.write({ kind: 'checkpoint', checkpoint: tooShallow, blobs: [] })).rejects.toMatchObject({ code: 'STORAGE' });
      expect((await checkpointRecords(saver)).length).toBe(3);
    } finally {
      await storage.close();
    }
  });

  it('stores records whole, with nothing in clear, when it encrypts', async () => {
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const saver = newSaver({ encryption: { key } });
    const graph = buildChatGraph(saver);
    const config = { configurable: { thread_id: 'sealed' } };
    for (let turn = 0; turn < 2; turn += 1) await graph.invoke({ messages: [human(`turn ${turn}`, turn)] }, config);
    const records = await checkpointRecords(saver);
    for (const record of records) expect([record.depth, record.ts, record.versions_seen, record.metadata_entries]).toEqual([undefined, undefined, undefined, undefined]);
    expect(((await graph.getState(config)).values.messages as unknown[]).length).toBe(4);
  });
});

async function checkpointRecords(saver: BrowserSaver): Promise<StoredCheckpointRecord[]> {
  const { openDB } = await import('idb');
  const db = await openDB(saver.dbName);
  try {
    return (await db.getAll('checkpoints')) as StoredCheckpointRecord[];
  } finally {
    db.close();
  }
}

async function blobRecords(saver: BrowserSaver): Promise<BlobRecord[]> {
  const { openDB } = await import('idb');
  const db = await openDB(saver.dbName);
  try {
    return (await db.getAll('blobs')) as BlobRecord[];
  } finally {
    db.close();
  }
}

/** Bytes of serialized values in the blobs store (of list items stored as slices, the bytes they put in), counted from the records themselves. */
async function storedBytes(saver: BrowserSaver): Promise<{ blobs: number }> {
  const { openDB } = await import('idb');
  const db = await openDB(saver.dbName);
  try {
    let total = 0;
    for (const blob of (await db.getAll('blobs')) as BlobRecord[]) {
      total += blob.value?.bytes.byteLength ?? 0;
      for (const item of blob.list?.items ?? []) total += isItemSlice(item) ? item.insert.byteLength : item.bytes.byteLength;
    }
    return { blobs: total };
  } finally {
    db.close();
  }
}

describe('a database written by 0.1, before lists', () => {
  const newSaver = useFreshSavers('legacy');

  it('opens and reads unchanged, and the conversation goes on in it', async () => {
    const memory = new MemorySaver();
    const graph = buildChatGraph(memory);
    const config = { configurable: { thread_id: 'legacy' } };
    for (let turn = 0; turn < 6; turn += 1) await graph.invoke({ messages: [human(`turn ${turn} replace`, turn)] }, config);
    const saver = newSaver();
    const { database, tuples: written } = await legacyDatabaseExport(memory, 'legacy');
    await importDatabase(database, saver.dbName);
    const read = await collect(saver.list({ configurable: { thread_id: 'legacy' } }));
    const comparable = (tuples: CheckpointTuple[]) =>
      tuples.map(({ config: at, checkpoint, metadata, pendingWrites, parentConfig }) => ({
        at: at.configurable,
        values: Object.fromEntries(Object.entries(checkpoint.channel_values).filter(([channel]) => channel in checkpoint.channel_versions)),
        metadata,
        pendingWrites,
        parent: parentConfig?.configurable?.['checkpoint_id'],
      }));
    expect(comparable(read)).toEqual(comparable(written));
    // Going on in the old database gives what going on in MemorySaver gives.
    for (let turn = 6; turn < 10; turn += 1) {
      await buildChatGraph(saver).invoke({ messages: [human(`turn ${turn}`, turn)] }, config);
      await graph.invoke({ messages: [human(`turn ${turn}`, turn)] }, config);
    }
    expect((await buildChatGraph(saver).getState(config)).values).toEqual((await graph.getState(config)).values);
  });
});
