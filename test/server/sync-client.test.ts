// startSync on BrowserSavers (fake-indexeddb, one database per device) against the handler on PostgreSQL, served
// over HTTP by Node, with a switch in front of it that takes the server down or cuts answers off.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemorySaver } from '@langchain/langgraph-checkpoint';
import { AIMessage, type BaseMessage } from '@langchain/core/messages';
import type { RunnableConfig } from '@langchain/core/runnables';
import { Annotation, END, MessagesAnnotation, START, StateGraph, type StateSnapshot } from '@langchain/langgraph/web';
import { openDB } from 'idb';
import { BrowserSaver, CheckpointError, type BrowserSaverOptions, type CheckpointChange } from '../../src/index.js';
import { toNodeListener, type SyncHandler } from '../../src/server/index.js';
import { startSync, type SyncController, type SyncOptions, type SyncState } from '../../src/sync/index.js';
import { readHistory } from '../../src/devtools/reader.js';
import { laneNodesOf, layoutLanes } from '../../src/panel/lanes.js';
import { buildChatGraph, human } from '../support/chat-graph.js';
import { collect, freshDbName, threadConfig } from '../support/fixtures.js';
import { holdsText, readEveryRecord } from '../support/raw-records.js';
import { USERS, startServer, type TestServer } from './support.js';

type Fault = 'none' | 'down' | 'push-500' | 'cut-after-push' | 'hold-push';

interface Endpoint {
  url: string;
  fault: Fault;
  /** Requests seen, by path, after the device's name when it sends one (`x-device`). */
  requests: string[];
  /** Pushes held back by the fault `hold-push`, each served when called. */
  held: (() => void)[];
  /** Serves another handler from now on (a server that lost its database). */
  swap(handler: SyncHandler): void;
  close(): Promise<void>;
}

