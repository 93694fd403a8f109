import { IndexedDBCheckpointStorage } from '../../src/storage/checkpoint-store.js';
import type { WriteOperation } from '../../src/storage/storage.js';
import { CoalescingWriter } from '../../src/storage/coalescing-writer.js';
import type { WriteRecord } from '../../src/storage/records.js';
import { CheckpointError } from '../../src/index.js';
import { checkpointOperation, countRecords, freshDbName, jsonBytes } from '../support/fixtures.js';


function writesOperation(thread_id: string, checkpoint_id: string, task_id: string, value: string): WriteOperation {
  const write: WriteRecord = { thread_id, checkpoint_ns: '', checkpoint_id, task_id, idx: 0, channel: 'c', value: jsonBytes(value), task_path: '' };
  return { kind: 'writes', writes: [write] };
}

describe('CoalescingWriter', () => {
  let storage: IndexedDBCheckpointStorage;
  let batches: number[];
  let writer: CoalescingWriter;
  beforeEach(() => {
    storage = new IndexedDBCheckpointStorage({ dbName: freshDbName('coalesce'), durability: 'default' });
    batches = [];
    writer = new CoalescingWriter((operations) => {
      batches.push(operations.length);
      return storage.commit(operations);
    });
  });
  afterEach(async () => {
    await storage.close();
    await IndexedDBCheckpointStorage.deleteDatabase(storage.dbName);
  });

  it('commits what is submitted together in one transaction, and what arrives meanwhile in the next one', async () => {
    const first = [writer.submit(checkpointOperation('t', 'a')), writer.submit(writesOperation('t', 'a', 'x', 'x'))];
    await vi.waitFor(() => expect(batches).toEqual([2]));
    const next = [
      ...['y', 'z'].map((task) => writer.submit(writesOperation('t', 'a', task, task))),
      writer.submit(checkpointOperation('t', 'b')),
    ];
    await Promise.all([...first, ...next]);
    expect(batches).toEqual([2, 3]);
    expect(await countRecords(storage.dbName)).toEqual({ checkpoints: 2, blobs: 0, writes: 3 });
  });

  it('keeps the first regular write of a key within one batch', async () => {
    await writer.submit(checkpointOperation('t', 'a'));
    await Promise.all([
      writer.submit(checkpointOperation('t', 'b')),
      writer.submit(writesOperation('t', 'a', 'task', 'first')),
      writer.submit(writesOperation('t', 'a', 'task', 'second')),
    ]);
    const tuple = await storage.getTuple('t', '', 'a');
    expect(tuple?.writes.map((write) => new TextDecoder().decode(write.value.bytes))).toEqual(['"first"']);
  });

  it('fails exactly the operation whose data is bad, and commits the rest of its batch', async () => {
    const first = writer.submit(checkpointOperation('t', 'a'));
    const bad = checkpointOperation('t', 'b') as Extract<WriteOperation, { kind: 'checkpoint' }>;
    // A key IndexedDB refuses: the batch aborts, then each operation is retried alone.
    bad.checkpoint.checkpoint_id = { not: 'a key' } as unknown as string;
    const results = await Promise.allSettled([
      first,
      writer.submit(writesOperation('t', 'a', 'x', 'x')),
      writer.submit(bad),
      writer.submit(checkpointOperation('t', 'c')),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const error = (results[2] as PromiseRejectedResult).reason as CheckpointError;
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.code).toBe('STORAGE');
    expect(batches).toEqual([4, 1, 1, 1, 1]);
    expect(await countRecords(storage.dbName)).toEqual({ checkpoints: 2, blobs: 0, writes: 1 });
  });

  it('settled() waits for everything submitted so far', async () => {
    const pending = [writer.submit(checkpointOperation('t', 'a')), writer.submit(checkpointOperation('t', 'b'))];
    await writer.settled();
    expect(writer.backlog).toBe(0);
    expect((await storage.getTuple('t', ''))?.checkpoint.checkpoint_id).toBe('b');
    await Promise.all(pending);
  });
});
