// A device's pushes: the next journal entries are read while a push is in flight, and entries leave the journal
// only once the server answered for them, so a push that fails halfway through the journal loses nothing, and a
// retry sends again only what the server may not have.
import { CheckpointError } from '../../src/errors.js';
import type { IndexedDBCheckpointStorage } from '../../src/storage/checkpoint-store.js';
import { push } from '../../src/sync/replication.js';
import type { PushRequest, PushResponse } from '../../src/wire/protocol.js';
import { readWireRecord } from '../../src/wire/records.js';
import { checkpointOperation, jsonBytes } from '../support/fixtures.js';
import { journaledDatabases, replicaOf } from '../support/replica.js';

/** More entries than one read of the journal takes (500), so a push round reads it twice. */
const ENTRIES = 700;

const database = journaledDatabases('push');

/** A database whose journal holds `ENTRIES` checkpoints, numbered in commit order. */
async function journaled(): Promise<IndexedDBCheckpointStorage> {
  const storage = await database();
  await Promise.all(Array.from({ length: ENTRIES }, (_, i) => storage.write(checkpointOperation('thread', String(i).padStart(4, '0')))));
  expect(await storage.journalSize()).toBe(ENTRIES);
  return storage;
}

type Fault = 'unreachable' | 'answer-lost' | 'bad-commit';

/**
 * A server that keeps what it is sent, by checkpoint id, in the order received. `fail` says how the push with
 * that number (from 1) fails: it never arrives, or it is stored and its answer is lost.
 */
function server(storage: IndexedDBCheckpointStorage, fail: Map<number, Fault> = new Map()) {
  const received: string[] = [];
  const readsBeforeAnswer: number[] = [];
  const reads = vi.spyOn(storage, 'readJournal');
  let pushes = 0;
  const transport = {
    async post(endpoint: string, body: unknown): Promise<PushResponse> {
      expect(endpoint).toBe('push');
      pushes += 1;
      readsBeforeAnswer.push(reads.mock.calls.length);
      // A moment in flight, in which the device may read on.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const fault = fail.get(pushes);
      if (fault === 'unreachable') throw new CheckpointError('UNAVAILABLE', 'The sync server could not be reached for push.');
      const records = (body as PushRequest).records.map((record, i) => readWireRecord(record, `records[${i}]`));
      // The bytes travel in base64 (the browser's own encoder where it has one) and read back as stored.
      for (const record of records) if (record.kind === 'checkpoint') expect(record.checkpoint).toEqual(jsonBytes('checkpoint'));
      const ids = records.flatMap((record) => (record.kind === 'checkpoint' ? [record.checkpoint_id] : []));
      received.push(...ids);
      if (fault === 'answer-lost') throw new CheckpointError('UNAVAILABLE', 'The answer of the sync server to push was cut off.');
      if (fault === 'bad-commit') return { stored: ids.length, duplicates: 0, deletedThreads: [], commit: { from: 7 } } as unknown as PushResponse;
      return { stored: ids.length, duplicates: 0, deletedThreads: [] };
    },
  };
  const replica = replicaOf(storage, transport);
  return { replica, received, readsBeforeAnswer };
}

const allIds = Array.from({ length: ENTRIES }, (_, i) => String(i).padStart(4, '0'));

describe('pushing the journal', () => {
  it('reads the next entries while a push is in flight, and sends them all once, in commit order', async () => {
    const storage = await journaled();
    const { replica, received, readsBeforeAnswer } = server(storage);
    expect((await push(replica)).sent).toBe(ENTRIES);
    // The first push was in flight when the entries after it were being read.
    expect(readsBeforeAnswer[0]).toBe(2);
    expect(received).toEqual(allIds);
    expect(await storage.journalSize()).toBe(0);
  });

  it('keeps the entries read ahead when a push fails mid-way: the retry sends each entry not yet answered once', async () => {
    const storage = await journaled();
    const { replica, received } = server(storage, new Map([[2, 'unreachable']]));
    await expect(push(replica)).rejects.toThrow(/could not be reached/);
    // The first read's entries were answered and taken out; those read ahead wait, none lost.
    expect(await storage.journalSize()).toBe(ENTRIES - 500);
    expect(received).toEqual(allIds.slice(0, 500));
    expect((await push(replica)).sent).toBe(ENTRIES - 500);
    expect(received).toEqual(allIds);
    expect(await storage.journalSize()).toBe(0);
  });

  it('refuses an answer whose commit cursors are malformed with a SYNC error, and keeps the entries to send again', async () => {
    const storage = await journaled();
    const { replica } = server(storage, new Map([[1, 'bad-commit']]));
    const failure = await push(replica).catch((error: unknown) => error);
    expect(CheckpointError.is(failure, 'SYNC')).toBe(true);
    expect((failure as Error).message).toMatch(/malformed: commit must hold the cursors from and to/);
    expect(await storage.journalSize()).toBe(ENTRIES);
  });

  it('sends again only the push whose answer was lost, in order, when the server stored it', async () => {
    const storage = await journaled();
    const { replica, received } = server(storage, new Map([[2, 'answer-lost']]));
    await expect(push(replica)).rejects.toThrow(/cut off/);
    expect(await storage.journalSize()).toBe(ENTRIES - 500);
    await push(replica);
    // At least once: the unanswered push arrives twice, every other entry once.
    expect(received).toEqual([...allIds, ...allIds.slice(500)]);
    expect(await storage.journalSize()).toBe(0);
  });
});
