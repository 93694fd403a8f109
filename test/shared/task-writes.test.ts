import { openDB } from 'idb';
import { MemorySaver, type BaseCheckpointSaver, type PendingWrite } from '@langchain/langgraph-checkpoint';
import { IndexedDBCheckpointStorage } from '../../src/storage/checkpoint-store.js';
import { deleteDatabase } from '../../src/storage/database.js';
import type { StoredWriteRecord, WriteRecord } from '../../src/storage/records.js';
import { writesIn } from '../../src/storage/task-writes.js';
import { checkpointId, countRecords, freshDbName, jsonBytes, makeCheckpoint, makeMetadata, threadConfig, useFreshSavers } from '../support/fixtures.js';

const newSaver = useFreshSavers('task-writes');

/** A thread with one checkpoint, whose pending writes the test then stores. */
async function oneCheckpoint(saver: BaseCheckpointSaver) {
  return saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1), { topic: 'a' }), makeMetadata(0), { topic: 1 });
}

/** Each call of `calls` stored by `putWrites` in turn (awaited, or all at once), then the pending writes read back. */
async function pendingAfter(saver: BaseCheckpointSaver, calls: [task: string, writes: PendingWrite[]][], atOnce = false) {
  const config = await oneCheckpoint(saver);
  if (atOnce) await Promise.all(calls.map(([task, writes]) => saver.putWrites(config, writes, task)));
  else for (const [task, writes] of calls) await saver.putWrites(config, writes, task);
  return (await saver.getTuple(config))?.pendingWrites;
}

async function storedRecords(dbName: string): Promise<StoredWriteRecord[]> {
  const db = await openDB(dbName);
  try {
    return (await db.getAll('writes')) as StoredWriteRecord[];
  } finally {
    db.close();
  }
}

