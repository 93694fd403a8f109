// startSync in a real browser, with `fetch` answered in the page by a small in-memory server that speaks the
// protocol (the Node suite runs against the real server on PostgreSQL). Two controllers on one database stand for
// two tabs: Web Locks are per origin, so they compete exactly as tabs do.
import { BrowserSaver, WorkerSaver } from '../../src/index.js';
import { startSync, type SyncController } from '../../src/sync/index.js';
import type { PullRequest, PushRequest } from '../../src/wire/protocol.js';
import type { WireRecord } from '../../src/wire/records.js';
import { buildChatGraph, human } from '../support/chat-graph.js';
import { collect, freshDbName, threadConfig } from '../support/fixtures.js';
import { holdsText, readEveryRecord } from '../support/raw-records.js';

const URL_BASE = 'https://sync.invalid/sync';

/** The protocol's push and pull over an array: records in push order, each tagged with the client that sent it. */
class PageServer {
  readonly records: { record: WireRecord; clientId: string | undefined }[] = [];
  readonly pushedBy = new Set<string>();
  /** While true, every request fails as an unreachable server's does. */
  down = false;
  /** Every request, answered or not: its path and when it came (`performance.now()`). */
  readonly requests: { path: string; at: number }[] = [];
  /** Every pull's client and cursor, in order. */
  readonly pulls: { clientId: string | undefined; cursor: string | null }[] = [];

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    if (!url.startsWith(URL_BASE)) throw new TypeError(`Nothing listens at ${url}.`);
    this.requests.push({ path: url.slice(URL_BASE.length), at: performance.now() });
    if (this.down) throw new TypeError('Failed to fetch');
    const json = (body: unknown) => new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
    if (url.endsWith('/push')) {
      const { records, clientId } = JSON.parse(String(init?.body)) as PushRequest;
      if (clientId) this.pushedBy.add(clientId);
      for (const record of records) this.records.push({ record, clientId });
      return json({ stored: records.length, duplicates: 0, deletedThreads: [] });
    }
    if (url.endsWith('/pull')) {
      const { cursor, clientId } = JSON.parse(String(init?.body)) as PullRequest;
      this.pulls.push({ clientId, cursor: cursor ?? null });
      const from = cursor ? Number(cursor) : 0;
      const changes = this.records.slice(from).filter((entry) => entry.clientId !== clientId).map((entry) => entry.record);
      return json({ changes, cursor: String(this.records.length), more: false, resync: false });
    }
    return new Response(JSON.stringify({ error: { code: 'not_found', message: 'No such endpoint.' } }), { status: 404 });
  };

  checkpointIds(thread: string): string[] {
    return this.records
      .map(({ record }) => record)
      .filter((record): record is Extract<WireRecord, { kind: 'checkpoint' }> => record.kind === 'checkpoint' && record.thread_id === thread)
      .map((record) => record.checkpoint_id)
      .sort();
  }
}

const realFetch = globalThis.fetch;
let server: PageServer;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(() => {
  server = new PageServer();
  globalThis.fetch = server.fetch as typeof fetch;
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  globalThis.fetch = realFetch;
});

function track<T extends BrowserSaver | WorkerSaver>(saver: T): T {
  cleanups.push(async () => {
    await saver.close();
    await BrowserSaver.deleteDatabase(saver.dbName);
  });
  return saver;
}

function sync(saver: BrowserSaver | WorkerSaver): SyncController {
  const controller = startSync(saver, { url: URL_BASE });
  cleanups.push(() => controller.stop());
  return controller;
}

async function checkpointIds(saver: BrowserSaver | WorkerSaver, thread: string): Promise<string[]> {
  return (await collect(saver.list(threadConfig(thread)))).map((tuple) => String(tuple.config.configurable?.checkpoint_id)).sort();
}

