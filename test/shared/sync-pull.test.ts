// A device's pulls: each page is stored with its cursor in one transaction, in order, so the stored cursor never
// passes a page that was not stored; changes of a thread deleted here are left out.
import type { IndexedDBCheckpointStorage } from '../../src/storage/checkpoint-store.js';
import { bookmarkKey, pull, type PullBookmark } from '../../src/sync/replication.js';
import type { PullRequest, PullResponse } from '../../src/wire/protocol.js';
import { toWireRecord, type WireRecord } from '../../src/wire/records.js';
import type { CheckpointRecord } from '../../src/storage/records.js';
import { checkpointOperation, jsonBytes } from '../support/fixtures.js';
import { readEveryRecord } from '../support/raw-records.js';
import { journaledDatabases, replicaOf } from '../support/replica.js';

const database = journaledDatabases('pull');

afterEach(() => {
  vi.restoreAllMocks();
});

/** Page `n` (from 1) holds checkpoints `n-0` … of each thread named, in that order. */
type Pages = string[][];

function checkpointOf(thread_id: string, checkpoint_id: string): CheckpointRecord {
  const operation = checkpointOperation(thread_id, checkpoint_id);
  if (operation.kind !== 'checkpoint') throw new Error('a checkpoint operation');
  return operation.checkpoint as CheckpointRecord;
}

/** A server that answers pulls with `pages`, cursor `page-n` after page n. */
function server(storage: IndexedDBCheckpointStorage, pages: Pages) {
  const asked: (string | null)[] = [];
  const transport = {
    async post(endpoint: string, body: unknown): Promise<PullResponse> {
      expect(endpoint).toBe('pull');
      const cursor = (body as PullRequest).cursor ?? null;
      asked.push(cursor);
      const index = cursor === null ? 0 : Number(cursor.slice('page-'.length));
      const changes = pages[index]!.map((thread, i) => toWireRecord({ kind: 'checkpoint', ...checkpointOf(thread, `${index + 1}-${i}`) }));
      return { changes, cursor: `page-${index + 1}`, more: index + 1 < pages.length, resync: false };
    },
  };
  const replica = replicaOf(storage, transport);
  return { replica, asked };
}

/**
 * A server with one page of changes, cursor `page-1`, that answers a pull of one thread's whole history (`threads`)
 * with `whole(thread_id)`, cursor `whole-1`.
 */
function historyServer(storage: IndexedDBCheckpointStorage, answers: { page: WireRecord[]; whole: (thread_id: string) => WireRecord[] }) {
  const asked: PullRequest[] = [];
  const transport = {
    async post(endpoint: string, body: unknown): Promise<PullResponse> {
      expect(endpoint).toBe('pull');
      const request = body as PullRequest;
      asked.push(request);
      const thread_id = request.threads?.[0];
      if (thread_id !== undefined) return { changes: answers.whole(thread_id), cursor: 'whole-1', more: false, resync: false };
      return { changes: answers.page, cursor: 'page-1', more: false, resync: false };
    },
  };
  return { replica: replicaOf(storage, transport), asked };
}

const bookmark = (cursor: string | null = null): PullBookmark => ({ key: bookmarkKey('https://sync.test/sync'), scope: 'all', cursor, rescoped: false });

async function storedIds(storage: IndexedDBCheckpointStorage, thread_id: string): Promise<string[]> {
  const { records } = await storage.listCheckpoints({ thread_id }, 100);
  return records.map((record) => record.checkpoint_id).sort();
}

