// startSync with an endpoint on another origin: the demo's handler with `cors`, served by Node on a loopback port
// of its own (test/support/cross-origin-sync.ts), while this page is on Vitest's origin. The browser itself
// enforces CORS: it preflights each push and pull, and refuses to send them when the endpoint does not allow
// this page's origin.
import { commands } from 'vitest/browser';
import { BrowserSaver } from '../../src/index.js';
import { IndexedDBCheckpointStorage } from '../../src/storage/checkpoint-store.js';
import { startSync, type SyncController } from '../../src/sync/index.js';
import { buildChatGraph, human } from '../support/chat-graph.js';
import { collect, freshDbName, threadConfig } from '../support/fixtures.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function crossOriginServer(origins: string[]): Promise<{ url: string; requests(): Promise<string[]> }> {
  const { url, id } = await commands.startCrossOriginSync({ origins });
  cleanups.push(() => commands.stopCrossOriginSync(id));
  expect(new URL(url).origin).not.toBe(location.origin);
  return { url, requests: () => commands.crossOriginRequests(id) };
}

function saver(name: string): BrowserSaver {
  const saver = new BrowserSaver({ dbName: freshDbName(name) });
  cleanups.push(async () => {
    await saver.close();
    await BrowserSaver.deleteDatabase(saver.dbName);
  });
  return saver;
}

function sync(device: BrowserSaver, url: string): SyncController {
  // A bearer token, as a page on another origin authenticates (it sends no cookies there); it also makes the
  // browser preflight, as does the JSON body.
  const controller = startSync(device, { url, headers: { authorization: 'Bearer demo' } });
  cleanups.push(() => controller.stop());
  return controller;
}

async function checkpointIds(device: BrowserSaver, thread: string): Promise<string[]> {
  return (await collect(device.list(threadConfig(thread)))).map((tuple) => String(tuple.config.configurable?.checkpoint_id)).sort();
}

// Each test starts a server on an embedded database, whose first start runs initdb in WebAssembly: seconds, more on
// a busy machine.
const SERVER_TEST_MS = 180_000;

describe('startSync with an endpoint on another origin', () => {
  it('syncs two devices through an endpoint whose cors.origins names this page', async () => {
    const server = await crossOriginServer([location.origin]);
    const origin = saver('cors-origin');
    await buildChatGraph(origin).invoke({ messages: [human('from another origin', 0)] }, threadConfig('cors'));
    await sync(origin, server.url).syncNow();

    const device = saver('cors-device');
    await sync(device, server.url).syncNow();
    expect(await checkpointIds(device, 'cors')).toEqual(await checkpointIds(origin, 'cors'));
    expect((await buildChatGraph(device).getState(threadConfig('cors'))).values).toEqual((await buildChatGraph(origin).getState(threadConfig('cors'))).values);
    // The browser asked before sending: a preflight, then the push (and the same for the pulls).
    const requests = await server.requests();
    expect(requests.slice(0, 2)).toEqual(['OPTIONS push', 'POST push']);
    expect(requests).toContain('POST pull');
  }, SERVER_TEST_MS);

  it('is refused by the browser when cors.origins does not name this page: nothing is sent, the commit waits', async () => {
    const server = await crossOriginServer(['https://app.example']);
    const device = saver('cors-refused');
    await buildChatGraph(device).invoke({ messages: [human('must not leave', 0)] }, threadConfig('refused'));
    const controller = sync(device, server.url);
    // The page cannot read the refusal, only that the request failed: the client takes it for a network failure.
    await expect(controller.syncNow()).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/could not be reached for push/) });
    expect(controller.status).toBe('offline');
    // Only the preflight reached the server, which refused it; the push itself was never sent.
    expect(new Set(await server.requests())).toEqual(new Set(['OPTIONS push']));
    const storage = new IndexedDBCheckpointStorage({ dbName: device.dbName, durability: 'default' });
    cleanups.push(() => storage.close());
    expect(await storage.journalSize()).toBeGreaterThan(0);
  }, SERVER_TEST_MS);
});