describe("a task's writes in one record", () => {
  it('stores the regular writes of a call in one record, and reads back what MemorySaver does', async () => {
    const saver = newSaver();
    const calls: [string, PendingWrite[]][] = [['task-1', [['topic', 'b'], ['notes', 'n'], ['count', 3]]], ['task-2', [['topic', 'c']]]];
    expect(await pendingAfter(saver, calls)).toEqual(await pendingAfter(new MemorySaver(), calls));
    // One record per task: three writes in one, and a lone write as it always was.
    expect((await countRecords(saver.dbName)).writes).toBe(2);
    const [together] = (await storedRecords(saver.dbName)).filter((record) => record.task_id === 'task-1');
    expect(together).toMatchObject({ idx: 0, writes: [{ idx: 0, channel: 'topic' }, { idx: 1, channel: 'notes' }, { idx: 2, channel: 'count' }] });
  });

  it('keeps the first value of each index when a task is stored again, and adds the writes at new indexes', async () => {
    const calls: [string, PendingWrite[]][] = [
      ['task-1', [['topic', 'first'], ['notes', 'first']]],
      ['task-1', [['topic', 'second'], ['notes', 'second'], ['count', 2]]],
      ['task-1', [['topic', 'third']]],
    ];
    const expected = await pendingAfter(new MemorySaver(), calls);
    expect(expected).toEqual([['task-1', 'topic', 'first'], ['task-1', 'notes', 'first'], ['task-1', 'count', 2]]);
    expect(await pendingAfter(newSaver(), calls)).toEqual(expected);
    // Called without awaiting, the calls are committed together: the same values.
    expect(await pendingAfter(newSaver(), calls, true)).toEqual(expected);
  });

  it('stores special writes one by one, each replacing what it replaces, beside the regular ones of the same call', async () => {
    const calls: [string, PendingWrite[]][] = [
      ['task-1', [['__interrupt__', [{ value: 'ask' }]]]],
      ['task-1', [['__resume__', 'yes'], ['topic', 'b'], ['notes', 'n']]],
      ['task-1', [['__interrupt__', [{ value: 'again' }]], ['topic', 'late'], ['count', 1]]],
    ];
    const saver = newSaver();
    // The same writes; the saver gives them in the order LangGraph applies them (by index within a task).
    const sorted = (writes: unknown[] | undefined) => writes?.map((write) => JSON.stringify(write)).sort();
    const expected = await pendingAfter(new MemorySaver(), calls);
    expect(sorted(expected)).toEqual(sorted([['task-1', '__interrupt__', [{ value: 'again' }]], ['task-1', '__resume__', 'yes'], ['task-1', 'topic', 'b'], ['task-1', 'notes', 'n']]));
    expect(sorted(await pendingAfter(saver, calls))).toEqual(sorted(expected));
    const records = await storedRecords(saver.dbName);
    expect(records.map((record) => record.idx).sort((a, b) => a - b)).toEqual([-4, -3, 0]);
  });

  it('reads a database written one record per write as before, and a task stored again there keeps its first values', async () => {
    const saver = newSaver();
    const config = await oneCheckpoint(saver);
    // As schema 5 stored a task's writes: one record per index.
    const db = await openDB(saver.dbName);
    const old = (idx: number, channel: string, text: string): WriteRecord => ({
      thread_id: 't',
      checkpoint_ns: '',
      checkpoint_id: checkpointId(1),
      task_id: 'task-1',
      idx,
      channel,
      value: jsonBytes(text),
      task_path: '',
    });
    for (const record of [old(0, 'topic', 'old'), old(1, 'notes', 'old')]) await db.put('writes', record);
    db.close();
    expect((await saver.getTuple(config))?.pendingWrites).toEqual([['task-1', 'topic', 'old'], ['task-1', 'notes', 'old']]);
    await saver.putWrites(config, [['topic', 'new'], ['notes', 'new'], ['count', 'new']], 'task-1');
    expect((await saver.getTuple(config))?.pendingWrites).toEqual([['task-1', 'topic', 'old'], ['task-1', 'notes', 'old'], ['task-1', 'count', 'new']]);
  });

  it('reads each write once when a task whose writes schema 5 stored from index 1 on is stored again', async () => {
    const saver = newSaver();
    const config = await oneCheckpoint(saver);
    // A resumed node's call as schema 5 stored it: its resume value first (a special write), so the first regular
    // write at index 1, on its own.
    const db = await openDB(saver.dbName);
    await db.put('writes', { thread_id: 't', checkpoint_ns: '', checkpoint_id: checkpointId(1), task_id: 'task-1', idx: 1, channel: 'topic', value: jsonBytes('old'), task_path: '' } satisfies WriteRecord);
    db.close();
    await saver.putWrites(config, [['__resume__', 'yes'], ['topic', 'new'], ['notes', 'new']], 'task-1');
    const sorted = (writes: unknown[] | undefined) => writes?.map((write) => JSON.stringify(write)).sort();
    expect(sorted((await saver.getTuple(config))?.pendingWrites)).toEqual(sorted([['task-1', '__resume__', 'yes'], ['task-1', 'topic', 'old'], ['task-1', 'notes', 'new']]));
  });

  it('changes from elsewhere that bring a task again keep what is stored; a deletion in the same batch leaves the task empty', async () => {
    const dbName = freshDbName('task-writes-elsewhere');
    const storage = new IndexedDBCheckpointStorage({ dbName, durability: 'default' });
    const write = (idx: number, text: string): WriteRecord => ({
      thread_id: 't',
      checkpoint_ns: '',
      checkpoint_id: 'c1',
      task_id: 'task',
      idx,
      channel: `ch${idx}`,
      value: jsonBytes(text),
      task_path: '',
    });
    const read = async () => writesIn(await storedRecords(dbName)).map((stored) => [stored.idx, new TextDecoder().decode(stored.value.bytes)]);
    try {
      await storage.applyChanges([{ kind: 'writes', writes: [write(0, 'a')] }]);
      await storage.applyChanges([{ kind: 'writes', writes: [write(0, 'b'), write(1, 'b')] }]);
      expect(await read()).toEqual([[0, '"a"'], [1, '"b"']]);
      await storage.applyChanges([
        { kind: 'writes', writes: [write(0, 'c')] },
        { kind: 'delete', thread_id: 't' },
        { kind: 'writes', writes: [write(1, 'd')] },
      ]);
      expect(await read()).toEqual([[1, '"d"']]);
    } finally {
      await storage.close();
      await deleteDatabase(dbName);
    }
  });
});
