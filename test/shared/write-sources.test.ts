import { openDB } from 'idb';
import { AIMessage, HumanMessage, type BaseMessage } from '@langchain/core/messages';
import { MemorySaver, type BaseCheckpointSaver, type CheckpointTuple } from '@langchain/langgraph-checkpoint';
import { END, MessagesAnnotation, START, StateGraph, StateSchema } from '@langchain/langgraph/web';
import { CheckpointError } from '../../src/index.js';
import { readThreadDetails } from '../../src/devtools/reader.js';
import { IndexedDBCheckpointStorage } from '../../src/storage/checkpoint-store.js';
import { isItemSlice, slicesOf } from '../../src/storage/lists.js';
import type { BlobRecord, ItemSlice, StoredWriteRecord, TypedBytes, WriteRecord } from '../../src/storage/records.js';
import { writesIn } from '../../src/storage/task-writes.js';
import { readWireRecord, toWireRecord } from '../../src/wire/records.js';
import { MAX_CHECKPOINTS, MAX_SOURCE_BYTES, WriteSources } from '../../src/saver/write-sources.js';
import { messagesDelta } from '../support/chat-graph.js';
import { exportDatabase, importDatabase } from '../support/database-export.js';
import { collect, useFreshSavers } from '../support/fixtures.js';

const TURNS = 20;
const humanText = (turn: number) => `human says ${turn}: ${'question '.repeat(40)}`;
const aiText = (turn: number) => `ai answers ${turn}: ${'answer '.repeat(50)}`;

/**
 * A chat as the benchmark runs it: one reply a turn, messages without ids (the plain reducer gives them theirs).
 * With `snapshotFrequency`, on `DeltaChannel`, whose reducer gives none.
 */
function chatGraph(checkpointer: BaseCheckpointSaver, snapshotFrequency?: number) {
  const schema = snapshotFrequency === undefined ? MessagesAnnotation : new StateSchema({ messages: messagesDelta(snapshotFrequency) });
  return new StateGraph(schema as typeof MessagesAnnotation)
    .addNode('reply', (state: { messages: BaseMessage[] }) => ({ messages: [new AIMessage(aiText((state.messages.length - 1) / 2))] }))
    .addEdge(START, 'reply')
    .addEdge('reply', END)
    .compile({ checkpointer });
}

async function chat(checkpointer: BaseCheckpointSaver, thread_id: string, turns: number, { from = 0, snapshotFrequency }: { from?: number; snapshotFrequency?: number } = {}): Promise<void> {
  const graph = chatGraph(checkpointer, snapshotFrequency);
  for (let turn = from; turn < from + turns; turn += 1) await graph.invoke({ messages: [new HumanMessage(humanText(turn))] }, { configurable: { thread_id } });
}

async function records(dbName: string): Promise<{ blobs: BlobRecord[]; writes: WriteRecord[] }> {
  const db = await openDB(dbName);
  try {
    return { blobs: (await db.getAll('blobs')) as BlobRecord[], writes: writesIn((await db.getAll('writes')) as StoredWriteRecord[]) };
  } finally {
    db.close();
  }
}

/** Every serialized value stored: blobs' values and list items (not those stored as slices), writes' values. */
function storedBytes({ blobs, writes }: { blobs: BlobRecord[]; writes: WriteRecord[] }): TypedBytes[] {
  const items = blobs.flatMap((blob) => blob.list?.items.filter((item) => !isItemSlice(item)) ?? []) as TypedBytes[];
  return [...blobs.flatMap((blob) => (blob.value ? [blob.value] : [])), ...items, ...writes.map((write) => write.value)];
}

/** The list items stored as slices. */
const slicesIn = ({ blobs }: { blobs: BlobRecord[] }): ItemSlice[] => blobs.flatMap((blob) => slicesOf(blob));

/** What a user compares of pending writes: channels and values (task ids derive from checkpoint ids). */
const writesOf = (tuple: CheckpointTuple | undefined) => tuple?.pendingWrites?.map(([, channel, value]) => [channel, value]);

/** The values in pending writes, with the ids the reducer gives messages left out (they differ from run to run). */
function withoutIds(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (key, item: unknown) => (key === 'id' && typeof item === 'string' && /^[0-9a-f-]{36}$/.test(item) ? undefined : item));
}

