// The handler served otherwise than by `toNodeListener` alone: mounted in Hono on Node through its adapter, under a
// prefix of the app's choosing; as the exports of a Next.js route module, called as Next.js calls them; and served by
// Bun's and Deno's own Fetch-API servers (each started as a process of its own from the npm package of the runtime).
// Two devices sync through each, one of them live.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { BrowserSaver } from '../../src/index.js';
import { toNodeListener } from '../../src/server/index.js';
import { startSync } from '../../src/sync/index.js';
import { buildChatGraph, human } from '../support/chat-graph.js';
import { collect, freshDbName, threadConfig } from '../support/fixtures.js';
import { USERS, freshDatabase, startServer } from './support.js';

/** Two devices sync a thread through the endpoint at `url`: a push and a pull, then a turn that B hears live. */
async function syncTwoDevices(url: string): Promise<void> {
  const headers = { authorization: `Bearer ${USERS.alice}` };
  const a = new BrowserSaver({ dbName: freshDbName('mounted-a') });
  const b = new BrowserSaver({ dbName: freshDbName('mounted-b') });
  const fromA = startSync(a, { url, headers });
  const toB = startSync(b, { url, headers, live: true });
  try {
    const ids = async (on: BrowserSaver) => (await collect(on.list(threadConfig('mounted')))).map((tuple) => tuple.checkpoint.id);
    await buildChatGraph(a).invoke({ messages: [human('through the mount', 0)] }, threadConfig('mounted'));
    await fromA.syncNow();
    await toB.syncNow();
    expect(await ids(b)).toEqual(await ids(a));

    // The next turn reaches B over the live stream, without B asking.
    await buildChatGraph(a).invoke({ messages: [human('and live', 1)] }, threadConfig('mounted'));
    await fromA.syncNow();
    await vi.waitFor(async () => expect(await ids(b)).toEqual(await ids(a)), { timeout: 10_000, interval: 50 });
    expect((await buildChatGraph(b).getState(threadConfig('mounted'))).values).toEqual((await buildChatGraph(a).getState(threadConfig('mounted'))).values);
    // Errors are the handler's, as JSON.
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
  }
}

it('mounts in Hono: pushes, pulls and the live stream go through it', async () => {
  const server = await startServer();
  const app = new Hono();
  app.all('/api/sync/*', (c) => server.handler(c.req.raw));
  app.get('/', (c) => c.text('the app'));
  const listening = await new Promise<{ http: ReturnType<typeof serve>; port: number }>((resolve) => {
    const http = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => resolve({ http, port: info.port }));
  });
  try {
    await syncTwoDevices(`http://127.0.0.1:${listening.port}/api/sync`);
    // The app's other routes stay its own.
    expect(await (await fetch(`http://127.0.0.1:${listening.port}/`)).text()).toBe('the app');
  } finally {
    await server.close();
    await new Promise<void>((resolve) => listening.http.close(() => resolve()));
  }
  expect(server.errors).toEqual([]);
});

it('answers as the exports of a Next.js route module: POST for push and pull, GET for the live stream', async () => {
  process.env['JUNCTURE_TEST_DATABASE_URL'] = await freshDatabase();
  const route = await import('./runtimes/next-route.js');
  expect({ runtime: route.runtime, dynamic: route.dynamic }).toEqual({ runtime: 'nodejs', dynamic: 'force-dynamic' });
  // What Next.js does for app/sync/[endpoint]/route.ts: the request to the exported function of its method.
  const http = createServer(toNodeListener((request) => (request.method === 'GET' ? route.GET : route.POST)(request)));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  try {
    await syncTwoDevices(`http://127.0.0.1:${(http.address() as AddressInfo).port}/sync`);
  } finally {
    await route.close();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    delete process.env['JUNCTURE_TEST_DATABASE_URL'];
  }
});

const script = fileURLToPath(new URL('./runtimes/serve-fetch.ts', import.meta.url));
const bin = (name: string) => fileURLToPath(new URL(`../../node_modules/.bin/${name}`, import.meta.url));

/** Starts the script under a runtime; resolves with the process and its port once it listens. */
async function serveWith(command: string, args: string[], databaseUrl: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(command, args, { env: { ...process.env, JUNCTURE_TEST_DATABASE_URL: databaseUrl }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not listen within 60 s: ${output}`)), 60_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const port = /listening (\d+)/.exec(output)?.[1];
      if (port === undefined) return;
      clearTimeout(timer);
      resolve({ child, port: Number(port) });
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code} before it listened: ${output}`));
    });
  });
}

/** Stops a runtime's process: SIGTERM, and SIGKILL when it has not exited 5 s later. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

it.each([
  ['Bun', 'bun', ['run', script]],
  // Sloppy imports: the sources import each other as `.js`, as TypeScript's Node resolution writes them.
  ['Deno', 'deno', ['run', '--allow-all', '--sloppy-imports', '--no-lock', '--quiet', script]],
])('is served by %s: pushes, pulls and the live stream go through it', async (_, runtime, args) => {
  const { child, port } = await serveWith(bin(runtime), args, await freshDatabase());
  try {
    await syncTwoDevices(`http://127.0.0.1:${port}/sync`);
  } finally {
    await stop(child);
  }
}, 120_000);
