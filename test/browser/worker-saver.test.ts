import { deltaChannelHistoryTests, validate } from '@langchain/langgraph-checkpoint-validation';
import { AIMessage, HumanMessage } from '@langchain/core/messages';
import { MemorySaver } from '@langchain/langgraph-checkpoint';
import { BrowserSaver, CheckpointError, WorkerSaver, type CheckpointChange } from '../../src/index.js';
import { slicesOf } from '../../src/storage/lists.js';
import type { BlobRecord } from '../../src/storage/records.js';
import { buildChatGraph, human } from '../support/chat-graph.js';
import { checkpointId, collect, freshDbName, makeCheckpoint, makeMetadata, threadConfig } from '../support/fixtures.js';
import { readEveryRecord } from '../support/raw-records.js';
import { runScenario } from '../support/scenario.js';

const storageWorker = new Worker(new URL('../../src/worker.ts', import.meta.url), { type: 'module' });

const initializer = {
  checkpointerName: 'WorkerSaver',
  createCheckpointer: () => new WorkerSaver({ dbName: freshDbName('worker-validation'), worker: storageWorker }),
  destroyCheckpointer: async (saver: WorkerSaver) => {
    await saver.close();
    await BrowserSaver.deleteDatabase(saver.dbName);
  },
};
validate(initializer);
deltaChannelHistoryTests(initializer);