describe('writes stored as a part of a value their checkpoint stores', () => {
  const newSaver = useFreshSavers('write-sources');

  it(`serializes each message of a ${TURNS}-turn chat once: the input with its checkpoint, the reply as a write; the list's items are slices of those`, async () => {
    const saver = newSaver();
    await chat(saver, 'chat', TURNS);
    const decoder = new TextDecoder();
    const stored = await records(saver.dbName);
    const texts = storedBytes(stored).map((typed) => decoder.decode(typed.bytes));
    const copies = (text: string) => texts.filter((text_) => text_.includes(text)).length;
    for (let turn = 0; turn < TURNS; turn += 1) {
      // Before, the list stored each message again, with the id the reducer gave it after its write was stored.
      expect([copies(humanText(turn)), copies(aiText(turn))]).toEqual([1, 1]);
    }
    // A slice puts in at most the message's id, where it was given one after its bytes were stored.
    const slices = slicesIn(stored);
    expect(slices.map((slice) => (slice.write ? 'write' : slice.blob![0])).sort()).toEqual([...Array(TURNS).fill('__start__'), ...Array(TURNS).fill('write')]);
    for (const slice of slices) expect(decoder.decode(slice.insert)).toMatch(/^(,?"id":"[0-9a-f-]{36}",?)?$/);
    const { writes } = await records(saver.dbName);
    expect(writes.filter((write) => write.of).map((write) => [write.channel, write.of!.channel, decoder.decode(write.value.bytes)])).toEqual(
      Array.from({ length: TURNS }, () => ['messages', '__start__', '"messages"']),
    );
  });

  it('reads back the pending writes MemorySaver keeps, at every checkpoint, through list and getTuple', async () => {
    const saver = newSaver();
    const memory = new MemorySaver();
    await chat(saver, 'chat', 4);
    await chat(memory, 'chat', 4);
    const config = { configurable: { thread_id: 'chat' } };
    const stored = await collect(saver.list(config));
    const expected = await collect(memory.list(config));
    expect(withoutIds(stored.map(writesOf))).toEqual(withoutIds(expected.map(writesOf)));
    for (const tuple of stored) expect(writesOf(await saver.getTuple(tuple.config))).toEqual(writesOf(tuple));
    // The input task's write is the input itself: the messages without the ids the reducer adds later.
    const input = stored.find((tuple) => tuple.metadata?.source === 'input')!;
    const messages = writesOf(input)!.find(([written]) => written === 'messages')![1] as BaseMessage[];
    expect(messages.map((message) => [message.content, message.id])).toEqual([[humanText(3), undefined]]);
  });

  it('copyThread, prune and a new saver on the same database read the writes as before', async () => {
    const saver = newSaver();
    await chat(saver, 'chat', 3);
    const config = { configurable: { thread_id: 'chat' } };
    const before = (await collect(saver.list(config))).map(writesOf);
    await saver.copyThread('chat', 'copy');
    expect((await collect(saver.list({ configurable: { thread_id: 'copy' } }))).map(writesOf)).toEqual(before);
    // The newest turn's three checkpoints, its input checkpoint among them, with nothing older.
    await saver.prune({ threadIds: ['chat'], keepLatest: 3, keepAncestors: false });
    const reopened = newSaver({ dbName: saver.dbName });
    expect((await collect(reopened.list(config))).map(writesOf)).toEqual(before.slice(0, 3));
    await reopened.deleteThread('copy');
    const left = await records(saver.dbName);
    expect(left.writes.filter((write) => write.thread_id === 'copy')).toEqual([]);
    // Every write that is a part of a value still has that value, and every list item stored as a slice its source.
    for (const write of left.writes.filter((record) => record.of)) {
      expect(left.blobs.some((blob) => blob.thread_id === write.thread_id && blob.channel === write.of!.channel && blob.version === write.of!.version)).toBe(true);
    }
    const chatSlices = left.blobs.filter((blob) => blob.thread_id === 'chat').flatMap((blob) => slicesOf(blob));
    for (const { write, blob } of chatSlices) {
      const found = write
        ? left.writes.some((record) => record.thread_id === 'chat' && record.checkpoint_id === write[0] && record.task_id === write[1] && record.idx === write[2])
        : left.blobs.some((record) => record.thread_id === 'chat' && record.channel === blob![0] && record.version === blob![1]);
      expect(found).toBe(true);
    }
  });

  it('stores a list item whole when the write it would be a slice of holds other bytes (a write stored first under the same key)', async () => {
    const saver = newSaver();
    await chat(saver, 'chat', 2);
    const { blobs } = await records(saver.dbName);
    const sliced = blobs.find((blob) => slicesOf(blob).some((slice) => slice.write))!;
    const index = sliced.list!.items.findIndex((item) => isItemSlice(item) && item.write);
    const storage = new IndexedDBCheckpointStorage({ dbName: saver.dbName, durability: 'default' });
    const other = { type: 'json', bytes: new TextEncoder().encode(JSON.stringify('not what the write holds')) };
    try {
      const [checkpoint] = (await storage.listCheckpoints({ thread_id: 'chat' }, 1)).records;
      const copy: BlobRecord = { ...sliced, version: 999.5 };
      await storage.write({ kind: 'checkpoint', checkpoint: { ...checkpoint!, checkpoint_id: 'z-last' }, blobs: [copy], slicedItems: [{ blob: 0, item: index, bytes: other }] });
      const stored = (await records(saver.dbName)).blobs.find((blob) => blob.version === 999.5)!;
      expect(stored.list!.items[index]).toEqual(other);
      // A slice of a write that is not stored is refused.
      const dangling: BlobRecord = { ...sliced, version: 999.6, list: { ...sliced.list!, items: sliced.list!.items.map((item) => (isItemSlice(item) && item.write ? { ...item, write: ['none', 'none', 0] as [string, string, number] } : item)) } };
      const error = await storage.write({ kind: 'checkpoint', checkpoint: { ...checkpoint!, checkpoint_id: 'z-later' }, blobs: [dangling] }).catch((thrown: unknown) => thrown);
      expect(CheckpointError.is(error, "STORAGE"), String(error)).toBe(true);
      expect((error as Error).message).toMatch(/is a slice of a record that is not stored/);
      // In one batch, a later record under the same key is what stays, even when the earlier one's item is stored whole.
      const replaced: BlobRecord = { ...sliced, version: 999.7 };
      const another = { type: 'json', bytes: new TextEncoder().encode(JSON.stringify('what the later record holds')) };
      const later: BlobRecord = { ...sliced, version: 999.7, list: { ...sliced.list!, items: sliced.list!.items.map((item, i) => (i === index ? another : item)) } };
      await storage.commit([
        { kind: 'checkpoint', checkpoint: { ...checkpoint!, checkpoint_id: 'z-replaced' }, blobs: [replaced], slicedItems: [{ blob: 0, item: index, bytes: other }] },
        { kind: 'blobs', blobs: [later] },
      ]);
      expect((await records(saver.dbName)).blobs.find((blob) => blob.version === 999.7)).toEqual(later);
    } finally {
      await storage.close();
    }
    // The wire never carries a slice: the journal reads items whole.
    expect(() => toWireRecord({ kind: 'blob', ...sliced })).toThrow(/cannot travel on its own/);
  });

  it('the devtools reader shows the input task\'s write as its messages, and the next checkpoint\'s preview from it', async () => {
    const saver = newSaver();
    await chat(saver, 'chat', 2);
    const details = await readThreadDetails(saver.dbName, 'chat');
    const inputs = details.filter((detail) => detail.source === 'input');
    expect(inputs).toHaveLength(2);
    for (const input of inputs) {
      const write = input.pending_writes.find((pending) => pending.channel === 'messages');
      expect(JSON.stringify(write?.value)).toContain(humanText(input.step === -1 ? 0 : 1).trim());
    }
    const afterInput = details.find((detail) => detail.parent_checkpoint_id === inputs[0]!.checkpoint_id)!;
    expect(afterInput.message_preview).toContain('human says');
  });

  it('an encrypted saver stores the property name sealed and reads the writes back', async () => {
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const saver = newSaver({ encryption: { key } });
    await chat(saver, 'chat', 2);
    const { writes } = await records(saver.dbName);
    const parts = writes.filter((write) => write.of);
    expect(parts).toHaveLength(2);
    expect(parts.every((write) => write.value.type === 'juncture:aes-gcm')).toBe(true);
    const input = (await collect(saver.list({ configurable: { thread_id: 'chat' } }))).find((tuple) => tuple.metadata?.source === 'input')!;
    expect((writesOf(input)!.find(([channel]) => channel === 'messages')![1] as BaseMessage[])[0]!.content).toBe(humanText(1));
  });

  it('refuses to store a write that is a part of a value not stored, and the wire carries the reference', async () => {
    const saver = newSaver();
    await chat(saver, 'chat', 1);
    const [part] = (await records(saver.dbName)).writes.filter((write) => write.of);
    const storage = new IndexedDBCheckpointStorage({ dbName: saver.dbName, durability: 'default' });
    try {
      const dangling: WriteRecord = { ...part!, task_id: 'other', of: { channel: '__start__', version: 12345 } };
      const error = await storage.write({ kind: 'writes', writes: [dangling] }).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(CheckpointError);
      expect((error as CheckpointError).code).toBe('STORAGE');
      expect((error as CheckpointError).message).toMatch(/is a part of channel "__start__" at version 12345 .* which is not stored/);
      expect((await records(saver.dbName)).writes.some((write) => write.task_id === 'other')).toBe(false);
    } finally {
      await storage.close();
    }
    const wire = JSON.parse(JSON.stringify(toWireRecord({ kind: 'write', ...part! }))) as Record<string, unknown>;
    expect(readWireRecord(wire, 'records[0]')).toEqual({ kind: 'write', ...part! });
    expect(() => readWireRecord({ ...wire, of: { channel: '__start__' } }, 'records[0]')).toThrow(/records\[0\]\.of\.version/);
  });
});