describe('startSync in the browser', () => {
  it('syncs from one tab only; the other mirrors its status, and takes over when it stops, losing nothing', async () => {
    const dbName = freshDbName('sync-tabs');
    const pageSaver = track(new BrowserSaver({ dbName }));
    const workerSaver = track(new WorkerSaver({ dbName }));
    const first = sync(pageSaver);
    const second = sync(workerSaver);
    await first.syncNow();
    expect([first.leader, second.leader]).toEqual([true, false]);

    // A commit in the tab that does not sync is pushed by the one that does.
    const graph = buildChatGraph(workerSaver);
    await graph.invoke({ messages: [human('from the worker tab', 0)] }, threadConfig('tabs'));
    await vi.waitFor(async () => expect(server.checkpointIds('tabs')).toEqual(await checkpointIds(workerSaver, 'tabs')), { timeout: 10_000 });
    await vi.waitFor(() => expect(second.status).toBe('idle'));
    expect(server.pushedBy.size).toBe(1);

    // The syncing tab closes; commits made while it hands over still go out.
    await first.stop();
    await graph.invoke({ messages: [human('after the hand-over', 1)] }, threadConfig('tabs'));
    await vi.waitFor(() => expect(second.leader).toBe(true), { timeout: 10_000 });
    await second.syncNow();
    expect(server.checkpointIds('tabs')).toEqual(await checkpointIds(workerSaver, 'tabs'));
    expect(new Set(server.checkpointIds('tabs')).size).toBe(server.checkpointIds('tabs').length);
  });

  it('stops a tab that waits for the sync lock at once, leaving the syncing tab syncing', async () => {
    const dbName = freshDbName('sync-waiting');
    const leading = sync(track(new BrowserSaver({ dbName })));
    const waitingSaver = track(new BrowserSaver({ dbName }));
    const waiting = sync(waitingSaver);
    await leading.syncNow();
    await waiting.syncNow();
    expect([leading.leader, waiting.leader]).toEqual([true, false]);
    // Its request for the lock is withdrawn: stop() returns while the other tab still holds the lock.
    await waiting.stop();
    await expect(waiting.syncNow()).rejects.toMatchObject({ code: 'CLOSED' });
    await buildChatGraph(waitingSaver).invoke({ messages: [human('after the waiting tab stopped', 0)] }, threadConfig('waiting'));
    await vi.waitFor(async () => expect(server.checkpointIds('waiting')).toEqual(await checkpointIds(waitingSaver, 'waiting')), { timeout: 10_000 });
    expect(leading.leader).toBe(true);
  });

  it('brings what another device pushed into a WorkerSaver, announced to its subscribers', async () => {
    const origin = track(new BrowserSaver({ dbName: freshDbName('sync-origin') }));
    await buildChatGraph(origin).invoke({ messages: [human('hello from a', 0)] }, threadConfig('shared'));
    await sync(origin).syncNow();

    const device = track(new WorkerSaver({ dbName: freshDbName('sync-device') }));
    const heard: string[] = [];
    const unsubscribe = device.subscribe((change) => heard.push(change.kind));
    cleanups.push(async () => unsubscribe());
    await sync(device).syncNow();
    expect(await checkpointIds(device, 'shared')).toEqual(await checkpointIds(origin, 'shared'));
    expect((await buildChatGraph(device).getState(threadConfig('shared'))).values).toEqual(
      (await buildChatGraph(origin).getState(threadConfig('shared'))).values,
    );
    await vi.waitFor(() => expect(heard).toContain('checkpoint'));
  });

  it('sends a prune asked to go everywhere, once, and a WorkerSaver device that pulls it deletes the same checkpoints', async () => {
    const origin = track(new WorkerSaver({ dbName: freshDbName('sync-origin') }));
    const graph = buildChatGraph(origin);
    for (let turn = 0; turn < 3; turn += 1) await graph.invoke({ messages: [human(`turn ${turn}`, turn)] }, threadConfig('pruned'));
    await buildChatGraph(origin).invoke({ messages: [human('elsewhere', 0)] }, threadConfig('local'));
    const fromOrigin = sync(origin);
    await fromOrigin.syncNow();
    const device = track(new BrowserSaver({ dbName: freshDbName('sync-device') }));
    const onDevice = sync(device);
    await onDevice.syncNow();
    expect(await checkpointIds(device, 'pruned')).toEqual(await checkpointIds(origin, 'pruned'));

    const before = await checkpointIds(origin, 'pruned');
    // Kept local: nothing goes out. Asked to go everywhere: exactly the checkpoints it deleted go out.
    await origin.prune({ threadIds: ['local'], keepLatest: 1, keepAncestors: false });
    const deleted = await origin.prune({ threadIds: ['pruned'], keepLatest: 2, keepAncestors: false, everywhere: true });
    const kept = await checkpointIds(origin, 'pruned');
    expect(deleted).toBe(before.length - kept.length);
    await fromOrigin.syncNow();
    const prunes = server.records.map(({ record }) => record).filter((record) => record.kind === 'prune');
    expect(prunes.map((record) => record.thread_id)).toEqual(before.filter((id) => !kept.includes(id)).map(() => 'pruned'));
    expect(prunes.map((record) => (record as { checkpoint_id: string }).checkpoint_id).sort()).toEqual(before.filter((id) => !kept.includes(id)));

    await onDevice.syncNow();
    expect(await checkpointIds(device, 'pruned')).toEqual(kept);
    expect(await checkpointIds(device, 'local')).not.toEqual([]);
    expect((await buildChatGraph(device).getState(threadConfig('pruned'))).values).toEqual((await graph.getState(threadConfig('pruned'))).values);
    // No record of a pruned checkpoint, nor a write against one, is left in the device's stores.
    const { checkpoints, writes } = await readEveryRecord(device.dbName);
    const idsIn = (records: unknown[] | undefined) =>
      new Set(
        (records as { thread_id: string; checkpoint_id: string }[] | undefined ?? []).filter((record) => record.thread_id === 'pruned').map((record) => record.checkpoint_id),
      );
    expect([...idsIn(checkpoints)].filter((id) => !kept.includes(id))).toEqual([]);
    expect([...idsIn(writes)].filter((id) => !kept.includes(id))).toEqual([]);
  });

  it('syncs encrypted databases: values in clear on the wire, sealed again before the other device stores them', async () => {
    const secret = 'wren-3318-basalt';
    const key = () => crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const origin = track(new WorkerSaver({ dbName: freshDbName('sync-sealed-origin'), encryption: { key: await key() } }));
    await buildChatGraph(origin).invoke({ messages: [human(`my code is ${secret}`, 0)] }, threadConfig('sealed'));
    await sync(origin).syncNow();
    const sent = JSON.stringify(server.records);
    expect(sent).not.toContain('juncture:aes-gcm');
    expect(server.checkpointIds('sealed')).toEqual(await checkpointIds(origin, 'sealed'));

    const device = track(new BrowserSaver({ dbName: freshDbName('sync-sealed-device'), encryption: { key: await key() } }));
    await sync(device).syncNow();
    expect((await buildChatGraph(device).getState(threadConfig('sealed'))).values).toEqual(
      (await buildChatGraph(origin).getState(threadConfig('sealed'))).values,
    );
    const stored = await readEveryRecord(device.dbName);
    expect(stored['checkpoints']!.length).toBeGreaterThan(0);
    expect(holdsText(stored, secret)).toBe(false);
  });

  it('retries an unreachable server after growing delays that a commit does not cut short and `online` does, telling its subscribers', async () => {
    const saver = track(new BrowserSaver({ dbName: freshDbName('sync-offline') }));
    server.down = true;
    const controller = sync(saver);
    const states: string[] = [];
    controller.subscribe((state) => states.push(state.error ? `${state.status} ${state.error.code}` : state.status));
    // The first round and three retries: after each failure the next waits half to all of 0.5, 1, 2, 4 s.
    await vi.waitFor(() => expect(server.requests.length).toBe(4), { timeout: 10_000, interval: 20 });
    const gaps = server.requests.slice(1).map((request, i) => request.at - server.requests[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(240);
    expect(gaps[1]).toBeGreaterThanOrEqual(490);
    expect(gaps[2]).toBeGreaterThanOrEqual(990);
    expect(controller.status).toBe('offline');
    expect(controller.error?.code).toBe('UNAVAILABLE');
    await expect(controller.syncNow()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    // syncNow tried again at once, a fifth failure: the retry after it waits 4 to 8 s. A commit does not cut that short.
    const lastTry = server.requests.at(-1)!.at;
    server.down = false;
    await buildChatGraph(saver).invoke({ messages: [human('written offline', 0)] }, threadConfig('offline'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.records).toEqual([]);
    // The browser says it is back online: the push goes out now, well before the retry was due.
    dispatchEvent(new Event('online'));
    await vi.waitFor(async () => expect(server.checkpointIds('offline')).toEqual(await checkpointIds(saver, 'offline')), { timeout: 3_500, interval: 20 });
    expect(server.requests.find((request) => request.path === '/push' && request.at > lastTry)!.at - lastTry).toBeLessThan(3_900);
    await vi.waitFor(() => expect(controller.status).toBe('idle'));
    expect(states[0]).toBe('syncing');
    expect(states).toContain('offline UNAVAILABLE');
    expect(states.slice(states.lastIndexOf('offline UNAVAILABLE') + 1)).toEqual(['syncing', 'idle']);
  });

  it('pulls from the cursor it stored when it syncs again after a stop, not from the start', async () => {
    const origin = track(new BrowserSaver({ dbName: freshDbName('sync-cursor-origin') }));
    const originSync = sync(origin);
    const graph = buildChatGraph(origin);
    await graph.invoke({ messages: [human('first', 0)] }, threadConfig('cursor'));
    await originSync.syncNow();

    const device = track(new BrowserSaver({ dbName: freshDbName('sync-cursor-device') }));
    const pullsBefore = server.pulls.length;
    const first = sync(device);
    await first.syncNow();
    await first.stop();
    const { clientId } = server.pulls[pullsBefore]!;
    const devicePulls = () => server.pulls.filter((pull) => pull.clientId === clientId).map((pull) => pull.cursor);
    expect(devicePulls()[0]).toBeNull();
    const reached = String(server.records.length);

    await graph.invoke({ messages: [human('second', 1)] }, threadConfig('cursor'));
    await originSync.syncNow();
    // A new controller on the same database, as after a reload: it asks for what came after what it has.
    const seen = devicePulls().length;
    await sync(device).syncNow();
    expect(devicePulls()[seen]).toBe(reached);
    expect(await checkpointIds(device, 'cursor')).toEqual(await checkpointIds(origin, 'cursor'));
  });
});