describe('WorkerSaver', () => {
  const savers: (WorkerSaver | BrowserSaver)[] = [];
  function track<T extends WorkerSaver | BrowserSaver>(saver: T): T {
    savers.push(saver);
    return saver;
  }
  afterEach(async () => {
    for (const saver of savers.splice(0)) {
      await saver.close().catch(() => undefined);
      await BrowserSaver.deleteDatabase(saver.dbName);
    }
  });

  it('starts its own worker when given none, and runs the agent as MemorySaver does', async () => {
    const saver = track(new WorkerSaver({ dbName: freshDbName('default-worker') }));
    expect(await runScenario(saver)).toEqual(await runScenario(new MemorySaver()));
  });

  // On DeltaChannel, a snapshot every second turn, whose items are slices of the writes of the turns before.
  it.each([false, true])('stores a chat\'s new messages as slices of what brought them, encoded on the page, and reads back what MemorySaver keeps (DeltaChannel: %s)', async (delta) => {
    const saver = track(new WorkerSaver({ dbName: freshDbName('slices'), worker: storageWorker }));
    const memory = new MemorySaver();
    const config = threadConfig('chat');
    for (let turn = 0; turn < 4; turn += 1) {
      for (const checkpointer of [saver, memory]) await buildChatGraph(checkpointer, { delta, snapshotFrequency: 4 }).invoke({ messages: [human(`turn ${turn} ${'words '.repeat(20)}`, turn)] }, config);
    }
    const blobs = (await readEveryRecord(saver.dbName))['blobs'] as BlobRecord[];
    const messages = blobs.filter((blob) => blob.channel === 'messages' && blob.checkpoint_ns === '');
    // Every message of the chat is a slice in some list: none is stored twice.
    expect(messages.flatMap((blob) => slicesOf(blob)).length).toBe(8);
    const history = async (checkpointer: WorkerSaver | MemorySaver) =>
      (await collect(checkpointer.list(config))).map(({ checkpoint, pendingWrites }) => [
        // MemorySaver also returns an empty `__pregel_tasks` it has no version of.
        Object.fromEntries(Object.entries(checkpoint.channel_values).filter(([channel]) => channel in checkpoint.channel_versions)),
        pendingWrites?.map(([, channel, value]) => [channel, value]),
      ]);
    if (!delta) expect(await history(saver)).toEqual(await history(memory));
    // A checkpoint after a snapshot that keeps the channel's version reads the snapshot back, where MemorySaver keeps
    // the checkpoint as put, without it: compared as the graph rebuilds the state, and by pending writes.
    else {
      const states = async (checkpointer: WorkerSaver | MemorySaver) => {
        const found = [];
        for await (const snapshot of buildChatGraph(checkpointer, { delta, snapshotFrequency: 4 }).getStateHistory(config)) found.push(snapshot.values);
        return found;
      };
      expect(await states(saver)).toEqual(await states(memory));
      const writes = async (checkpointer: WorkerSaver | MemorySaver) => (await history(checkpointer)).map(([, pending]) => pending);
      expect(await writes(saver)).toEqual(await writes(memory));
    }
  });

  it('started its own worker: once close() resolved, deleting the database is never blocked, even right after a read', async () => {
    for (let round = 0; round < 5; round += 1) {
      const saver = new WorkerSaver({ dbName: freshDbName('own-worker-deleted') });
      await saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1), { a: 1 }), makeMetadata(0), { a: 1 });
      expect(await collect(saver.list(threadConfig('t')))).toHaveLength(1);
      await saver.close();
      // A connection left open by the ended worker would block the deletion for good.
      const blocked = await new Promise<boolean>((resolve) => {
        const deletion = indexedDB.deleteDatabase(saver.dbName);
        deletion.onblocked = () => resolve(true);
        deletion.onsuccess = () => resolve(false);
      });
      expect(blocked, `round ${round}`).toBe(false);
    }
  });

  it('round-trips LangChain messages as message instances', async () => {
    const saver = track(new WorkerSaver({ dbName: freshDbName('messages'), worker: storageWorker }));
    const messages = [new HumanMessage('hi'), new AIMessage({ content: 'hello', id: 'ai-1' })];
    const config = await saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1), { messages }), makeMetadata(0), { messages: 1 });
    await saver.putWrites(config, [['messages', [new HumanMessage('pending')]]], 'task');
    const tuple = await saver.getTuple(config);
    const [human, ai] = tuple!.checkpoint.channel_values['messages'] as [HumanMessage, AIMessage];
    expect(human).toBeInstanceOf(HumanMessage);
    expect(ai).toBeInstanceOf(AIMessage);
    expect([human.content, ai.content, ai.id]).toEqual(['hi', 'hello', 'ai-1']);
    expect((tuple!.pendingWrites![0]![2] as HumanMessage[])[0]).toBeInstanceOf(HumanMessage);
  });

  it.each(['committed', 'queued'] as const)('with ack %s, a put followed at once by getTuple returns it', async (ack) => {
    const saver = track(new WorkerSaver({ dbName: freshDbName(`ack-${ack}`), worker: storageWorker, ack }));
    await saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1), { a: 1 }), makeMetadata(0), { a: 1 });
    expect((await saver.getTuple(threadConfig('t')))?.checkpoint.channel_values).toEqual({ a: 1 });
    void saver.put(threadConfig('t', '', checkpointId(1)), makeCheckpoint(checkpointId(2), { a: 2 }, { a: 2 }), makeMetadata(1), { a: 2 });
    expect((await saver.getTuple(threadConfig('t')))?.checkpoint.channel_values).toEqual({ a: 2 });
    await saver.flush();
  });

  it('tells subscribers in other contexts about its commits', async () => {
    const dbName = freshDbName('notify');
    const saver = track(new WorkerSaver({ dbName, worker: storageWorker }));
    const listener = track(new BrowserSaver({ dbName }));
    const heard: CheckpointChange[] = [];
    const unsubscribe = listener.subscribe((change) => heard.push(change));
    const config = await saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1)), makeMetadata(0), {});
    await saver.putWrites(config, [['c', 1]], 'task');
    await vi.waitFor(() => expect(heard.map((change) => change.kind)).toEqual(['checkpoint', 'writes']));
    unsubscribe();
  });

  describe('when the disk refuses a write', () => {
    const failingWorker = new Worker(new URL('./failing-worker.ts', import.meta.url), { type: 'module' });

    it('rejects exactly that call with a typed error, and keeps the others of its batch', async () => {
      const saver = track(new WorkerSaver({ dbName: freshDbName('failing'), worker: failingWorker }));
      const results = await Promise.allSettled([
        saver.put(threadConfig('kept'), makeCheckpoint(checkpointId(1)), makeMetadata(0), {}),
        saver.put(threadConfig('poison'), makeCheckpoint(checkpointId(2)), makeMetadata(0), {}),
        saver.put(threadConfig('also-kept'), makeCheckpoint(checkpointId(3)), makeMetadata(0), {}),
      ]);
      expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      const error = (results[1] as PromiseRejectedResult).reason as CheckpointError;
      expect(error).toBeInstanceOf(CheckpointError);
      expect(error.code).toBe('STORAGE');
      expect(error.message).toMatch(/UnknownError: The disk refused this record/);
      expect((await saver.getTuple(threadConfig('kept')))?.checkpoint.id).toBe(checkpointId(1));
      expect((await saver.getTuple(threadConfig('also-kept')))?.checkpoint.id).toBe(checkpointId(3));
      expect(await saver.getTuple(threadConfig('poison'))).toBeUndefined();
    });

    it('with ack queued, reports the failure on flush()', async () => {
      const saver = track(new WorkerSaver({ dbName: freshDbName('failing-queued'), worker: failingWorker, ack: 'queued' }));
      await saver.put(threadConfig('poison'), makeCheckpoint(checkpointId(1)), makeMetadata(0), {});
      await expect(saver.flush()).rejects.toMatchObject({ name: 'CheckpointError', code: 'STORAGE' });
      await saver.flush();
    });

    it('with ack queued, reports the failure to that thread\'s next write, not to other threads', async () => {
      const saver = track(new WorkerSaver({ dbName: freshDbName('failing-queued-later'), worker: failingWorker, ack: 'queued' }));
      await saver.put(threadConfig('poison'), makeCheckpoint(checkpointId(1)), makeMetadata(0), {});
      await saver.put(threadConfig('kept'), makeCheckpoint(checkpointId(2)), makeMetadata(0), {});
      expect((await saver.getTuple(threadConfig('kept')))?.checkpoint.id).toBe(checkpointId(2));
      await saver.put(threadConfig('kept', '', checkpointId(2)), makeCheckpoint(checkpointId(3)), makeMetadata(1), {});
      await expect(saver.put(threadConfig('poison'), makeCheckpoint(checkpointId(4)), makeMetadata(0), {})).rejects.toMatchObject({
        code: 'STORAGE',
        message: /The disk refused/,
      });
      await saver.flush();
      expect((await saver.getTuple(threadConfig('kept')))?.checkpoint.id).toBe(checkpointId(3));
      expect(await saver.getTuple(threadConfig('poison'))).toBeUndefined();
    });
  });

  describe('when its worker is gone', () => {
    it('rejects pending and later calls with UNAVAILABLE once the worker was terminated', async () => {
      const worker = new Worker(new URL('../../src/worker.ts', import.meta.url), { type: 'module' });
      // Not deleted afterwards: WebKit keeps a terminated worker's connection open, which blocks a deletion.
      const saver = new WorkerSaver({ dbName: freshDbName('terminated'), worker });
      await saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1)), makeMetadata(0), {});
      const pending = saver.put(threadConfig('t', '', checkpointId(1)), makeCheckpoint(checkpointId(2)), makeMetadata(1), {});
      worker.terminate();
      // Its lifetime lock is granted at once where the engine releases it (Chromium, Firefox); else a ping finds it gone.
      await expect(pending).rejects.toMatchObject({ name: 'CheckpointError', code: 'UNAVAILABLE', message: /terminated, crashed or ran out of memory|stopped answering/ });
      await expect(saver.getTuple(threadConfig('t'))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      await expect(saver.flush()).resolves.toBeUndefined();
      expect(saver.unavailable?.canRestart).toBe(true);
      // What was committed before is there for the next saver.
      const next = new WorkerSaver({ dbName: saver.dbName, worker: storageWorker });
      expect((await next.getTuple(threadConfig('t')))?.checkpoint.id).toBe(checkpointId(1));
      await Promise.all([saver.close(), next.close()]);
    });

    it('rejects calls with UNAVAILABLE when its worker script cannot be loaded', async () => {
      const worker = new Worker(new URL('./no-such-worker.js', import.meta.url), { type: 'module' });
      const saver = track(new WorkerSaver({ dbName: freshDbName('no-script'), worker }));
      await expect(saver.getTuple(threadConfig('t'))).rejects.toMatchObject({ code: 'UNAVAILABLE', message: /failed to start.*use BrowserSaver/ });
      expect(saver.unavailable?.canRestart).toBe(false);
      worker.terminate();
    });
  });

  it('is not taken for unreachable when the page is busy for longer than startTimeout while its worker starts', async () => {
    const saver = track(new WorkerSaver({ dbName: freshDbName('busy-page'), startTimeout: 50 }));
    // One long task: the worker starts and answers meanwhile, and the start timer falls due before the page can hear it.
    const until = performance.now() + 1_500;
    while (performance.now() < until) {
      // Busy.
    }
    await saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1)), makeMetadata(0), {});
    expect(saver.unavailable).toBeUndefined();
    expect((await saver.getTuple(threadConfig('t')))?.checkpoint.id).toBe(checkpointId(1));
  });

  it('rejects calls after close() with CLOSED', async () => {
    const saver = track(new WorkerSaver({ dbName: freshDbName('closed') }));
    await saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1)), makeMetadata(0), {});
    await saver.close();
    await expect(saver.getTuple(threadConfig('t'))).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('checks its options', () => {
    expect(() => new WorkerSaver({ ack: 'later' as 'queued', worker: storageWorker })).toThrow(/ack must be one of committed, queued/);
  });
});