describe('DeltaChannel snapshots: their new items are slices of the writes and inputs that brought them', () => {
  const newSaver = useFreshSavers('write-sources-delta');
  /** A snapshot every fourth update: every second turn. */
  const SNAPSHOTS = 4;
  // Messages get random ids as they are stored: compared without them.
  const state = async (checkpointer: BaseCheckpointSaver) => withoutIds((await chatGraph(checkpointer, SNAPSHOTS).getState({ configurable: { thread_id: 'chat' } })).values);
  const history = async (checkpointer: BaseCheckpointSaver) => {
    const states = [];
    for await (const snapshot of chatGraph(checkpointer, SNAPSHOTS).getStateHistory({ configurable: { thread_id: 'chat' } })) states.push([snapshot.values, snapshot.next]);
    return withoutIds(states) as unknown[];
  };

  it(`serializes each message of a ${TURNS}-turn chat once, through a reload halfway, and reads back what MemorySaver keeps`, async () => {
    const saver = newSaver();
    const memory = new MemorySaver();
    await chat(saver, 'chat', TURNS / 2, { snapshotFrequency: SNAPSHOTS });
    // A new saver on the same database knows the first half only as it reads it back.
    const reopened = newSaver({ dbName: saver.dbName });
    await chat(reopened, 'chat', TURNS / 2, { from: TURNS / 2, snapshotFrequency: SNAPSHOTS });
    await chat(memory, 'chat', TURNS, { snapshotFrequency: SNAPSHOTS });
    const decoder = new TextDecoder();
    const stored = await records(saver.dbName);
    const texts = storedBytes(stored).map((typed) => decoder.decode(typed.bytes));
    const copies = (text: string) => texts.filter((text_) => text_.includes(text)).length;
    for (let turn = 0; turn < TURNS; turn += 1) {
      // Before, each snapshot stored the messages new since the one before whole: two copies of each.
      expect([copies(humanText(turn)), copies(aiText(turn))]).toEqual([1, 1]);
    }
    const snapshots = stored.blobs.filter((blob) => blob.channel === 'messages');
    expect(snapshots.length).toBe(TURNS / 2);
    expect(snapshots.every((blob) => blob.list?.tag === 'delta_snapshot')).toBe(true);
    // A slice puts in at most the message's id, where it was given one after its bytes were stored.
    const slices = slicesIn(stored);
    expect(slices.map((slice) => (slice.write ? 'write' : slice.blob![0])).sort()).toEqual([...Array(TURNS).fill('__start__'), ...Array(TURNS).fill('write')]);
    for (const slice of slices) expect(decoder.decode(slice.insert)).toMatch(/^(,?"id":"[0-9a-f-]{36}",?)?$/);
    expect(await state(reopened)).toEqual(await state(memory));
    expect(await history(reopened)).toEqual(await history(memory));
  });

  it('export and import, copyThread, prune, the journal and the devtools reader read the snapshots whole', async () => {
    const saver = newSaver();
    const memory = new MemorySaver();
    await chat(saver, 'chat', 6, { snapshotFrequency: SNAPSHOTS });
    await chat(memory, 'chat', 6, { snapshotFrequency: SNAPSHOTS });
    const expected = await history(memory);
    const imported = newSaver();
    await importDatabase(await exportDatabase(saver.dbName), imported.dbName);
    expect(await history(imported)).toEqual(expected);
    await saver.copyThread('chat', 'copy');
    const copy = (await collect(saver.list({ configurable: { thread_id: 'copy' } }))).map((tuple) => tuple.checkpoint.channel_values);
    expect(copy).toEqual((await collect(saver.list({ configurable: { thread_id: 'chat' } }))).map((tuple) => tuple.checkpoint.channel_values));
    // The newest turn, and the ancestors its messages are rebuilt from: the writes older snapshots' slices name go.
    expect(await saver.prune({ threadIds: ['chat'], keepLatest: 3, keepAncestors: false })).toBeGreaterThan(0);
    const left = await records(saver.dbName);
    for (const { write, blob } of slicesIn({ blobs: left.blobs.filter((record) => record.thread_id === 'chat') })) {
      const found = write
        ? left.writes.some((record) => record.thread_id === 'chat' && record.checkpoint_id === write[0] && record.task_id === write[1] && record.idx === write[2])
        : left.blobs.some((record) => record.thread_id === 'chat' && record.channel === blob![0] && record.version === blob![1]);
      expect(found).toBe(true);
    }
    const reopened = newSaver({ dbName: saver.dbName });
    expect(await state(reopened)).toEqual(await state(memory));
    const kept = await history(reopened);
    expect(kept).toEqual(expected.slice(0, kept.length));
    // The devtools show the newest snapshot's messages; the journal carries every item whole.
    const details = await readThreadDetails(saver.dbName, 'copy');
    expect(details.some((detail) => detail.message_preview?.includes('ai answers 5'))).toBe(true);
    const storage = new IndexedDBCheckpointStorage({ dbName: saver.dbName, durability: 'default' });
    try {
      await storage.enableJournal();
      const blobs = (await storage.readJournal(1_000)).flatMap((read) => read.blobs);
      expect(blobs.some((blob) => blob.channel === 'messages')).toBe(true);
      expect(blobs.flatMap((blob) => slicesOf(blob))).toEqual([]);
      for (const blob of blobs) if (blob.list) toWireRecord({ kind: 'blob', ...blob });
    } finally {
      await storage.close();
    }
  });

  it('with maxCheckpointsPerThread, every slice kept has its source, and the chat reads back as MemorySaver keeps it', async () => {
    const saver = newSaver({ maxCheckpointsPerThread: 4 });
    const memory = new MemorySaver();
    await chat(saver, 'chat', 12, { snapshotFrequency: SNAPSHOTS });
    await chat(memory, 'chat', 12, { snapshotFrequency: SNAPSHOTS });
    const left = await records(saver.dbName);
    const slices = slicesIn(left);
    expect(slices.length).toBeGreaterThan(0);
    for (const { write, blob } of slices) {
      const found = write
        ? left.writes.some((record) => record.checkpoint_id === write[0] && record.task_id === write[1] && record.idx === write[2])
        : left.blobs.some((record) => record.channel === blob![0] && record.version === blob![1]);
      expect(found).toBe(true);
    }
    expect(await state(saver)).toEqual(await state(memory));
    const kept = await history(saver);
    expect(kept.length).toBeLessThan((await history(memory)).length);
    expect(kept).toEqual((await history(memory)).slice(0, kept.length));
  });

  it('an encrypted saver stores no slices and reads the chat back', async () => {
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const saver = newSaver({ encryption: { key } });
    const memory = new MemorySaver();
    await chat(saver, 'chat', 4, { snapshotFrequency: SNAPSHOTS });
    await chat(memory, 'chat', 4, { snapshotFrequency: SNAPSHOTS });
    const stored = await records(saver.dbName);
    expect(stored.blobs.filter((blob) => blob.channel === 'messages').length).toBe(2);
    expect(slicesIn(stored)).toEqual([]);
    expect(await state(saver)).toEqual(await state(memory));
  });
});