describe('pulling pages', () => {
  it('stores no page after one that failed, keeps the cursor before it, and resumes there', async () => {
    const storage = await database();
    const pages: Pages = Array.from({ length: 4 }, () => ['t']);
    const { replica, asked } = server(storage, pages);
    const handedOver = vi.spyOn(storage, 'applyChanges');
    const add = IDBObjectStore.prototype.add;
    let refuse = true;
    // IndexedDB refuses the second page's checkpoint once (a value it cannot store).
    vi.spyOn(IDBObjectStore.prototype, 'add').mockImplementation(function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (refuse && (value as { checkpoint_id?: string }).checkpoint_id === '2-0') {
        refuse = false;
        throw new DOMException('The value could not be cloned.', 'DataCloneError');
      }
      return add.call(this, value, key);
    });

    await expect(pull(replica, bookmark())).rejects.toMatchObject({ name: 'CheckpointError', message: expect.stringMatching(/Storing checkpoint 2-0.*could not be cloned/) });
    // The third page was asked for while the second was being stored, and not handed over after it failed.
    expect(asked.slice(0, 3)).toEqual([null, 'page-1', 'page-2']);
    expect(handedOver).toHaveBeenCalledTimes(2);
    expect(await storedIds(storage, 't')).toEqual(['1-0']);
    expect(await storage.readSetting(bookmark().key)).toEqual({ scope: 'all', cursor: 'page-1' });

    asked.length = 0;
    expect(await pull(replica, bookmark('page-1'))).toMatchObject({ cursor: 'page-4', changes: 3 });
    expect(asked).toEqual(['page-1', 'page-2', 'page-3']);
    expect(await storedIds(storage, 't')).toEqual(['1-0', '2-0', '3-0', '4-0']);
  });

  it('leaves out the changes of a thread deleted here, and stores the rest of their page and the pages after it', async () => {
    const storage = await database();
    await storage.write(checkpointOperation('gone', '0-0'));
    await storage.write({ kind: 'delete', thread_id: 'gone' });
    const pages: Pages = [['kept'], ['gone', 'kept'], ['kept'], ['kept']];
    const { replica } = server(storage, pages);

    expect(await pull(replica, bookmark())).toEqual({ cursor: 'page-4', changes: 5, resynced: false, prunes: 0 });
    expect(await storedIds(storage, 'kept')).toEqual(['1-0', '2-1', '3-0', '4-0']);
    expect(await storedIds(storage, 'gone')).toEqual([]);
    expect(await storage.readSetting(bookmark().key)).toEqual({ scope: 'all', cursor: 'page-4' });
  });

  it.each([
    ['the server holds the history pruned here', true],
    ['nobody holds it (pruned before it was pushed)', false],
  ])('pulls a thread whole once when a page builds on history not stored here: %s', async (_, serverHasParent) => {
    const storage = await database();
    const delta = (checkpoint_id: string, parent?: string) =>
      toWireRecord({ kind: 'checkpoint', ...checkpointOf('delta', checkpoint_id), delta_channels: ['messages'], ...(parent ? { parent_checkpoint_id: parent } : {}) });
    const { replica, asked } = historyServer(storage, {
      page: [delta('c-2', 'c-1'), toWireRecord({ kind: 'checkpoint', ...checkpointOf('other', 'o-1') })],
      whole: () => [...(serverHasParent ? [delta('c-1')] : []), delta('c-2', 'c-1')],
    });

    expect(await pull(replica, bookmark())).toEqual({ cursor: 'page-1', changes: 2, resynced: false, prunes: 0 });
    // The thread's history is asked for from the start, this device's own pushes included, and only once.
    expect(asked).toEqual([{ cursor: null, clientId: replica.clientId }, { cursor: null, threads: ['delta'] }]);
    expect(await storedIds(storage, 'delta')).toEqual(serverHasParent ? ['c-1', 'c-2'] : ['c-2']);
    expect(await storedIds(storage, 'other')).toEqual(['o-1']);
    expect(await storage.readSetting(bookmark().key)).toEqual({ scope: 'all', cursor: 'page-1' });
  });

  it.each([
    ['the server holds both', true],
    ['the server lacks the second thread\'s (pushed without it)', false],
  ])('pulls each thread whole once when lists of a page build on versions not stored here: %s', async (_, serverHasBases) => {
    const storage = await database();
    const item = (text: string) => ({ type: 'json', bytes: new TextEncoder().encode(JSON.stringify(text)) });
    const list = (thread_id: string, version: number) =>
      toWireRecord({ kind: 'blob', thread_id, checkpoint_ns: '', channel: 'messages', version, value: null, list: { items: [item(`${thread_id} ${version}`)], ...(version > 1 ? { base: version - 1 } : {}) } });
    const { replica, asked } = historyServer(storage, {
      page: [list('one', 2), list('two', 2)],
      whole: (thread_id) => [...(serverHasBases || thread_id === 'one' ? [list(thread_id, 1)] : []), list(thread_id, 2)],
    });
    const stored = async () =>
      ((await readEveryRecord(storage.dbName)).blobs as { thread_id: string; version: number }[]).map(({ thread_id, version }) => `${thread_id} ${version}`).sort();

    if (serverHasBases) {
      expect(await pull(replica, bookmark())).toEqual({ cursor: 'page-1', changes: 2, resynced: false, prunes: 0 });
      expect(await stored()).toEqual(['one 1', 'one 2', 'two 1', 'two 2']);
      expect(await storage.readSetting(bookmark().key)).toEqual({ scope: 'all', cursor: 'page-1' });
    } else {
      // A list cannot be stored without the list it builds on: a typed error that names it, and the page is not stored.
      await expect(pull(replica, bookmark())).rejects.toMatchObject({
        code: 'STORAGE',
        message: expect.stringMatching(/list of channel "messages" at version 2 of thread "two" from elsewhere builds on its version 1, which is not stored here/),
      });
      expect(await stored()).toEqual(['one 1', 'one 2']);
      expect(await storage.readSetting(bookmark().key)).toBeUndefined();
    }
    // Each thread's history is asked for once, from the start; a batch reports the first list it misses.
    expect(asked).toEqual([{ cursor: null, clientId: replica.clientId }, { cursor: null, threads: ['one'] }, { cursor: null, threads: ['two'] }]);
  });

  it('pulls a thread whole when a pulled write is a part of a value not stored here', async () => {
    const storage = await database();
    const input = toWireRecord({ kind: 'blob', thread_id: 'input', checkpoint_ns: '', channel: '__start__', version: 1, value: { type: 'json', bytes: new TextEncoder().encode('{"topic":"weather"}') } });
    const checkpoint = toWireRecord({ kind: 'checkpoint', ...checkpointOf('input', 'c-1'), channel_versions: { __start__: 1 } });
    const write = toWireRecord({
      kind: 'write',
      thread_id: 'input',
      checkpoint_ns: '',
      checkpoint_id: 'c-1',
      task_id: 'task',
      idx: 0,
      channel: 'topic',
      value: jsonBytes('"topic"'),
      task_path: '~__pregel_pull, __start__',
      of: { channel: '__start__', version: 1 },
    });
    // The page brings the input task's write; its checkpoint and value came in a page before, and were pruned here.
    const { replica, asked } = historyServer(storage, { page: [write], whole: () => [checkpoint, input, write] });

    expect(await pull(replica, bookmark())).toEqual({ cursor: 'page-1', changes: 1, resynced: false, prunes: 0 });
    expect(asked).toEqual([{ cursor: null, clientId: replica.clientId }, { cursor: null, threads: ['input'] }]);
    const records = await readEveryRecord(storage.dbName);
    expect(records.checkpoints).toHaveLength(1);
    expect(records.writes).toHaveLength(1);
  });
});
