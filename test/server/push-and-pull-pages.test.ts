// How a push goes into the server's saver (several calls at a time) and how a device pulls many pages (the next
// asked for while one is stored): what a reader of the saver and a device can count on.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunnableConfig } from '@langchain/core/runnables';
import { BrowserSaver } from '../../src/index.js';
import { toNodeListener } from '../../src/server/index.js';
import { startSync } from '../../src/sync/index.js';
import { buildChatGraph, human } from '../support/chat-graph.js';
import { collect, freshDbName, threadConfig } from '../support/fixtures.js';
import { Device, USERS, startServer, type TestServer } from './support.js';

let server: TestServer;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await server.close();
});

async function chat(saver: BrowserSaver, thread: string, turns: number, from = 0): Promise<void> {
  const graph = buildChatGraph(saver);
  for (let turn = from; turn < from + turns; turn += 1) await graph.invoke({ messages: [human(`${thread} turn ${turn}`, turn)] }, threadConfig(thread));
}

function device(): Device {
  const created = new Device(server, 'alice');
  cleanups.push(() => created.close());
  return created;
}

async function checkpointIds(saver: { list: BrowserSaver['list'] }, thread: string): Promise<string[]> {
  return (await collect(saver.list(threadConfig(thread)))).map((tuple) => tuple.checkpoint.id).sort();
}

describe('a push into the saver', () => {
  it("writes each thread's newest checkpoint, and the writes on it, after everything else the push brings", async () => {
    server = await startServer();
    const done: { kind: 'put' | 'writes'; thread: string; id: string }[] = [];
    const { put, putWrites } = server.saver;
    server.saver.put = async (config: RunnableConfig, checkpoint, ...rest) => {
      const stored = await put.call(server.saver, config, checkpoint, ...rest);
      done.push({ kind: 'put', thread: config.configurable!['thread_id'], id: checkpoint.id });
      return stored;
    };
    server.saver.putWrites = async (config: RunnableConfig, ...rest) => {
      await putWrites.call(server.saver, config, ...rest);
      done.push({ kind: 'writes', thread: config.configurable!['thread_id'], id: config.configurable!['checkpoint_id'] });
    };
    const phone = device();
    await chat(phone.saver, 'first', 4);
    await chat(phone.saver, 'second', 3);
    await phone.push();

    for (const thread of ['first', 'second']) {
      const calls = done.filter((call) => call.thread === thread);
      const newest = calls.filter((call) => call.kind === 'put').map((call) => call.id).sort().at(-1)!;
      expect(newest).toBe((await phone.saver.getTuple(threadConfig(thread)))!.checkpoint.id);
      const lastPut = calls.findIndex((call) => call.kind === 'put' && call.id === newest);
      // Everything else of the thread is in the saver before its newest checkpoint, whose writes follow it.
      expect(calls.slice(lastPut + 1).every((call) => call.kind === 'writes' && call.id === newest)).toBe(true);
      expect(calls.slice(0, lastPut).some((call) => call.id === newest)).toBe(false);
      expect(calls.filter((call) => call.kind === 'put')).toHaveLength((await checkpointIds(phone.saver, thread)).length);
    }
    expect(await checkpointIds(server.saver, 'first')).toEqual(await checkpointIds(phone.saver, 'first'));
  });

  it('resolves the lists of a turn pushed late in a long chat in a few queries, not one per list its chain builds on', async () => {
    server = await startServer();
    const phone = device();
    await chat(phone.saver, 'long', 60);
    await phone.push();
    await chat(phone.saver, 'long', 1, 60);
    const { query } = server.pool;
    let queries = 0;
    server.pool.query = ((...args: Parameters<typeof query>) => {
      queries += 1;
      return (query as (...a: unknown[]) => unknown).apply(server.pool, args);
    }) as typeof query;
    await phone.push();
    server.pool.query = query;
    // The turn's lists edit the 120 stored before them, in one chain.
    expect(queries).toBeLessThan(12);
    const onServer = await server.saver.getTuple(threadConfig('long'));
    const onPhone = await phone.saver.getTuple(threadConfig('long'));
    expect(onServer?.checkpoint.channel_values['messages']).toEqual(onPhone?.checkpoint.channel_values['messages']);
    expect((onServer?.checkpoint.channel_values['messages'] as unknown[]).length).toBe(122);
  });

  it('records nothing for pulls when a saver call fails midway, and the retry completes the push', async () => {
    server = await startServer();
    const { put } = server.saver;
    let calls = 0;
    server.saver.put = async (...args) => {
      calls += 1;
      if (calls === 3) throw new Error('the database went away');
      return put.apply(server.saver, args);
    };
    const phone = device();
    await chat(phone.saver, 'interrupted', 5);
    await expect(phone.push()).rejects.toThrow(/^500/);
    expect(server.errors).toEqual([expect.objectContaining({ message: 'the database went away' })]);
    server.errors.length = 0;
    expect(await server.pullAll('alice')).toEqual([]);

    const answer = await phone.push();
    expect(answer.stored).toBeGreaterThan(0);
    expect(await checkpointIds(server.saver, 'interrupted')).toEqual(await checkpointIds(phone.saver, 'interrupted'));
    const pulled = await server.pullAll('alice');
    expect(pulled.filter((record) => record.kind === 'checkpoint')).toHaveLength((await checkpointIds(phone.saver, 'interrupted')).length);
  });
});