describe('what a saver remembers for slices is bounded', () => {
  const rebuilding = (sources: WriteSources, id: number, parent: number | undefined) =>
    sources.remember('t', '', { id: `cp-${id}`, parentId: parent === undefined ? undefined : `cp-${parent}`, versions: { messages: id }, rebuilds: ['messages'] }, [], async () => undefined);
  const bytes = (length: number): Promise<TypedBytes> => Promise.resolve({ type: 'json', bytes: new Uint8Array(length) });

  it(`forgets the least recent checkpoints past ${MAX_CHECKPOINTS}: an item only they hold has no source (it is stored whole)`, () => {
    const sources = new WriteSources();
    const replies = Array.from({ length: MAX_CHECKPOINTS + 1 }, (_, i) => ({ reply: i }));
    replies.forEach((reply, i) => {
      rebuilding(sources, i, i === 0 ? undefined : i - 1);
      sources.rememberWrites('t', '', `cp-${i}`, [{ task_id: 'task', idx: 0, value: [reply], bytes: bytes(1) }]);
    });
    const sourceOf = sources.sliceSourcesFor('t', '', `cp-${MAX_CHECKPOINTS}`, 'messages');
    expect(sourceOf(replies[0])).toBeUndefined();
    expect(sourceOf(replies[1])?.of).toEqual({ write: ['cp-1', 'task', 0] });
    expect(sourceOf(replies[MAX_CHECKPOINTS])?.of).toEqual({ write: [`cp-${MAX_CHECKPOINTS}`, 'task', 0] });
  });

  it(`forgets the least recent checkpoints once their sources hold more than ${MAX_SOURCE_BYTES / 2 ** 20} MiB`, async () => {
    const sources = new WriteSources();
    const [older, newer] = [{ reply: 'older' }, { reply: 'newer' }];
    rebuilding(sources, 0, undefined);
    sources.rememberWrites('t', '', 'cp-0', [{ task_id: 'task', idx: 0, value: older, bytes: bytes(MAX_SOURCE_BYTES / 2 + 1) }]);
    rebuilding(sources, 1, 0);
    sources.rememberWrites('t', '', 'cp-1', [{ task_id: 'task', idx: 0, value: newer, bytes: bytes(MAX_SOURCE_BYTES / 2) }]);
    expect(sources.sliceSourcesFor('t', '', 'cp-1', 'messages')(older)).toBeDefined();
    // Weighed once serialized.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const sourceOf = sources.sliceSourcesFor('t', '', 'cp-1', 'messages');
    expect(sourceOf(older)).toBeUndefined();
    expect(sourceOf(newer)).toBeDefined();
  });

  it('walks back only while a checkpoint rebuilds the channel, and stops at one with a stored value of it, as retention does', () => {
    const sources = new WriteSources();
    const [beforeStored, atStored, keptVersion, afterStored] = [{ m: 1 }, { m: 2 }, { m: 3 }, { m: 4 }];
    sources.remember('t', '', { id: 'cp-0', parentId: undefined, versions: { messages: 0 }, rebuilds: ['messages'] }, [], async () => undefined);
    sources.rememberWrites('t', '', 'cp-0', [{ task_id: 'task', idx: 0, value: beforeStored, bytes: bytes(1) }]);
    sources.remember('t', '', { id: 'cp-1', parentId: 'cp-0', versions: { messages: 1 }, rebuilds: [] }, [['messages', 1, []]], async () => undefined);
    sources.rememberWrites('t', '', 'cp-1', [{ task_id: 'task', idx: 0, value: atStored, bytes: bytes(1) }]);
    // Keeps the version, so the value, of cp-1, without storing it: retention keeps none of its ancestors for it.
    sources.remember('t', '', { id: 'cp-2', parentId: 'cp-1', versions: { messages: 1 }, rebuilds: ['messages'] }, [], async () => undefined);
    sources.rememberWrites('t', '', 'cp-2', [{ task_id: 'task', idx: 0, value: keptVersion, bytes: bytes(1) }]);
    rebuilding(sources, 3, 2);
    sources.rememberWrites('t', '', 'cp-3', [{ task_id: 'task', idx: 0, value: afterStored, bytes: bytes(1) }]);
    const sourceOf = sources.sliceSourcesFor('t', '', 'cp-3', 'messages');
    expect([beforeStored, atStored, keptVersion, afterStored].map((item) => sourceOf(item)?.of.write?.[0])).toEqual([undefined, undefined, 'cp-2', 'cp-3']);
    expect(sources.sliceSourcesFor('t', '', 'cp-1', 'messages')(atStored)?.of.write?.[0]).toBe('cp-1');
    // Another channel, which the checkpoints neither store nor rebuild: the parent's sources only.
    expect(sources.sliceSourcesFor('t', '', 'cp-3', 'other')(keptVersion)).toBeUndefined();
  });
});
