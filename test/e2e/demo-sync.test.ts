// The demo as `npm run demo` serves it (page and /sync on the embedded PGlite), opened in two Chromium profiles as
// two devices: conversations travel between them, and neither a browser killed mid-push nor a server killed
// mid-push loses or duplicates a checkpoint.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { freshProfile, launchChromium, launchKillableChromium } from '../support/browser.js';
import { buildApp } from '../support/build-app.js';
import { DEMO_CONFIG, startDemoServer, type DemoServer } from '../support/demo-server.js';
import { endpointAt, pullAll } from '../server/support.js';
import { converse, localState, messages, settled, syncStatus, titles } from '../support/demo-page.js';

describe('the demo on two devices (two Chromium profiles, one demo server)', () => {
  let server: DemoServer;
  let outDir: string;
  const profileA = freshProfile();
  const profileB = freshProfile();
  let contextB: BrowserContext;
  let pageB: Page;
  /** Profile A's browser of the running test, closed (or killed) after it whatever happened. */
  const closeA: (() => Promise<void>)[] = [];

  async function launchA(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await launchChromium(profileA.dir);
    closeA.push(() => context.close());
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${server.origin}/`);
    return { context, page };
  }

  /** Profile A in a browser the test can kill (SIGKILL), with conversations made offline: they wait in the outbox. */
  async function conversedOffline(conversations: string[]) {
    const killable = await launchKillableChromium(profileA.dir);
    closeA.push(killable.kill);
    const page = killable.context.pages()[0] ?? (await killable.context.newPage());
    await page.goto(`${server.origin}/`);
    await settled(page);
    await killable.context.setOffline(true);
    for (const title of conversations) await converse(page, title);
    const made = await localState(page);
    expect(made.outbox).toBeGreaterThan(0);
    return { killable, made };
  }

  /** Every checkpoint the server holds, as a fresh device pulls them: key → how many times it came. */
  async function serverCheckpoints(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const change of await pullAll(endpointAt(server.syncUrl), 'alice')) {
      if (change.kind !== 'checkpoint') continue;
      const key = JSON.stringify([change.thread_id, change.checkpoint_ns, change.checkpoint_id]);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }

  /** The server holds each of `local` exactly once, and nothing else. */
  async function expectServerHoldsOnce(local: string[]) {
    const counts = await serverCheckpoints();
    expect([...counts.keys()].sort()).toEqual(local);
    expect([...counts.values()].filter((count) => count !== 1)).toEqual([]);
  }

  beforeAll(async () => {
    outDir = await buildApp(DEMO_CONFIG);
    server = await startDemoServer({ outDir });
    contextB = await launchChromium(profileB.dir);
    pageB = contextB.pages()[0] ?? (await contextB.newPage());
    await pageB.goto(`${server.origin}/`);
  }, 180_000);

  afterEach(async () => {
    for (const close of closeA.splice(0)) await close();
  });

  afterAll(async () => {
    await contextB?.close();
    await server?.dispose();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
    profileA.remove();
    profileB.remove();
  });

  it('shows a conversation made in profile A in profile B, with its sync status', async () => {
    const { page: pageA } = await launchA();
    await converse(pageA, 'buy milk');
    await settled(pageA);

    await expect.poll(() => titles(pageB), { timeout: 15_000 }).toEqual(['note: buy milk']);
    await pageB.getByRole('button', { name: 'note: buy milk', exact: true }).click();
    await expect.poll(() => messages(pageB)).toEqual(['note: buy milk', 'Noted: "buy milk".', 'todo: buy milk', 'Added to your list: "buy milk".']);
    await expect.poll(() => syncStatus(pageB)).toBe('Sync: idle');
    await expectServerHoldsOnce((await localState(pageA)).checkpoints);
  }, 120_000);

  it('completes the outbox of a browser killed (SIGKILL) after the server stored its push and before the answer came, once', async () => {
    // Back online, the commits go up in one push. The server stores it, its answer is held back from the page, and
    // the browser dies waiting for it.
    const { killable, made } = await conversedOffline(['call Ada', 'pay rent']);
    const stored = new Promise<void>((resolve) =>
      killable.context.route('**/sync/push', async (route) => {
        expect((await route.fetch()).status()).toBe(200);
        resolve();
      }),
    );
    await killable.context.setOffline(false);
    await stored;
    await killable.kill();
    expect([...(await serverCheckpoints()).keys()]).toEqual(expect.arrayContaining(made.checkpoints));

    const { page: relaunched } = await launchA();
    await settled(relaunched);
    const after = await localState(relaunched);
    expect(after.checkpoints).toEqual(made.checkpoints);
    await expectServerHoldsOnce(made.checkpoints);
    await expect.poll(async () => (await titles(pageB)).sort(), { timeout: 15_000 }).toEqual(['note: buy milk', 'note: call Ada', 'note: pay rent']);
  }, 180_000);

  it('completes the outbox when the server is killed (SIGKILL) mid-push and started again, once', async () => {
    const { context: contextA, page: pageA } = await launchA();
    await settled(pageA);
    await contextA.setOffline(true);
    await converse(pageA, 'water plants');
    await converse(pageA, 'book tickets');
    const made = await localState(pageA);
    expect(made.outbox).toBeGreaterThan(0);
    const pushed = new Promise<void>((resolve) => contextA.on('request', (request) => request.url().endsWith('/sync/push') && resolve()));
    await contextA.setOffline(false);
    await pushed;
    await server.kill();
    await expect.poll(() => syncStatus(pageA), { timeout: 30_000 }).toMatch(/offline|error/);

    await server.start();
    // The `online` event retries at once instead of at the end of the backoff.
    for (const context of [contextA, contextB]) {
      await context.setOffline(true);
      await context.setOffline(false);
    }
    await settled(pageA);
    await expectServerHoldsOnce(made.checkpoints);
    await expect.poll(async () => (await titles(pageB)).length, { timeout: 30_000 }).toBe(5);
    await expect.poll(() => localState(pageB), { timeout: 30_000 }).toEqual({ checkpoints: made.checkpoints, outbox: 0 });
  }, 240_000);

  it('syncs from one tab of a profile at a time, and from another once that tab is closed, losing nothing', async () => {
    const { context: contextA, page: first } = await launchA();
    await settled(first);
    const second = await contextA.newPage();
    await second.goto(`${server.origin}/`);
    const pushesFrom = new Map<Page, number>([[first, 0], [second, 0]]);
    for (const page of [first, second]) page.on('request', (request) => request.url().endsWith('/sync/push') && pushesFrom.set(page, pushesFrom.get(page)! + 1));

    // A conversation made in the second tab goes up through the first, which opened first and holds the sync lock.
    await converse(second, 'feed the cat');
    await expect.poll(() => localState(second), { timeout: 30_000 }).toMatchObject({ outbox: 0 });
    expect([pushesFrom.get(first)! > 0, pushesFrom.get(second)]).toEqual([true, 0]);

    // The first tab closes: the second takes the lock over and pushes what is made next.
    await first.close();
    await converse(second, 'water the fern');
    await settled(second);
    expect(pushesFrom.get(second)).toBeGreaterThan(0);
    await expectServerHoldsOnce((await localState(second)).checkpoints);
    await expect.poll(async () => (await titles(pageB)).filter((title) => title === 'note: feed the cat' || title === 'note: water the fern').sort(), { timeout: 30_000 }).toEqual([
      'note: feed the cat',
      'note: water the fern',
    ]);
  }, 180_000);

  it('completes the outbox of a browser killed (SIGKILL) while its push had not reached the server, once', async () => {
    const { killable, made } = await conversedOffline(['fix the bike']);
    // The push leaves the page and is held before the server: the browser dies with it unsent.
    const held = new Promise<void>((resolve) => killable.context.route('**/sync/push', () => resolve()));
    await killable.context.setOffline(false);
    await held;
    await killable.kill();
    const before = await serverCheckpoints();
    const unsent = made.checkpoints.filter((key) => !before.has(key));
    expect(unsent.length).toBeGreaterThan(0);

    const { page: relaunched } = await launchA();
    await settled(relaunched);
    expect((await localState(relaunched)).checkpoints).toEqual(made.checkpoints);
    await expectServerHoldsOnce(made.checkpoints);
  }, 180_000);
});