async function serve(handler: SyncHandler): Promise<Endpoint> {
  let listener = toNodeListener(handler);
  const endpoint: Endpoint = {
    url: '',
    fault: 'none',
    requests: [],
    held: [],
    swap: (next) => (listener = toNodeListener(next)),
    close: () => new Promise((resolve) => http.close(() => resolve())),
  };
  const http: Server = createServer((req, res) => {
    const device = req.headers['x-device'];
    endpoint.requests.push(typeof device === 'string' ? `${device} ${req.url ?? ''}` : (req.url ?? ''));
    const isPush = req.url?.endsWith('/push') ?? false;
    if (endpoint.fault === 'hold-push' && isPush) {
      endpoint.held.push(() => listener(req, res));
      return;
    }
    if (endpoint.fault === 'down') {
      req.socket.destroy();
      return;
    }
    if (endpoint.fault === 'push-500' && isPush) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'internal', message: 'The sync server failed; try again later.' } }));
      return;
    }
    if (endpoint.fault === 'cut-after-push' && isPush) {
      // The handler stores the push; the connection drops before the answer leaves.
      res.writeHead = (() => {
        req.socket.destroy();
        return res;
      }) as typeof res.writeHead;
    }
    listener(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  endpoint.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/sync`;
  return endpoint;
}

let server: TestServer;
let endpoint: Endpoint;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  server = await startServer();
  endpoint = await serve(server.handler);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await endpoint.close();
  await server.close();
  expect(server.errors).toEqual([]);
});

interface Device {
  saver: BrowserSaver;
  sync: SyncController;
  states: SyncState[];
  changes: CheckpointChange[];
}

function saver(options: BrowserSaverOptions = {}): BrowserSaver {
  const created = new BrowserSaver({ dbName: freshDbName('device'), ...options });
  cleanups.push(async () => {
    await created.close();
    await BrowserSaver.deleteDatabase(created.dbName);
  });
  return created;
}

function connect(on: BrowserSaver, options: Partial<SyncOptions> = {}): Device {
  const sync = startSync(on, { url: endpoint.url, headers: { authorization: `Bearer ${USERS.alice}` }, ...options });
  const device: Device = { saver: on, sync, states: [], changes: [] };
  sync.subscribe((state) => device.states.push(state));
  const unsubscribe = on.subscribe((change) => device.changes.push(change));
  cleanups.push(async () => {
    unsubscribe();
    await sync.stop();
  });
  return device;
}

function device(options: Partial<SyncOptions> = {}, on = saver()): Device {
  return connect(on, options);
}

async function chat(on: BrowserSaver, thread: string, turns: [text: string, turn: number, branch: number][], config = threadConfig(thread)) {
  const graph = buildChatGraph(on);
  for (const [text, turn, branch] of turns) await graph.invoke({ messages: [human(text, turn, branch)] }, config);
}

async function values(on: BaseSaver, thread: string): Promise<unknown> {
  return (await buildChatGraph(on).getState(threadConfig(thread))).values;
}

type BaseSaver = Parameters<typeof buildChatGraph>[0];

async function checkpointIds(on: BaseSaver, thread: string): Promise<string[]> {
  return (await collect(on.list(threadConfig(thread)))).map((tuple) => `${tuple.config.configurable?.checkpoint_ns}/${tuple.config.configurable?.checkpoint_id}`).sort();
}

/** How many entries wait in a database's change journal. */
async function journalSize(dbName: string): Promise<number> {
  const db = await openDB(dbName);
  try {
    return await db.count('journal');
  } finally {
    db.close();
  }
}

async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function replay(turns: [string, number, number][]): Promise<unknown> {
  const memory = new MemorySaver();
  const graph = buildChatGraph(memory);
  for (const [text, turn, branch] of turns) await graph.invoke({ messages: [human(text, turn, branch)] }, threadConfig('replay'));
  return (await graph.getState(threadConfig('replay'))).values;
}

/** A chat with a topic beside its messages; `topicOf` gives what a turn sets it to, from what was said and the topic. */
function topicChat(on: BaseSaver, topicOf: (said: string, topic: string | undefined) => string | undefined) {
  const Topic = Annotation.Root({ ...MessagesAnnotation.spec, topic: Annotation<string>() });
  return new StateGraph(Topic)
    .addNode('chat', (state) => {
      const said = String(state.messages.at(-1)?.content);
      const topic = topicOf(said, state.topic);
      return {
        messages: [new AIMessage({ id: `ai-${state.messages.length}-${said}`, content: `reply to ${said}` })],
        ...(topic === undefined ? {} : { topic }),
      };
    })
    .addEdge(START, 'chat')
    .addEdge('chat', END)
    .compile({ checkpointer: on });
}

/** Two devices that both hold `thread`, chatted on the first: the devices and the thread's checkpoints. */
async function bothHolding(thread: string, turns: [string, number, number][]): Promise<{ a: Device; b: Device; all: string[] }> {
  const a = device();
  const b = device();
  await chat(a.saver, thread, turns);
  await a.sync.syncNow();
  await b.sync.syncNow();
  return { a, b, all: await checkpointIds(a.saver, thread) };
}

/** A DeltaChannel chat with a snapshot every second update: a head needs only its nearest ancestors. */
const deltaChatOn = (on: BaseSaver) => buildChatGraph(on, { delta: true, snapshotFrequency: 2 });

/**
 * Five turns on A, synced to B; B forks after the first turn, offline when `offline` says so. Resolves with the
 * devices, the checkpoint B forked from, B's branch head, and that branch's values as MemorySaver keeps them.
 */
async function deltaFork(thread: string, { offline }: { offline: boolean }) {
  const a = device();
  const b = device();
  for (let turn = 0; turn < 5; turn += 1) await deltaChatOn(a.saver).invoke({ messages: [human(`turn ${turn}`, turn)] }, threadConfig(thread));
  await a.sync.syncNow();
  await b.sync.syncNow();
  if (offline) endpoint.fault = 'down';
  const onB = deltaChatOn(b.saver);
  const history = await collect(onB.getStateHistory(threadConfig(thread)));
  const forkedFrom = history.find((state) => (state.values as { messages: unknown[] }).messages.length === 2 && state.next.length === 0)!.config;
  await onB.invoke({ messages: [human('another way', 1, 1)] }, forkedFrom);
  endpoint.fault = 'none';
  const expected = deltaChatOn(new MemorySaver());
  await expected.invoke({ messages: [human('turn 0', 0)] }, threadConfig('replay'));
  await expected.invoke({ messages: [human('another way', 1, 1)] }, threadConfig('replay'));
  return { a, b, forkedFrom, branchHead: (await onB.getState(threadConfig(thread))).config, branch: (await expected.getState(threadConfig('replay'))).values };
}

/** What the fork tests use of a compiled chat graph. */
interface ChatGraph {
  invoke(input: { messages: BaseMessage[] }, config: RunnableConfig): Promise<unknown>;
  getState(config: RunnableConfig): Promise<StateSnapshot>;
  getStateHistory(config: RunnableConfig): AsyncIterableIterator<StateSnapshot>;
}

/**
 * Device A chats `turns` turns and both devices sync; B prunes the thread to its newest checkpoint; A forks from the
 * end of the first turn, which B no longer holds, and both sync again. The fork's head, and the graph on each device.
 */
async function forkPrunedOnB(graphOn: (on: BaseSaver) => ChatGraph, thread: string, turns: number) {
  const a = device();
  const b = device();
  const onA = graphOn(a.saver);
  for (let turn = 0; turn < turns; turn += 1) await onA.invoke({ messages: [human(`turn ${turn}`, turn, 0)] }, threadConfig(thread));
  await a.sync.syncNow();
  await b.sync.syncNow();
  const history = await collect(onA.getStateHistory(threadConfig(thread)));
  const afterFirstTurn = history.find((state) => (state.values as { messages: unknown[] }).messages.length === 2 && state.next.length === 0)!;
  await b.saver.prune({ threadIds: [thread], keepLatest: 1, keepAncestors: false });
  expect(await b.saver.getTuple(afterFirstTurn.config)).toBeUndefined();
  await onA.invoke({ messages: [human('another way', 1, 1)] }, afterFirstTurn.config);
  await a.sync.syncNow();
  await b.sync.syncNow();
  return { onA, onB: graphOn(b.saver), head: (await onA.getState(threadConfig(thread))).config };
}

describe('startSync', () => {
  it('carries a thread made on one device, before sync started, to another, and tells its subscribers', async () => {
    const onA = saver();
    await chat(onA, 'chat-1', [['hello', 0, 0], ['tell me more', 1, 0], ['fanout please', 2, 0]]);
    const a = connect(onA);
    const b = device();
    await a.sync.syncNow();
    expect(a.sync.status).toBe('idle');
    expect(await journalSize(onA.dbName)).toBe(0);
    await b.sync.syncNow();

    expect(await values(b.saver, 'chat-1')).toEqual(await values(onA, 'chat-1'));
    expect(await checkpointIds(b.saver, 'chat-1')).toEqual(await checkpointIds(onA, 'chat-1'));
    expect(await checkpointIds(server.saver, 'chat-1')).toEqual(await checkpointIds(onA, 'chat-1'));
    // Pulled records are announced like local commits, and never journaled to be pushed back.
    await until(() => b.changes.some((change) => change.kind === 'checkpoint' && change.thread_id === 'chat-1'), 'B hears of the pulled checkpoints');
    expect(await journalSize(b.saver.dbName)).toBe(0);
    expect(a.states.at(-1)).toEqual({ status: 'idle', leader: true });
  });

  it('pushes each new commit on its own and, live, the other device pulls it without being asked', async () => {
    const a = device();
    const b = device({ live: true });
    await a.sync.syncNow();
    await until(() => b.sync.status === 'idle', 'B is idle');
    await chat(a.saver, 'live-1', [['first', 0, 0]]);
    // No syncNow: A pushes because it committed; B pulls because the stream announced a new cursor.
    await until(async () => (await checkpointIds(b.saver, 'live-1')).length > 0 && (await checkpointIds(b.saver, 'live-1')).length === (await checkpointIds(a.saver, 'live-1')).length, 'B has the thread');
    expect(await values(b.saver, 'live-1')).toEqual(await values(a.saver, 'live-1'));
    expect(endpoint.requests.some((path) => path.endsWith('/live'))).toBe(true);
  });

  it('live, sends what was committed during a push in one push right after it, and does not pull its own pushes back', async () => {
    const headers = (name: string) => ({ authorization: `Bearer ${USERS.alice}`, 'x-device': name });
    const a = device({ live: true, headers: headers('a') });
    const b = device({ live: true, headers: headers('b') });
    await Promise.all([a.sync.syncNow(), b.sync.syncNow()]);
    await until(() => ['a', 'b'].every((name) => endpoint.requests.includes(`${name} /sync/live`)), 'both streams are open');
    endpoint.fault = 'hold-push';
    const turns: [string, number, number][] = [['first', 0, 0], ['second', 1, 0], ['third', 2, 0]];
    await chat(a.saver, 'burst', turns.slice(0, 1));
    await until(() => endpoint.held.length === 1, 'the first push is held');
    // Two more turns (six more commits) while the first push is held.
    await chat(a.saver, 'burst', turns.slice(1));
    const from = endpoint.requests.length;
    endpoint.fault = 'none';
    endpoint.held.shift()!();
    await until(async () => (await journalSize(a.saver.dbName)) === 0, "A's journal is empty");
    await until(async () => JSON.stringify(await checkpointIds(b.saver, 'burst')) === JSON.stringify(await checkpointIds(a.saver, 'burst')), 'B holds every checkpoint');
    // The stream's news of A's pushes reaches A too, and is what A already holds.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ofA = endpoint.requests.slice(from).filter((path) => path.startsWith('a '));
    // Everything committed while the first push was held went in the one push after it, and A pulled nothing back.
    expect(ofA).toEqual(['a /sync/push']);
    expect(await values(b.saver, 'burst')).toEqual(await replay(turns));
  });

  it('keeps both branches when two offline devices continue and fork the same thread', async () => {
    const a = device();
    const b = device();
    await chat(a.saver, 'shared', [['first', 0, 0], ['second', 1, 0]]);
    await a.sync.syncNow();
    await b.sync.syncNow();

    endpoint.fault = 'down';
    await chat(a.saver, 'shared', [['on device a', 2, 1]]);
    await chat(b.saver, 'shared', [['on device b, a longer message', 2, 2]]);
    const history = await collect(buildChatGraph(a.saver).getStateHistory(threadConfig('shared')));
    const afterFirst = history.find((snapshot) => (snapshot.values as { messages?: unknown[] }).messages?.length === 2 && snapshot.next.length === 0)!;
    await chat(a.saver, 'shared', [['a fork from the first turn', 1, 3]], afterFirst.config);
    await expect(a.sync.syncNow()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(a.sync.status).toBe('offline');
    expect(await journalSize(a.saver.dbName)).toBeGreaterThan(0);

    endpoint.fault = 'none';
    await a.sync.syncNow();
    await b.sync.syncNow();
    await a.sync.syncNow();

    const ids = await checkpointIds(a.saver, 'shared');
    expect(await checkpointIds(b.saver, 'shared')).toEqual(ids);
    expect(await checkpointIds(server.saver, 'shared')).toEqual(ids);
    const expected = [
      await replay([['first', 0, 0], ['second', 1, 0], ['on device a', 2, 1]]),
      await replay([['first', 0, 0], ['second', 1, 0], ['on device b, a longer message', 2, 2]]),
      await replay([['first', 0, 0], ['a fork from the first turn', 1, 3]]),
    ];
    for (const on of [a.saver, b.saver, server.saver]) {
      const heads = (await collect(buildChatGraph(on).getStateHistory(threadConfig('shared'))))
        .filter((snapshot) => snapshot.next.length === 0)
        .map((snapshot) => snapshot.values);
      for (const branch of expected) expect(heads).toContainEqual(branch);
    }
    // The panel's timeline on each device: the three branches in three lanes, laid out alike.
    const lanes = async (on: BrowserSaver) => {
      const checkpoints = await readHistory(on.dbName, { thread_id: 'shared', checkpoint_ns: '', limit: 1_000 });
      const heads = checkpoints.filter((checkpoint) => !checkpoints.some((child) => child.parent_checkpoint_id === checkpoint.checkpoint_id));
      const { rows, width } = layoutLanes(laneNodesOf(checkpoints));
      return { width, headLanes: heads.map((head) => rows[checkpoints.indexOf(head)]!.lane).sort() };
    };
    const onA = await lanes(a.saver);
    expect(onA).toEqual({ width: 3, headLanes: [0, 1, 2] });
    expect(await lanes(b.saver)).toEqual(onA);
  });

  it('deletes a thread deleted on another device, and it stays deleted whatever that device still pushes', async () => {
    const a = device();
    const b = device();
    await chat(a.saver, 'doomed', [['hello', 0, 0]]);
    await chat(a.saver, 'kept', [['hello', 0, 0]]);
    await a.sync.syncNow();
    await b.sync.syncNow();
    expect(await checkpointIds(b.saver, 'doomed')).not.toEqual([]);

    // B continues the thread while A deletes it; A's tombstone reaches the server first.
    endpoint.fault = 'down';
    await chat(b.saver, 'doomed', [['still here?', 1, 0]]);
    endpoint.fault = 'none';
    await a.saver.deleteThread('doomed');
    await a.sync.syncNow();
    await b.sync.syncNow();
    await a.sync.syncNow();
    for (const on of [a.saver, b.saver, server.saver]) expect(await checkpointIds(on, 'doomed')).toEqual([]);
    expect(await checkpointIds(b.saver, 'kept')).not.toEqual([]);

    // Pulling everything again from the beginning does not bring it back either.
    await chat(b.saver, 'kept', [['more', 1, 0]]);
    await b.sync.syncNow();
    await a.sync.syncNow();
    expect(await checkpointIds(a.saver, 'doomed')).toEqual([]);
    await until(() => b.changes.some((change) => change.kind === 'delete' && change.thread_id === 'doomed'), 'B hears of the deletion');
  });

  it('keeps a prune local: the server and the other device keep every checkpoint, and the pruning device goes on without them', async () => {
    const turns: [string, number, number][] = [['one', 0, 0], ['two', 1, 0], ['three', 2, 0]];
    const { a, b, all } = await bothHolding('pruned', turns);
    expect(await checkpointIds(b.saver, 'pruned')).toEqual(all);

    await a.saver.prune({ threadIds: ['pruned'], keepLatest: 1, keepAncestors: false });
    const kept = await checkpointIds(a.saver, 'pruned');
    expect(kept).toHaveLength(1);
    await a.sync.syncNow();
    await b.sync.syncNow();
    await a.sync.syncNow();
    for (const on of [b.saver, server.saver]) expect(await checkpointIds(on, 'pruned')).toEqual(all);
    expect(await checkpointIds(a.saver, 'pruned')).toEqual(kept);

    // A's next turn builds on what it kept and reaches B, whose state is the whole conversation's.
    await chat(a.saver, 'pruned', [['four', 3, 0]]);
    await a.sync.syncNow();
    await b.sync.syncNow();
    expect(await values(b.saver, 'pruned')).toEqual(await replay([...turns, ['four', 3, 0]]));
    expect(await values(a.saver, 'pruned')).toEqual(await values(b.saver, 'pruned'));
    expect((await checkpointIds(b.saver, 'pruned')).length).toBe(all.length + 3);
  });

  it('prunes everywhere when asked: the server and the other device delete the same checkpoints, which never come back', async () => {
    const turns: [string, number, number][] = [['one', 0, 0], ['two', 1, 0], ['three', 2, 0]];
    const { a, b, all } = await bothHolding('everywhere', turns);
    const firstPushes = (await server.pullAll('alice')).filter((record) => record.kind !== 'delete' && record.thread_id === 'everywhere');
    const saverRows = async (table: string) =>
      Number((await server.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE thread_id = 'everywhere'`)).rows[0]!.n);
    const blobsBefore = await saverRows('checkpoint_blobs');

    expect(await a.saver.prune({ threadIds: ['everywhere'], keepLatest: 1, keepAncestors: false, everywhere: true })).toBe(all.length - 1);
    const kept = await checkpointIds(a.saver, 'everywhere');
    await a.sync.syncNow();
    await b.sync.syncNow();
    for (const on of [b.saver, server.saver]) {
      expect(await checkpointIds(on, 'everywhere')).toEqual(kept);
      expect(await values(on, 'everywhere')).toEqual(await replay(turns));
    }
    expect(await saverRows('checkpoint_writes')).toBe(0);
    expect(await saverRows('checkpoint_blobs')).toBeLessThan(blobsBefore);
    await until(() => b.changes.some((change) => change.kind === 'rewrite' && change.thread_id === 'everywhere'), 'B hears of the prune');

    // The first pushes again, as a late retry from another device would send them: nothing of them is stored.
    const replayed = await server.push('alice', firstPushes, 'a-late-device');
    expect(replayed).toMatchObject({ stored: 0, pruned: expect.any(Number) });
    expect(await checkpointIds(server.saver, 'everywhere')).toEqual(kept);
    // A new device gets what was kept, and the thread goes on from there on every device.
    const c = device();
    await c.sync.syncNow();
    expect(await checkpointIds(c.saver, 'everywhere')).toEqual(kept);
    await chat(a.saver, 'everywhere', [['four', 3, 0]]);
    await a.sync.syncNow();
    await b.sync.syncNow();
    await c.sync.syncNow();
    for (const on of [b.saver, c.saver, server.saver]) expect(await values(on, 'everywhere')).toEqual(await replay([...turns, ['four', 3, 0]]));
    expect(await checkpointIds(b.saver, 'everywhere')).toEqual(await checkpointIds(a.saver, 'everywhere'));
  });

  it('keeps, after a prune everywhere, a branch another device made offline from a pruned checkpoint, with the values it has from there', async () => {
    // The topic is set on the first turn and changed on the third: the fork from the first turn keeps the first
    // topic, which no checkpoint left on the server names once the prune took the older ones.
    const graphOn = (on: BaseSaver) => topicChat(on, (said) => (said.startsWith('topic ') ? said.slice('topic '.length) : undefined));
    const play = async (on: BaseSaver, thread: string, fork: (graph: ReturnType<typeof graphOn>) => Promise<void>) => {
      const graph = graphOn(on);
      await graph.invoke({ messages: [human('topic weather', 0)] }, threadConfig(thread));
      await fork(graph);
      return graph;
    };
    const afterFirstTurn = async (graph: ReturnType<typeof graphOn>, thread: string) =>
      (await collect(graph.getStateHistory(threadConfig(thread)))).find((state) => (state.values as { messages: unknown[] }).messages.length === 2 && state.next.length === 0)!.config;

    const a = device();
    const b = device();
    const onA = await play(a.saver, 'topics', async () => undefined);
    await a.sync.syncNow();
    await b.sync.syncNow();
    endpoint.fault = 'down';
    const onB = graphOn(b.saver);
    const forkedFrom = await afterFirstTurn(onB, 'topics');
    await onB.invoke({ messages: [human('and tomorrow?', 1, 1)] }, forkedFrom);
    const branchHead = (await onB.getState(threadConfig('topics'))).config;
    endpoint.fault = 'none';
    for (const [text, turn] of [['still raining', 1], ['topic sport', 2], ['who won?', 3]] as const) await onA.invoke({ messages: [human(text, turn)] }, threadConfig('topics'));
    await a.saver.prune({ threadIds: ['topics'], keepLatest: 1, keepAncestors: false, everywhere: true });
    await a.sync.syncNow();
    // B pushes its branch after the prune, and pulls the prune.
    await b.sync.syncNow();
    await a.sync.syncNow();

    const memory = new MemorySaver();
    const expected = await play(memory, 'topics', async (graph) => {
      await graph.invoke({ messages: [human('and tomorrow?', 1, 1)] }, await afterFirstTurn(graph, 'topics'));
    });
    const branch = (await expected.getState(threadConfig('topics'))).values;
    expect(branch).toMatchObject({ topic: 'weather' });
    for (const on of [b.saver, server.saver, a.saver]) expect((await graphOn(on).getState(branchHead)).values).toEqual(branch);
    // The checkpoint B forked from is gone everywhere; A's head is what A kept.
    for (const on of [a.saver, b.saver, server.saver]) expect(await on.getTuple(forkedFrom)).toBeUndefined();
    expect((await graphOn(server.saver).getState((await onA.getState(threadConfig('topics'))).config)).values).toMatchObject({ topic: 'sport' });
  });

  it('keeps on the server, pruning everywhere, the checkpoints whose writes a DeltaChannel branch it holds replays', async () => {
    // B pushes its fork; A prunes everywhere before it pulled it.
    const { a, b, forkedFrom, branchHead, branch } = await deltaFork('delta', { offline: false });
    await b.sync.syncNow();
    const before = await checkpointIds(server.saver, 'delta');
    await a.saver.prune({ threadIds: ['delta'], keepLatest: 1, keepAncestors: false, everywhere: true });
    expect(await a.saver.getTuple(forkedFrom)).toBeUndefined();
    await a.sync.syncNow();
    await b.sync.syncNow();

    for (const on of [b.saver, server.saver, a.saver]) expect((await deltaChatOn(on).getState(branchHead)).values).toEqual(branch);
    // The checkpoint B forked from stays, as do the ones before it; those of A's branch after it went.
    const after = await checkpointIds(server.saver, 'delta');
    expect(after).toContain(`/${forkedFrom.configurable?.checkpoint_id}`);
    expect(after.length).toBeLessThan(before.length);
    expect(await checkpointIds(b.saver, 'delta')).toEqual(after);
  });

  it('brings back, everywhere, the pruned checkpoints whose writes a DeltaChannel branch pushed after the prune replays', async () => {
    // B forks while offline; A prunes everywhere, and the server with it, before B is back.
    const { a, b, forkedFrom, branchHead, branch } = await deltaFork('late', { offline: true });
    await a.saver.prune({ threadIds: ['late'], keepLatest: 1, keepAncestors: false, everywhere: true });
    await a.sync.syncNow();
    expect(await server.saver.getTuple(forkedFrom)).toBeUndefined();

    // B pushes its branch, pulls the prune, keeps what its branch replays, and sends that again.
    await b.sync.syncNow();
    await a.sync.syncNow();
    for (const on of [b.saver, server.saver, a.saver]) {
      expect((await deltaChatOn(on).getState(branchHead)).values).toEqual(branch);
      expect(await on.getTuple(forkedFrom)).toBeDefined();
    }
    expect(await checkpointIds(a.saver, 'late')).toEqual(await checkpointIds(b.saver, 'late'));
    expect(await checkpointIds(server.saver, 'late')).toEqual(await checkpointIds(b.saver, 'late'));
  });

  it('sends a push again after a 500 or a cut-off answer: nothing lost, nothing stored twice', async () => {
    const a = device();
    const b = device();
    await chat(a.saver, 'retried', [['one', 0, 0], ['two', 1, 0]]);
    endpoint.fault = 'push-500';
    await expect(a.sync.syncNow()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(a.sync.status).toBe('offline');
    expect(a.sync.error?.message).toMatch(/500/);

    // The server stores this push, but A never hears so.
    endpoint.fault = 'cut-after-push';
    await expect(a.sync.syncNow()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const afterCut = await server.pullAll('alice');
    expect(afterCut.length).toBeGreaterThan(0);
    expect(await journalSize(a.saver.dbName)).toBeGreaterThan(0);

    endpoint.fault = 'none';
    await a.sync.syncNow();
    expect(a.sync.status).toBe('idle');
    expect(await journalSize(a.saver.dbName)).toBe(0);
    // The retry found everything there already: the server holds each record once.
    const all = await server.pullAll('alice');
    expect(all.length).toBe(afterCut.length);
    expect(new Set(all.map((record) => JSON.stringify(record))).size).toBe(all.length);

    await b.sync.syncNow();
    expect(await checkpointIds(b.saver, 'retried')).toEqual(await checkpointIds(a.saver, 'retried'));
    expect(await values(b.saver, 'retried')).toEqual(await values(a.saver, 'retried'));
  });

  it('resyncs when the server does not know its cursor: keeps its own, pulls all, pushes all again', async () => {
    const a = device();
    await chat(a.saver, 'survivor', [['hello', 0, 0]]);
    await a.sync.syncNow();

    // The server lost its database: a new one answers at the same URL, and A's cursor means nothing to it.
    const fresh = await startServer();
    cleanups.push(() => fresh.close());
    endpoint.swap(fresh.handler);
    const other = await freshPushedThread(fresh);
    await a.sync.syncNow();

    expect(await checkpointIds(fresh.saver, 'survivor')).toEqual(await checkpointIds(a.saver, 'survivor'));
    expect(await checkpointIds(a.saver, other)).not.toEqual([]);
    expect(await checkpointIds(a.saver, 'survivor')).not.toEqual([]);
    endpoint.swap(server.handler);
  });

  it('syncs only the threads listed, and the others once the list names them', async () => {
    const on = saver();
    await chat(on, 'listed', [['hello', 0, 0]]);
    await chat(on, 'private', [['hello', 0, 0]]);
    const narrow = connect(on, { threads: ['listed'] });
    await narrow.sync.syncNow();
    expect(await checkpointIds(server.saver, 'listed')).toEqual(await checkpointIds(on, 'listed'));
    expect(await checkpointIds(server.saver, 'private')).toEqual([]);
    await narrow.sync.stop();

    const wide = connect(on, { threads: 'all' });
    await wide.sync.syncNow();
    expect(await checkpointIds(server.saver, 'private')).toEqual(await checkpointIds(on, 'private'));
  });

  it.each([
    ['keeps ancestors', true],
    ['keeps only the newest', false],
  ])('carries a thread pruned while offline (%s) whole to another device', async (_, keepAncestors) => {
    const a = device();
    const b = device();
    await a.sync.syncNow();
    endpoint.fault = 'down';
    const turns: [string, number, number][] = Array.from({ length: 6 }, (_, turn) => [`turn ${turn} ${'z'.repeat(80)}`, turn, 0]);
    await chat(a.saver, 'pruned', turns);
    await a.saver.prune({ threadIds: ['pruned'], keepLatest: 2, keepAncestors });
    endpoint.fault = 'none';
    await a.sync.syncNow();
    await b.sync.syncNow();
    expect(await checkpointIds(b.saver, 'pruned')).toEqual(await checkpointIds(a.saver, 'pruned'));
    expect(await values(b.saver, 'pruned')).toEqual(await replay(turns));
    expect(await values(server.saver, 'pruned')).toEqual(await replay(turns));
  });

  it('pulls a fork whose parent was pruned here with the small values it keeps from before the fork', async () => {
    // A topic set once, on the first turn: a small scalar that the later checkpoints keep at that version.
    const graphOn = (on: BaseSaver) => topicChat(on, (_, topic) => (topic === undefined ? 'weather' : undefined));
    const { onA, onB, head } = await forkPrunedOnB(graphOn, 'forked', 3);
    expect((await onA.getState(head)).values).toMatchObject({ topic: 'weather' });
    for (const state of await collect(onB.getStateHistory(threadConfig('forked')))) {
      expect(state.values).toEqual((await onA.getState(state.config)).values);
    }
  });

  it('pulls a DeltaChannel fork whose parent was pruned here', async () => {
    // Snapshots every 5 updates: the head kept here rebuilds from a snapshot after the fork's parent.
    const { onA, onB, head } = await forkPrunedOnB((on) => buildChatGraph(on, { delta: true, snapshotFrequency: 5 }), 'delta-fork', 6);
    expect((await onB.getState(head)).values).toEqual((await onA.getState(head)).values);
  });

  it('pulls a turn whose messages build on a version pruned here', async () => {
    // B forks the chat after its first turn and prunes the thread to that fork's head, so it no longer holds the
    // messages of A's head, which A's next turn stores as a change to them.
    const a = device();
    const b = device();
    const onA = buildChatGraph(a.saver);
    const onB = buildChatGraph(b.saver);
    for (let turn = 0; turn < 4; turn += 1) await onA.invoke({ messages: [human(`turn ${turn}`, turn, 0)] }, threadConfig('branches'));
    const mainHead = (await onA.getState(threadConfig('branches'))).config;
    await a.sync.syncNow();
    await b.sync.syncNow();
    const history = await collect(onB.getStateHistory(threadConfig('branches')));
    const afterFirstTurn = history.find((state) => (state.values as { messages: unknown[] }).messages.length === 2 && state.next.length === 0)!;
    await onB.invoke({ messages: [human('another way', 1, 1)] }, afterFirstTurn.config);
    await b.saver.prune({ threadIds: ['branches'], keepLatest: 1, keepAncestors: false });
    expect(await b.saver.getTuple(mainHead)).toBeUndefined();
    await onA.invoke({ messages: [human('turn 4', 4, 0)] }, mainHead);
    await a.sync.syncNow();
    await b.sync.syncNow();
    const head = (await onA.getState(threadConfig('branches'))).config;
    expect(head.configurable?.checkpoint_id).not.toBe(mainHead.configurable?.checkpoint_id);
    expect((await onB.getState(head)).values).toEqual((await onA.getState(head)).values);
  });

  it('resolves the headers again after a 401 and goes on', async () => {
    let calls = 0;
    const a = device({
      headers: async () => {
        calls += 1;
        return { authorization: `Bearer ${calls === 1 ? 'expired' : USERS.alice}` };
      },
    });
    await chat(a.saver, 'token', [['hello', 0, 0]]);
    await a.sync.syncNow();
    expect(calls).toBe(2);
    expect(await checkpointIds(server.saver, 'token')).toEqual(await checkpointIds(a.saver, 'token'));
  });

  it('stops with a SYNC error on a refusal, and does not retry it on its own', async () => {
    const a = device({ headers: { authorization: 'Bearer nobody' } });
    await chat(a.saver, 'refused', [['hello', 0, 0]]);
    await expect(a.sync.syncNow()).rejects.toMatchObject({ code: 'SYNC', message: expect.stringMatching(/401/) });
    expect(a.sync.status).toBe('error');
    expect(a.sync.error).toBeInstanceOf(CheckpointError);
    expect(await journalSize(a.saver.dbName)).toBeGreaterThan(0);
  });

  it('refuses bad options with typed errors', () => {
    const on = saver();
    const cases: [unknown, unknown, RegExp][] = [
      [{}, { url: endpoint.url }, /BrowserSaver or a WorkerSaver/],
      [on, undefined, /options must be an object/],
      [on, { url: '' }, /url must be/],
      [on, { url: 'http://[bad' }, /is not a URL/],
      [on, { url: endpoint.url, threads: 'some' }, /threads must be 'all' or an array/],
      [on, { url: endpoint.url, threads: ['ok', ''] }, /threads must be/],
      [on, { url: endpoint.url, live: 'yes' }, /live must be true or false/],
      [on, { url: endpoint.url, headers: 42 }, /headers must be/],
    ];
    for (const [target, options, message] of cases) {
      let caught: unknown;
      try {
        startSync(target as BrowserSaver, options as SyncOptions);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CheckpointError);
      expect((caught as CheckpointError).code).toBe('INVALID_CONFIG');
      expect((caught as CheckpointError).message).toMatch(message);
    }
  });
});