describe('WorkerSaver when another tab changes the database', () => {
  it('steps aside for a deletion, says so once, and reopens on its next call', async () => {
    const saver = new WorkerSaver({ dbName: freshDbName('versionchange'), worker: storageWorker });
    await saver.put(threadConfig('t'), makeCheckpoint(checkpointId(1)), makeMetadata(0), {});
    const heard: string[] = [];
    const unsubscribe = saver.subscribe((change) => heard.push(change.kind));
    await BrowserSaver.deleteDatabase(saver.dbName);
    expect(await saver.getTuple(threadConfig('t'))).toBeUndefined();
    await saver.put(threadConfig('t'), makeCheckpoint(checkpointId(2)), makeMetadata(0), {});
    expect((await saver.getTuple(threadConfig('t')))?.checkpoint.id).toBe(checkpointId(2));
    await vi.waitFor(() => expect(heard).toContain('versionchange'), { timeout: 5_000 });
    expect(heard.filter((kind) => kind === 'versionchange')).toHaveLength(1);
    unsubscribe();
    await saver.close();
    await BrowserSaver.deleteDatabase(saver.dbName);
  });
});

describe('WorkerSaver retention', () => {
  it('prunes and copies threads in its worker', async () => {
    const saver = new WorkerSaver({ dbName: freshDbName('worker-retention'), worker: storageWorker, maxCheckpointsPerThread: 3 });
    let parent = threadConfig('t');
    for (let n = 1; n <= 12; n += 1) {
      parent = await saver.put(parent, makeCheckpoint(checkpointId(n), { n }, { n }), makeMetadata(n), { n });
    }
    const kept = [];
    for await (const tuple of saver.list(threadConfig('t'))) kept.push(tuple.checkpoint.id);
    expect(kept.length).toBeLessThanOrEqual(4);
    expect(kept[0]).toBe(checkpointId(12));
    expect(await saver.copyThread('t', 'copy')).toBe(kept.length);
    expect((await saver.getTuple(threadConfig('copy')))?.checkpoint.channel_values).toEqual({ n: 12 });
    expect(await saver.prune({ threadIds: ['copy'], keepLatest: 1, keepAncestors: false })).toBe(kept.length - 1);
    await saver.close();
    await BrowserSaver.deleteDatabase(saver.dbName);
  });
});
