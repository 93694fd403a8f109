// Devices (BrowserSavers on fake-indexeddb) syncing through the handler on PostgreSQL, and a server agent on the
// server's PostgresSaver continuing their threads.
import { MemorySaver } from '@langchain/langgraph-checkpoint';
import { SyncedSaver } from '../../src/server/index.js';
import { buildAgentGraph, resume } from '../support/agent-graph.js';
import { buildChatGraph, human } from '../support/chat-graph.js';
import { checkpointId, collect, countRecords, makeCheckpoint, makeMetadata, threadConfig } from '../support/fixtures.js';
import { Device, startServer, type TestServer } from './support.js';

let server: TestServer;
const devices: Device[] = [];

beforeEach(async () => {
  server = await startServer();
});
afterEach(async () => {
  for (const device of devices.splice(0)) await device.close();
  await server.close();
  expect(server.errors).toEqual([]);
});

function device(user: 'alice' | 'bob' = 'alice'): Device {
  const created = new Device(server, user);
  devices.push(created);
  return created;
}

async function chat(saver: ConstructorParameters<typeof SyncedSaver>[0], thread: string, turns: string[], branch = 0) {
  const graph = buildChatGraph(saver);
  for (const [turn, text] of turns.entries()) await graph.invoke({ messages: [human(text, turn, branch)] }, threadConfig(thread));
  return graph;
}

async function checkpointIds(saver: ConstructorParameters<typeof SyncedSaver>[0], thread: string): Promise<string[]> {
  return (await collect(saver.list(threadConfig(thread)))).map((tuple) => `${tuple.config.configurable?.checkpoint_ns}/${tuple.config.configurable?.checkpoint_id}`).sort();
}