const SECRET = 'heron-5512-quartz';
const LATER_SECRET = 'plover-0947-slate';
const aesKey = () => crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);

/** The stored records of a database that hold values: checkpoints, blobs and writes. */
async function valueRecords(dbName: string): Promise<Record<string, unknown[]>> {
  const { checkpoints = [], blobs = [], writes = [] } = await readEveryRecord(dbName);
  return { checkpoints, blobs, writes };
}

describe('startSync on an encrypted database', () => {
  it('exchanges a thread with a clear device: the server and that device get ordinary values, the encrypted one stores none in clear', async () => {
    const a = device({}, saver({ encryption: { key: await aesKey() } }));
    const b = device();
    await chat(a.saver, 'secret', [[`my code is ${SECRET}`, 0, 0], ['fanout please', 1, 0]]);
    await a.sync.syncNow();
    await b.sync.syncNow();
    expect(await values(b.saver, 'secret')).toEqual(await values(a.saver, 'secret'));
    // A Node agent on the server's saver reads ordinary checkpoints.
    expect(await values(server.saver, 'secret')).toEqual(await values(a.saver, 'secret'));
    expect(holdsText(await valueRecords(b.saver.dbName), SECRET)).toBe(true);

    await chat(b.saver, 'secret', [[`again ${LATER_SECRET}`, 2, 0]]);
    await b.sync.syncNow();
    await a.sync.syncNow();
    expect(await values(a.saver, 'secret')).toEqual(await values(b.saver, 'secret'));
    expect(await checkpointIds(a.saver, 'secret')).toEqual(await checkpointIds(b.saver, 'secret'));
    expect(JSON.stringify(await values(a.saver, 'secret'))).toContain(LATER_SECRET);
    // What A pulled was sealed before it was stored: neither secret is anywhere in its records.
    const stored = await readEveryRecord(a.saver.dbName);
    expect(stored['blobs']!.length).toBeGreaterThan(0);
    expect(holdsText(stored, SECRET)).toBe(false);
    expect(holdsText(stored, LATER_SECRET)).toBe(false);
    expect((stored['checkpoints'] as { metadata: { type: string } }[]).every((record) => record.metadata.type === 'juncture:aes-gcm')).toBe(true);
  });

  it('with another key, or none, fails with DECRYPT and changes nothing stored; with its key, syncs after', async () => {
    const key = await aesKey();
    const dbName = freshDbName('device');
    const keyed = async (write: (on: BrowserSaver) => Promise<void>) => {
      const on = saver({ dbName, encryption: { key } });
      await write(on);
      await on.close();
    };
    const first = connect(saver({ dbName, encryption: { key } }));
    await chat(first.saver, 'keyed', [['hello', 0, 0]]);
    await first.sync.syncNow();
    await first.sync.stop();
    await first.saver.close();
    const b = device();
    await b.sync.syncNow();
    await chat(b.saver, 'keyed', [['more from b', 1, 0]]);
    await b.sync.syncNow();

    // Another key, nothing to push: what it pulls would go into a thread that this key cannot read.
    let before = await valueRecords(dbName);
    const wrong = connect(saver({ dbName, encryption: { key: await aesKey() } }));
    await expect(wrong.sync.syncNow()).rejects.toMatchObject({ code: 'DECRYPT', message: expect.stringMatching(/another key/) });
    expect(wrong.sync.status).toBe('error');
    expect(await valueRecords(dbName)).toEqual(before);
    await wrong.sync.stop();
    await wrong.saver.close();

    // No key, with a local commit waiting: it cannot open what it would push, which stays in the journal.
    await keyed((on) => chat(on, 'local', [['only here', 0, 0]]));
    before = await valueRecords(dbName);
    const waiting = await journalSize(dbName);
    expect(waiting).toBeGreaterThan(0);
    const keyless = connect(saver({ dbName }));
    await expect(keyless.sync.syncNow()).rejects.toMatchObject({ code: 'DECRYPT', message: expect.stringMatching(/no key/) });
    expect(await journalSize(dbName)).toBe(waiting);
    expect(await valueRecords(dbName)).toEqual(before);
    await keyless.sync.stop();
    await keyless.saver.close();

    const right = connect(saver({ dbName, encryption: { key } }));
    await right.sync.syncNow();
    expect(await journalSize(dbName)).toBe(0);
    expect(await values(right.saver, 'keyed')).toEqual(await values(b.saver, 'keyed'));
    expect(await values(server.saver, 'local')).toEqual(await values(right.saver, 'local'));
    expect(holdsText(await valueRecords(dbName), 'more from b')).toBe(false);
  });

  it('opens only the threads it pushes: a sealed thread that stays local does not stop a saver without its key', async () => {
    const dbName = freshDbName('device');
    const sealed = saver({ dbName, encryption: { key: await aesKey() } });
    await chat(sealed, 'sealed', [[`kept here ${SECRET}`, 0, 0]]);
    await sealed.close();
    const clear = connect(saver({ dbName }), { threads: ['shared'] });
    await chat(clear.saver, 'shared', [['hello', 0, 0]]);
    await clear.sync.syncNow();
    expect(clear.sync.status).toBe('idle');
    expect(await journalSize(dbName)).toBe(0);
    expect(await checkpointIds(server.saver, 'shared')).toEqual(await checkpointIds(clear.saver, 'shared'));
    expect(await checkpointIds(server.saver, 'sealed')).toEqual([]);
  });
});

/** A thread another device pushed to `on`'s server; its id. */
async function freshPushedThread(on: TestServer): Promise<string> {
  const other = saver();
  await chat(other, 'from-elsewhere', [['hi', 0, 0]]);
  const listener = toNodeListener(on.handler);
  const http = createServer(listener);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const sync = startSync(other, { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/sync`, headers: { authorization: `Bearer ${USERS.alice}` } });
  await sync.syncNow();
  await sync.stop();
  await new Promise((resolve) => http.close(resolve));
  return 'from-elsewhere';
}
