// WorkerSaver on long conversations, as test/shared/long-conversations.test.ts shows BrowserSaver: what it stores
// reads back as MemorySaver keeps it, DeltaChannel histories come in one call to the worker, and only the new
// messages' bytes cross to it.
import { BaseCheckpointSaver, MemorySaver } from '@langchain/langgraph-checkpoint';
import { BrowserSaver, WorkerSaver } from '../../src/index.js';
import { buildChatGraph, human } from '../support/chat-graph.js';
import { playChat } from '../support/chat-play.js';
import { collect, freshDbName, threadConfig } from '../support/fixtures.js';
import { payloadBytes, watchedWorker } from '../support/watched-worker.js';

const posted: unknown[] = [];
const worker = watchedWorker((message) => posted.push(payloadBytes(message)));
const savers: WorkerSaver[] = [];
function newSaver(): WorkerSaver {
  const saver = new WorkerSaver({ dbName: freshDbName('worker-long'), worker });
  savers.push(saver);
  return saver;
}
afterEach(async () => {
  for (const saver of savers.splice(0)) {
    await saver.close();
    await BrowserSaver.deleteDatabase(saver.dbName);
  }
});

describe('WorkerSaver on long conversations', () => {
  it.each([
    { reducer: 'the plain reducer', delta: false, snapshotFrequency: undefined },
    { reducer: 'DeltaChannel', delta: true, snapshotFrequency: undefined },
    { reducer: 'DeltaChannel, a snapshot every third update', delta: true, snapshotFrequency: 3 },
  ])('keeps a random chat with edits, removals, forks, Send and a subgraph as MemorySaver does, at every checkpoint ($reducer)', async ({ delta, snapshotFrequency }) => {
    const stored = await playChat(newSaver(), 1, 24, delta, snapshotFrequency);
    const expected = await playChat(new MemorySaver(), 1, 24, delta, snapshotFrequency);
    expect(stored.forks).toBeGreaterThan(0);
    expect([...stored.words]).toEqual(expect.arrayContaining(['remove', 'replace', 'fanout', 'sub']));
    expect(stored.state).toEqual(expected.state);
    expect(stored.history).toEqual(expected.history);
    expect(stored.tuples).toEqual(expected.tuples);
  });

  it("reads the history of DeltaChannel values in one call to its worker, without a getTuple, equal to the base class's walk", async () => {
    const saver = newSaver();
    await playChat(saver, 4, 16, true, 3);
    const checkpoints = await collect(saver.list({ configurable: { thread_id: 'chat-4' } }));
    expect(checkpoints.length).toBeGreaterThan(30);
    const getTuple = vi.spyOn(saver, 'getTuple');
    for (const { config } of checkpoints) {
      const options = { config, channels: ['messages'] };
      const walked = await BaseCheckpointSaver.prototype.getDeltaChannelHistory.call(saver, options);
      getTuple.mockClear();
      const before = posted.length;
      expect(await saver.getDeltaChannelHistory(options)).toEqual(walked);
      expect(posted.length - before).toBe(1);
      expect(getTuple).not.toHaveBeenCalled();
    }
  });

  it.each([false, true])('sends its worker the bytes of a turn\'s new messages, not the conversation again (DeltaChannel: %s)', async (delta) => {
    const graph = buildChatGraph(newSaver(), { delta });
    const text = 'a message of some length '.repeat(16);
    const sentPerTurn: number[] = [];
    for (let turn = 0; turn < 30; turn += 1) {
      const before = posted.length;
      await graph.invoke({ messages: [human(`${text}${turn}`, turn)] }, threadConfig('long'));
      sentPerTurn.push((posted.slice(before) as number[]).reduce((sum, bytes) => sum + bytes, 0));
    }
    // Two messages of about 400 characters a turn. Sending the whole list would send 30 times as much by the end.
    const late = Math.max(...sentPerTurn.slice(-5));
    expect(late).toBeLessThan(Math.min(...sentPerTurn.slice(1, 6)) * 1.5);
    expect(late).toBeLessThan(8 * 1_000);
  });
});