describe('sync through the server', () => {
  it('carries a conversation from one device to the server saver and to another device, lists and all', async () => {
    const a = device();
    const b = device();
    const turns = ['hello', 'tell me more', 'fanout please', 'sub please', 'replace it', 'remove one', 'thanks'];
    const graphA = await chat(a.saver, 'chat-1', turns);
    const outbox = await a.outbox();
    // Long conversations travel as lists: later versions of the messages refer to earlier ones.
    expect(outbox.some((record) => record.kind === 'blob' && record.list?.base !== undefined)).toBe(true);
    const pushed = await a.push();
    expect(pushed).toEqual({ stored: outbox.length, duplicates: 0, deletedThreads: [], commit: { from: expect.any(String), to: expect.any(String) } });

    // The server's saver holds ordinary checkpoints: a Node graph on it reads the same state.
    const stateA = await graphA.getState(threadConfig('chat-1'));
    const onServer = await buildChatGraph(server.saver).getState(threadConfig('chat-1'));
    expect(onServer.values).toEqual(stateA.values);
    expect(await checkpointIds(server.saver, 'chat-1')).toEqual(await checkpointIds(a.saver, 'chat-1'));
    const tuple = await server.saver.getTuple(threadConfig('chat-1'));
    expect(Array.isArray(tuple?.checkpoint.channel_values['messages'])).toBe(true);

    await b.pull();
    const stateB = await buildChatGraph(b.saver).getState(threadConfig('chat-1'));
    expect(stateB.values).toEqual(stateA.values);
    expect(await checkpointIds(b.saver, 'chat-1')).toEqual(await checkpointIds(a.saver, 'chat-1'));
    // Every past state too, not only the latest.
    const history = async (saver: ConstructorParameters<typeof SyncedSaver>[0]) =>
      (await collect(buildChatGraph(saver).getStateHistory(threadConfig('chat-1')))).map((snapshot) => snapshot.values);
    expect(await history(b.saver)).toEqual(await history(a.saver));
    // Small values (the branches to the nodes) travel as values, and the pulling device holds them in its checkpoint
    // records as the device that made them does, across pages of 50: as many records on both.
    expect(outbox.some((record) => record.kind === 'blob' && record.channel.startsWith('branch:to:'))).toBe(true);
    expect(await countRecords(b.saver.dbName, 'chat-1')).toEqual(await countRecords(a.saver.dbName, 'chat-1'));

    // The device that pushed does not get its own records back, and its push's commit named the cursor it reaches:
    // from the cursor before the push, a device holds everything up to it.
    expect(pushed.commit!.from).toBe((await server.pull('alice', { cursor: null, limit: 1 })).cursor.replace(/\.\d+$/, '.0'));
    expect(await a.pull()).toEqual([]);
    expect(a.cursor).toBe(pushed.commit!.to);
    expect(b.cursor).toBe(pushed.commit!.to);
    // And pushing again stores nothing.
    expect(await server.push('alice', outbox, a.clientId)).toEqual({ stored: 0, duplicates: outbox.length, deletedThreads: [] });
  });

  it('carries DeltaChannel snapshots, stored as lists that refer to earlier snapshots, to the server and back', async () => {
    const a = device();
    const b = device();
    const graphA = buildChatGraph(a.saver, { delta: true, snapshotFrequency: 3 });
    for (let turn = 0; turn < 8; turn += 1) await graphA.invoke({ messages: [human(`turn ${turn}`, turn)] }, threadConfig('delta'));
    const outbox = await a.outbox();
    expect(outbox.some((record) => record.kind === 'blob' && record.list?.tag === 'delta_snapshot' && record.list.runs?.some((run) => 'at' in run))).toBe(true);
    await a.push();
    const stateA = await graphA.getState(threadConfig('delta'));
    const onServer = await buildChatGraph(server.saver, { delta: true, snapshotFrequency: 3 }).getState(threadConfig('delta'));
    expect(onServer.values).toEqual(stateA.values);
    await b.pull();
    const stateB = await buildChatGraph(b.saver, { delta: true, snapshotFrequency: 3 }).getState(threadConfig('delta'));
    expect(stateB.values).toEqual(stateA.values);
  });

  it('keeps both branches when two offline devices continue and fork the same thread', async () => {
    const a = device();
    const b = device();
    await chat(a.saver, 'shared', ['first', 'second']);
    await a.sync();
    await b.sync();
    // Both offline: each continues the same latest checkpoint its own way, and A also forks from the first turn.
    const graphA = buildChatGraph(a.saver);
    const graphB = buildChatGraph(b.saver);
    await graphA.invoke({ messages: [human('on device a', 2, 1)] }, threadConfig('shared'));
    await graphB.invoke({ messages: [human('on device b, a longer message', 2, 2)] }, threadConfig('shared'));
    const history = await collect(graphA.getStateHistory(threadConfig('shared')));
    const afterFirst = history.find((snapshot) => snapshot.values.messages?.length === 2 && snapshot.next.length === 0)!;
    await graphA.invoke({ messages: [human('a fork from the first turn', 1, 3)] }, afterFirst.config);

    await a.sync();
    await b.sync();
    await a.sync();

    const idsA = await checkpointIds(a.saver, 'shared');
    expect(await checkpointIds(b.saver, 'shared')).toEqual(idsA);
    expect(await checkpointIds(server.saver, 'shared')).toEqual(idsA);

    // Each branch's head equals a MemorySaver replay of its own turns.
    const replay = async (turns: [string, number, number][]) => {
      const graph = buildChatGraph(new MemorySaver());
      for (const [text, turn, branch] of turns) await graph.invoke({ messages: [human(text, turn, branch)] }, threadConfig('replay'));
      return (await graph.getState(threadConfig('replay'))).values;
    };
    const expected = [
      await replay([['first', 0, 0], ['second', 1, 0], ['on device a', 2, 1]]),
      await replay([['first', 0, 0], ['second', 1, 0], ['on device b, a longer message', 2, 2]]),
      await replay([['first', 0, 0], ['a fork from the first turn', 1, 3]]),
    ];
    for (const saver of [a.saver, b.saver, server.saver]) {
      const heads = (await collect(buildChatGraph(saver).getStateHistory(threadConfig('shared'))))
        .filter((snapshot) => snapshot.next.length === 0)
        .map((snapshot) => snapshot.values);
      for (const values of expected) expect(heads).toContainEqual(values);
    }
  });

  it('carries a conversation whose lists chain further than 64 edits, as deep as the savers write them', async () => {
    const a = device();
    const b = device();
    await chat(a.saver, 'long', Array.from({ length: 40 }, (_, turn) => `turn ${turn}`));
    const outbox = await a.outbox();
    // How many lists a read of each follows: edits leave their depth out, one more than their base's.
    const lists = outbox.flatMap((record) => (record.kind === 'blob' && record.list ? [record] : []));
    const bases = new Map(lists.map((blob) => [`${blob.channel} ${blob.version}`, blob.list!.base]));
    const chainLength = (channel: string, version: unknown): number => {
      const base = bases.get(`${channel} ${String(version)}`);
      return base === undefined ? 1 : 1 + chainLength(channel, base);
    };
    expect(Math.max(...lists.map((blob) => chainLength(blob.channel, blob.version)))).toBeGreaterThan(64);
    expect(await a.push()).toMatchObject({ stored: outbox.length });
    await b.pull();
    expect((await buildChatGraph(b.saver).getState(threadConfig('long'))).values).toEqual(
      (await buildChatGraph(a.saver).getState(threadConfig('long'))).values,
    );
  });

  it('carries lists past an anchor, which builds on the list 256 before and refers to the items added since', async () => {
    const a = device();
    const b = device();
    let config = threadConfig('anchored');
    let messages: { role: string; content: string }[] = [];
    for (let n = 1; n <= 300; n += 1) {
      messages = [...messages, { role: 'human', content: `message ${n}` }];
      // A removal before the anchor, so that its runs are more than its base's list and its own items.
      if (n === 200) messages = messages.slice(1);
      config = await a.saver.put(config, makeCheckpoint(checkpointId(n), { messages }, { messages: n }), makeMetadata(n), { messages: n });
    }
    const outbox = await a.outbox();
    expect(outbox.some((record) => record.kind === 'blob' && record.list?.base !== undefined && record.list.runs?.some((run) => 'at' in run))).toBe(true);
    expect(await a.push()).toMatchObject({ stored: outbox.length });
    await b.pull();
    const expected = (await a.saver.getTuple(config))?.checkpoint.channel_values;
    expect(expected?.['messages']).toHaveLength(299);
    expect((await b.saver.getTuple(config))?.checkpoint.channel_values).toEqual(expected);
    expect((await server.saver.getTuple(config))?.checkpoint.channel_values).toEqual(expected);
  });

  it('lets a server agent resume an interrupted thread, and the device sees the result', async () => {
    const a = device();
    const deviceGraph = buildAgentGraph(a.saver);
    await deviceGraph.invoke({ topic: 'sync' }, threadConfig('review-1'));
    expect((await deviceGraph.getState(threadConfig('review-1'))).next).toEqual(['review']);
    await a.push();

    const agentSaver = new SyncedSaver(server.saver, { pool: server.pool });
    const agent = buildAgentGraph(agentSaver);
    const interrupted = await agent.getState(threadConfig('review-1'));
    expect(interrupted.tasks.flatMap((task) => task.interrupts.map((entry) => entry.value))).toEqual([
      { question: expect.stringContaining('Publish "4 notes: plan sync') },
    ]);
    const result = await agent.invoke(resume('approved on the server'), threadConfig('review-1'));
    expect(result.approved).toBe('approved on the server');

    const pulled = await a.pull();
    expect(pulled.some((record) => record.kind === 'checkpoint')).toBe(true);
    const onDevice = await deviceGraph.getState(threadConfig('review-1'));
    expect(onDevice.values).toEqual(result);
    expect(onDevice.next).toEqual([]);
    // The device continues from the agent's checkpoint: its versions keep growing past the agent's.
    await deviceGraph.invoke({ topic: 'next' }, threadConfig('review-1'));
    expect((await deviceGraph.getState(threadConfig('review-1'))).next).toEqual(['review']);
  });

  it('refuses an agent write to a thread nobody pushed, unless told whose it is', async () => {
    const agent = buildAgentGraph(new SyncedSaver(server.saver, { pool: server.pool }));
    await expect(agent.invoke({ topic: 'orphan' }, threadConfig('agent-only'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const owned = buildAgentGraph(new SyncedSaver(server.saver, { pool: server.pool, ownerOf: () => 'bob' }));
    await owned.invoke({ topic: 'mine' }, threadConfig('agent-owned'));
    const bob = device('bob');
    await bob.pull();
    expect((await buildAgentGraph(bob.saver).getState(threadConfig('agent-owned'))).next).toEqual(['review']);
    expect(await server.pullAll('alice')).toEqual([]);
  });

  it('keeps a deleted thread deleted on every device, whatever they push afterwards', async () => {
    const a = device();
    const b = device();
    await chat(a.saver, 'doomed', ['one', 'two']);
    await chat(a.saver, 'kept', ['stays']);
    await a.sync();
    await b.sync();
    const oldRecords = (await b.outbox()).length === 0 ? await server.pullAll('alice', { threads: ['doomed'] }) : [];
    expect(oldRecords.length).toBeGreaterThan(0);

    // B, offline, continues the thread while A deletes it.
    await chat(b.saver, 'doomed', ['three'], 5);
    await a.deleteThread('doomed');
    await a.sync();
    const answer = await b.push();
    expect(answer.deletedThreads).toEqual(['doomed']);
    await b.pull();
    for (const saver of [a.saver, b.saver, server.saver]) {
      expect(await saver.getTuple(threadConfig('doomed'))).toBeUndefined();
      expect(await saver.getTuple(threadConfig('kept'))).toBeDefined();
    }
    // A replay of the thread's old records, from any device, does not bring it back.
    const replayed = await server.push('alice', oldRecords);
    expect(replayed).toEqual({ stored: 0, duplicates: 0, deletedThreads: ['doomed'] });
    expect(await server.saver.getTuple(threadConfig('doomed'))).toBeUndefined();
    const everything = await server.pullAll('alice');
    expect(everything.filter((record) => record.thread_id === 'doomed')).toEqual([{ kind: 'delete', thread_id: 'doomed' }]);
    // A new device learns of the deletion and gets only the kept thread.
    const c = device();
    await c.pull();
    expect(await c.saver.getTuple(threadConfig('doomed'))).toBeUndefined();
    expect(await c.saver.getTuple(threadConfig('kept'))).toBeDefined();
    // A server agent cannot write to it either.
    const agent = buildChatGraph(new SyncedSaver(server.saver, { pool: server.pool }));
    await expect(agent.invoke({ messages: [human('revive', 9)] }, threadConfig('doomed'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