describe('pull pages and commits', () => {
  /** The pages of a pull from the beginning with `limit`, as the number of changes in each. */
  async function pageSizes(limit: number): Promise<number[]> {
    const sizes: number[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page = await server.pull('alice', { cursor, limit });
      sizes.push(page.changes.length);
      cursor = page.cursor;
      if (!page.more) return sizes.filter((size) => size > 0);
    }
  }

  it('never end inside a commit: a page ends before a commit it cannot hold, or holds the whole of a larger one', async () => {
    server = await startServer();
    const phone = device();
    // Three pushes, three commits: each turn's checkpoints with their values and writes.
    const commits: number[] = [];
    for (let turn = 0; turn < 3; turn += 1) {
      await chat(phone.saver, 'paged', 1, turn);
      commits.push((await phone.push()).stored);
    }
    expect(Math.min(...commits)).toBeGreaterThan(4);
    // Pages smaller than a commit take the whole commit; a page with room for one commit and a part of the next
    // ends after the first.
    expect(await pageSizes(4)).toEqual(commits);
    expect(await pageSizes(commits[0]! + 2)).toEqual(commits);
    // A page with room for two commits holds two.
    expect(await pageSizes(commits[0]! + commits[1]!)).toEqual([commits[0]! + commits[1]!, commits[2]!]);
    // A device pulling page by page never stores a checkpoint without the writes pushed with it.
    const other = device();
    await other.pull();
    expect(await checkpointIds(other.saver, 'paged')).toEqual(await checkpointIds(phone.saver, 'paged'));
  });
});

describe('a pull of many pages', () => {
  it('stores page after page, and after a page that failed resumes and ends whole', async () => {
    server = await startServer({ limits: { maxPullLimit: 4 } });
    let pulls = 0;
    const http: Server = createServer((req, res) => {
      if (req.url?.endsWith('/pull')) {
        pulls += 1;
        // The third page fails once, while the second may still be being stored.
        if (pulls === 3) {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 'internal', message: 'Try again later.' } }));
          return;
        }
      }
      toNodeListener(server.handler)(req, res);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => http.close(() => resolve())));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/sync`;
    const headers = { authorization: `Bearer ${USERS.alice}` };

    const made = new BrowserSaver({ dbName: freshDbName('pages-made') });
    const pushing = startSync(made, { url, headers });
    cleanups.push(() => pushing.stop().then(() => made.close()));
    // A push per turn: a page holds at least one whole commit, so the chat comes in a page per turn.
    for (let turn = 0; turn < 8; turn += 1) {
      await chat(made, 'long', 1, turn);
      await pushing.syncNow();
    }
    await pushing.stop();
    pulls = 0;

    const fresh = new BrowserSaver({ dbName: freshDbName('pages-fresh') });
    const pulling = startSync(fresh, { url, headers });
    cleanups.push(() => pulling.stop().then(() => fresh.close()));
    await expect(pulling.syncNow()).rejects.toThrow(/503/);
    // Retried on its own after a short delay.
    await expect.poll(() => checkpointIds(fresh, 'long'), { timeout: 15_000 }).toEqual(await checkpointIds(made, 'long'));
    expect(pulls).toBeGreaterThan(6);
    const graph = buildChatGraph(fresh);
    expect((await graph.getState(threadConfig('long'))).values).toEqual((await buildChatGraph(made).getState(threadConfig('long'))).values);
  });
});
