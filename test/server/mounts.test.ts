// The handler mounted in a Fetch-API framework instead of `toNodeListener`: Hono, on Node through its adapter, under
// a prefix of the app's choosing, with two devices syncing through it, one of them live.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { BrowserSaver } from '../../src/index.js';
import { startSync } from '../../src/sync/index.js';
import { buildChatGraph, human } from '../support/chat-graph.js';
import { collect, freshDbName, threadConfig } from '../support/fixtures.js';
import { USERS, startServer } from './support.js';

it('mounts in Hono: pushes, pulls and the live stream go through it', async () => {
  const server = await startServer();
  const app = new Hono();
  app.all('/api/sync/*', (c) => server.handler(c.req.raw));
  app.get('/', (c) => c.text('the app'));
  const listening = await new Promise<{ http: ReturnType<typeof serve>; port: number }>((resolve) => {
    const http = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => resolve({ http, port: info.port }));
  });
  const url = `http://127.0.0.1:${listening.port}/api/sync`;
  const headers = { authorization: `Bearer ${USERS.alice}` };
  const a = new BrowserSaver({ dbName: freshDbName('hono-a') });
  const b = new BrowserSaver({ dbName: freshDbName('hono-b') });
  const fromA = startSync(a, { url, headers });
  const toB = startSync(b, { url, headers, live: true });
  try {
    const ids = async (on: BrowserSaver) => (await collect(on.list(threadConfig('mounted')))).map((tuple) => tuple.checkpoint.id);
    await buildChatGraph(a).invoke({ messages: [human('through hono', 0)] }, threadConfig('mounted'));
    await fromA.syncNow();
    await toB.syncNow();
    expect(await ids(b)).toEqual(await ids(a));

    // The next turn reaches B over the live stream, without B asking.
    await buildChatGraph(a).invoke({ messages: [human('and live', 1)] }, threadConfig('mounted'));
    await fromA.syncNow();
    await vi.waitFor(async () => expect(await ids(b)).toEqual(await ids(a)), { timeout: 10_000, interval: 50 });
    expect((await buildChatGraph(b).getState(threadConfig('mounted'))).values).toEqual((await buildChatGraph(a).getState(threadConfig('mounted'))).values);
    // The app's other routes are its own; the handler answers its errors as JSON under the prefix.
    expect(await (await fetch(`http://127.0.0.1:${listening.port}/`)).text()).toBe('the app');
    const refused = await fetch(`${url}/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
  } finally {
    await fromA.stop();
    await toB.stop();
    for (const saver of [a, b]) {
      await saver.close();
      await BrowserSaver.deleteDatabase(saver.dbName);
    }
    await server.close();
    await new Promise<void>((resolve) => listening.http.close(() => resolve()));
  }
  expect(server.errors).toEqual([]);
});
