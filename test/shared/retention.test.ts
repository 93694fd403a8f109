import { DeltaValue, END, START, StateGraph, StateSchema } from '@langchain/langgraph/web';
import { MemorySaver, type BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import { z } from 'zod';
import { BrowserSaver, CheckpointError } from '../../src/index.js';
import { IndexedDBCheckpointStorage } from '../../src/storage/checkpoint-store.js';
import { checkpointId, collect, countRecords, freshDbName, makeCheckpoint, makeMetadata, putChain, threadConfig, useFreshSavers } from '../support/fixtures.js';

const ids = async (saver: BrowserSaver, thread: string, ns = '') =>
  (await collect(saver.list(threadConfig(thread, ns)))).map((tuple) => tuple.checkpoint.id);

/** A chat whose history is a DeltaValue (stored as writes, rebuilt by replaying them); each reply counts the history. */
async function deltaChat(checkpointer: BaseCheckpointSaver, turns: number, afterTurn: (turn: number) => Promise<void> = async () => undefined) {
  const State = new StateSchema({
    history: new DeltaValue(z.array(z.string()).default(() => []), {
      inputSchema: z.array(z.string()),
      reducer: (current: string[], writes: string[][]) => [...current, ...writes.flat()],
      snapshotFrequency: 4,
    }),
  });
  const graph = new StateGraph(State)
    .addNode('reply', (state) => ({ history: [`reply to ${state.history.length} items`] }))
    .addEdge(START, 'reply')
    .addEdge('reply', END)
    .compile({ checkpointer });
  const config = { configurable: { thread_id: 'chat' } };
  for (let turn = 1; turn <= turns; turn += 1) {
    await graph.invoke({ history: [`message ${turn}`] }, config);
    await afterTurn(turn);
  }
  const history = [];
  for await (const snapshot of graph.getStateHistory(config)) history.push({ step: snapshot.metadata?.step, values: snapshot.values });
  return { state: (await graph.getState(config)).values, history };
}

describe('retention', () => {
  const newSaver = useFreshSavers('retention');

  describe('never changes what a kept checkpoint reads back when its channels are rebuilt from earlier writes', () => {
    // History is newest first; ids differ between runs, so checkpoints are compared by position and step.
    it('with maxCheckpointsPerThread', async () => {
      const expected = await deltaChat(new MemorySaver(), 10);
      expect(expected.state['history']).toHaveLength(20);
      const pruned = await deltaChat(newSaver({ maxCheckpointsPerThread: 8 }), 10);
      expect(pruned.state).toEqual(expected.state);
      expect(pruned.history.length).toBeLessThan(expected.history.length);
      expect(pruned.history).toEqual(expected.history.slice(0, pruned.history.length));
    });

    it('with prune({ keepAncestors: false })', async () => {
      const saver = newSaver();
      const pruned = await deltaChat(saver, 10, async (turn) => {
        if (turn === 7) expect(await saver.prune({ keepLatest: 2, keepAncestors: false })).toBeGreaterThan(0);
      });
      const expected = await deltaChat(new MemorySaver(), 10);
      expect(pruned.state).toEqual(expected.state);
      expect(pruned.history.length).toBeLessThan(expected.history.length);
      expect(pruned.history).toEqual(expected.history.slice(0, pruned.history.length));
    });
  });

  it('deletes named checkpoints (a prune made elsewhere), except those whose writes a kept one rebuilds a channel from', async () => {
    const dbName = freshDbName('retention-named');
    const saver = newSaver({ dbName });
    const expected = await deltaChat(new MemorySaver(), 9);
    await deltaChat(saver, 9);
    const all = await ids(saver, 'chat');
    const storage = new IndexedDBCheckpointStorage({ dbName, durability: 'default' });
    try {
      // Every checkpoint but the newest is named.
      const named = all.slice(1).map((checkpoint_id) => ({ checkpoint_ns: '', checkpoint_id }));
      await storage.enableJournal();
      await storage.acknowledgeJournal((await storage.readJournal(1_000)).flatMap((read) => [read.seq, ...(read.carried ?? [])]));
      const deleted = await storage.prune(['chat'], { checkpoints: named });
      const left = await ids(saver, 'chat');
      expect(deleted).toBe(all.length - left.length);
      // The newest, and the ancestors back to the nearest snapshot of its history (one every 4 updates), stay.
      expect(left.length).toBeGreaterThan(1);
      expect(left.length).toBeLessThan(all.length);
      expect(left).toEqual(all.slice(0, left.length));
      expect((await deltaChat(saver, 0)).state).toEqual(expected.state);
      // What stays of those named goes out again, in the prune's transaction: the thread is journaled anew.
      const journaled = (await storage.readJournal(1_000)).map((read) => read.checkpoint?.checkpoint_id);
      for (const id of left) expect(journaled).toContain(id);
      expect(journaled.filter((id) => id !== undefined && !left.includes(id))).toEqual([]);
      // Again: nothing more goes.
      expect(await storage.prune(['chat'], { checkpoints: named })).toBe(0);
    } finally {
      await storage.close();
    }
  });

  it('prune keeps the newest checkpoints and their ancestors, dropping abandoned branches', async () => {
    const saver = newSaver();
    // Main line 1-2-3-4-5; an abandoned branch 6 off 2; another thread untouched.
    // Objects, so that each is a value of its own (small scalars are held in their checkpoint's record).
    await putChain(saver, 't', '', [1, 2, 3, 4, 5], (step) => ({ counter: { step } }));
    const fork = await saver.put(threadConfig('t', '', checkpointId(2)), makeCheckpoint(checkpointId(6), { counter: { step: 99 } }, { counter: 99 }), makeMetadata(2, { source: 'fork' }), { counter: 99 });
    await saver.putWrites(fork, [['counter', 100]], 'task');
    await putChain(saver, 'other', '', [7, 8]);
    // Newest first in t: 6 (the branch), 5, ... With keepLatest 1 only 6 and its ancestors 2, 1 stay.
    expect(await saver.prune({ threadIds: ['t'], keepLatest: 1 })).toBe(3);
    expect(await ids(saver, 't')).toEqual([6, 2, 1].map(checkpointId));
    expect(await ids(saver, 'other')).toEqual([8, 7].map(checkpointId));
    // Values of deleted checkpoints are gone; kept ones read whole.
    expect((await saver.getTuple(threadConfig('t', '', checkpointId(6))))?.checkpoint.channel_values).toEqual({ counter: { step: 99 } });
    expect((await countRecords(saver.dbName, 't')).blobs).toBe(3);
  });

  it('prune without ancestors cuts each namespace to exactly the newest ones, across all threads', async () => {
    const saver = newSaver();
    await putChain(saver, 'a', '', [1, 2, 3, 4]);
    await putChain(saver, 'a', 'sub', [5, 6, 7]);
    await putChain(saver, 'b', '', [8, 9]);
    expect(await saver.prune({ keepLatest: 2, keepAncestors: false })).toBe(3);
    expect(await ids(saver, 'a')).toEqual([4, 3].map(checkpointId));
    expect(await ids(saver, 'a', 'sub')).toEqual([7, 6].map(checkpointId));
    expect(await ids(saver, 'b')).toEqual([9, 8].map(checkpointId));
    expect((await saver.getTuple(threadConfig('a')))?.checkpoint.channel_values).toEqual({ counter: 3 });
  });

  it('maxCheckpointsPerThread keeps a running thread near its limit', async () => {
    const saver = newSaver({ maxCheckpointsPerThread: 4 });
    await putChain(saver, 't', '', Array.from({ length: 20 }, (_, i) => i + 1));
    const kept = await ids(saver, 't');
    expect(kept.length).toBeLessThanOrEqual(4 + 1);
    expect(kept[0]).toBe(checkpointId(20));
    expect((await saver.getTuple(threadConfig('t')))?.checkpoint.channel_values).toEqual({ counter: 19 });
    expect(() => new BrowserSaver({ maxCheckpointsPerThread: 0 })).toThrow(/maxCheckpointsPerThread must be a whole number of at least 1/);
  });

  it('keeps every version a kept list needs past an anchor (its base and the versions that store its items), and copyThread copies them', async () => {
    const saver = newSaver({ maxCheckpointsPerThread: 5 });
    let config = threadConfig('long');
    let messages: string[] = [];
    for (let n = 1; n <= 300; n += 1) {
      messages = [...messages, `message ${n}`];
      // A removal before the 257th list, the first anchor: it builds on the first list and names the items since.
      if (n === 200) messages = messages.slice(1);
      config = await saver.put(config, makeCheckpoint(checkpointId(n), { messages }, { messages: n }), makeMetadata(n), { messages: n });
    }
    expect((await ids(saver, 'long')).length).toBeLessThan(10);
    expect((await saver.getTuple(config))?.checkpoint.channel_values).toEqual({ messages });
    expect(await saver.copyThread('long', 'copy')).toBeGreaterThan(0);
    expect((await saver.getTuple(threadConfig('copy', '', checkpointId(300))))?.checkpoint.channel_values).toEqual({ messages });
  });

  it('copyThread copies checkpoints, values and writes under a new id', async () => {
    const saver = newSaver();
    const [, second] = await putChain(saver, 'from', '', [1, 2]);
    await putChain(saver, 'from', 'sub', [3]);
    await saver.putWrites(second!, [['counter', 'pending']], 'task', 'path');
    expect(await saver.copyThread('from', 'to')).toBe(3);
    const original = await collect(saver.list({ configurable: { thread_id: 'from' } }));
    const copy = await collect(saver.list({ configurable: { thread_id: 'to' } }));
    expect(copy.map((tuple) => [tuple.checkpoint, tuple.pendingWrites, tuple.parentConfig?.configurable?.['checkpoint_id']])).toEqual(
      original.map((tuple) => [tuple.checkpoint, tuple.pendingWrites, tuple.parentConfig?.configurable?.['checkpoint_id']]),
    );
    expect(copy.every((tuple) => tuple.config.configurable?.['thread_id'] === 'to')).toBe(true);
  });

  it('copyThread and prune say what is wrong', async () => {
    const saver = newSaver();
    await putChain(saver, 'from', '', [1]);
    await putChain(saver, 'taken', '', [2]);
    const codeOf = (promise: Promise<unknown>) => promise.then(() => 'resolved', (error: CheckpointError) => `${error.code}: ${error.message}`);
    expect(await codeOf(saver.copyThread('nothing', 'new'))).toMatch(/^NOT_FOUND: copyThread: thread "nothing" has no checkpoints/);
    expect(await codeOf(saver.copyThread('from', 'taken'))).toMatch(/^INVALID_CONFIG: copyThread: thread "taken" already has checkpoints/);
    expect(await codeOf(saver.copyThread('from', 'from'))).toMatch(/^INVALID_CONFIG: .*the same/);
    expect(await codeOf(saver.prune({ keepLatest: 0 }))).toMatch(/^INVALID_CONFIG: prune: keepLatest must be a whole number/);
    expect(await ids(saver, 'taken')).toEqual([checkpointId(2)]);
  });
});
