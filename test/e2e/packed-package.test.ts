import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { callHarness, freshProfile, launchChromium, openHarness, serveBuildOutput, type ServedPages } from '../support/browser.js';
import { checkoutRanges, installApp, packCleanCheckout, runTool, type PackedPackage } from '../support/packed-app.js';

const checkout = resolve(new URL('../../', import.meta.url).pathname);
const template = new URL('./packed-app/', import.meta.url).pathname;

describe('the packed package, installed into a new Vite app', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'juncture-packed-'));
  const appDir = join(scratch, 'app');
  const profile = freshProfile();
  let packed: PackedPackage;
  let pages: ServedPages;
  let context: BrowserContext;

  beforeAll(async () => {
    packed = await packCleanCheckout(checkout, scratch);
    await installApp({
      checkout,
      template,
      appDir,
      packed,
      app: {
        dependencies: { 'juncture-browser': `file:${packed.tarball}`, ...checkoutRanges(checkout, ['@langchain/core', '@langchain/langgraph-checkpoint']) },
        devDependencies: checkoutRanges(checkout, ['typescript', 'vite']),
      },
    });
  });

  afterAll(async () => {
    await context?.close();
    await pages?.close();
    profile.remove();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('holds the build that `prepack` made from a clean checkout', () => {
    for (const built of ['dist/index.js', 'dist/worker.js', 'dist/devtools.js', 'dist/panel.js', 'dist/sync.js', 'dist/server.js', 'dist/types/index.d.ts', 'dist/types/sync/index.d.ts', 'dist/types/server/index.d.ts', 'dist/extension/manifest.json']) {
      expect(packed.files).toContain(built);
    }
    expect(packed.files.filter((file) => file.startsWith('src/') || file.startsWith('test/'))).toEqual([]);
  });

  it('type-checks every entry point under moduleResolution "bundler"', async () => {
    await runTool(join(appDir, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], appDir);
  });

  it('runs `juncture-browser/server` and `juncture-browser/sync` from the installed package in Node', async () => {
    // The handler answers 401 before it touches the database, so a pool that is never used is enough to run it.
    const script = `
      import { MemorySaver } from '@langchain/langgraph-checkpoint';
      import * as server from 'juncture-browser/server';
      import * as sync from 'juncture-browser/sync';
      const handler = server.createSyncHandler({ saver: new MemorySaver(), pool: { connect() {} }, authenticate: () => null });
      const response = await handler(new Request('http://localhost/sync/pull', { method: 'POST' }));
      console.log(JSON.stringify({
        server: Object.keys(server).sort(),
        sync: Object.keys(sync).sort(),
        kinds: [server.createSyncHandler, server.toNodeListener, server.SyncedSaver, server.setupSyncTables, sync.startSync].map((value) => typeof value),
        status: response.status,
        body: await response.json(),
      }));
    `;
    const output = await runTool(process.execPath, ['--input-type=module', '--eval', script], appDir);
    expect(JSON.parse(output)).toEqual({
      server: ['SyncedSaver', 'createSyncHandler', 'setupSyncTables', 'toNodeListener'],
      sync: ['startSync'],
      kinds: ['function', 'function', 'function', 'function', 'function'],
      status: 401,
      body: { error: { code: 'unauthenticated', message: expect.any(String) } },
    });
  });

  it('builds with the app\'s Vite; `new WorkerSaver()` stores through its own worker, and close() ends it', async () => {
    const outDir = join(scratch, 'app-build');
    await runTool(join(appDir, 'node_modules/.bin/vite'), ['build', '--outDir', outDir, '--logLevel', 'warn'], appDir);
    pages = await serveBuildOutput(outDir);
    context = await launchChromium(profile.dir);

    const page = await openHarness(context, pages.url('index.html'));
    await callHarness(page, 'put', 'packaged', 'hello');
    expect(await callHarness(page, 'read', 'packaged')).toBe('hello');
    expect(page.workers()).toHaveLength(1);
    const ended = new Promise<void>((done) => page.workers()[0]!.once('close', () => done()));
    await callHarness(page, 'close');
    await ended;
    expect(page.workers()).toHaveLength(0);
  });

  it('two tabs of the app see each other\'s commits through subscribe', async () => {
    const first = await openHarness(context, pages.url('index.html'));
    const second = await openHarness(context, pages.url('index.html'), { newTab: true });
    const fromFirst = await callHarness<string>(first, 'put', 'tab-1', 'one');
    const fromSecond = await callHarness<string>(second, 'put', 'tab-2', 'two');
    const expected = (thread_id: string, checkpoint_id: string) => ({ kind: 'checkpoint', thread_id, checkpoint_ns: '', checkpoint_id });
    await expect.poll(() => callHarness(second, 'heard')).toContainEqual(expected('tab-1', fromFirst));
    await expect.poll(() => callHarness(first, 'heard')).toContainEqual(expected('tab-2', fromSecond));
    expect(await callHarness(first, 'read', 'tab-2')).toBe('two');
  });
});
