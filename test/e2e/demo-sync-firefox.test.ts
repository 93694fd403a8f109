// The demo on two devices in Firefox: two profiles against one demo server (embedded PGlite); a conversation made
// in one appears in the other, and a Firefox killed (SIGKILL) while its push was in flight completes its outbox once
// relaunched, losing and duplicating nothing. Driven through puppeteer-core over WebDriver BiDi, as the other Firefox
// tests are.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { freshProfile, launchFirefox } from '../support/browser.js';
import { buildApp } from '../support/build-app.js';
import { localState } from '../support/demo-page.js';
import { DEMO_CONFIG, startDemoServer, type DemoServer } from '../support/demo-server.js';
import { endpointAt, pullAll } from '../server/support.js';

const messages = (page: Page) => page.$$eval('.messages .message .text', (texts) => texts.map((text) => text.textContent ?? ''));
const titles = (page: Page) => page.$$eval('.threads .thread', (buttons) => buttons.map((button) => button.textContent ?? ''));
const syncStatus = (page: Page) => page.$eval('.sync', (status) => status.textContent ?? '');

async function send(page: Page, text: string, reply: RegExp) {
  await page.type('input[aria-label="Message"]', text);
  await page.click('.composer button');
  await expect.poll(async () => (await messages(page)).at(-1) ?? '', { timeout: 15_000 }).toMatch(reply);
}

describe('the demo on two devices (two Firefox profiles, one demo server)', () => {
  let server: DemoServer;
  let outDir: string;
  const profiles = [freshProfile(), freshProfile()];
  const browsers: Browser[] = [];

  async function open(profileDir: string): Promise<Page> {
    const browser = await launchFirefox(profileDir);
    browsers.push(browser);
    const page = (await browser.pages())[0] ?? (await browser.newPage());
    await page.goto(`${server.origin}/`);
    await page.waitForSelector('.sync');
    return page;
  }

  /**
   * Ends the browser of `page` with SIGKILL, as a crash would, and waits until it is gone and puppeteer has put the
   * profile's preference files back (it does so when the process exits; a launch meanwhile would race it).
   */
  async function kill(page: Page, profileDir: string): Promise<void> {
    const browser = page.browser();
    browsers.splice(browsers.indexOf(browser), 1);
    const process = browser.process()!;
    const exited = once(process, 'exit');
    process.kill('SIGKILL');
    await exited;
    const restoring = () => ['prefs.js', 'user.js'].some((file) => existsSync(join(profileDir, `${file}.puppeteer`)));
    await expect.poll(restoring, { timeout: 10_000 }).toBe(false);
  }

  /** Waits until the page's outbox is empty and its sync idle. */
  async function settled(page: Page): Promise<void> {
    await expect.poll(async () => (await localState(page)).outbox, { timeout: 60_000 }).toBe(0);
    await expect.poll(() => syncStatus(page), { timeout: 60_000 }).toBe('Sync: idle');
  }

  /** The server holds each of `local` exactly once, and nothing else. */
  async function expectServerHoldsOnce(local: string[]): Promise<void> {
    const counts = new Map<string, number>();
    for (const change of await pullAll(endpointAt(server.syncUrl), 'alice')) {
      if (change.kind !== 'checkpoint') continue;
      const key = JSON.stringify([change.thread_id, change.checkpoint_ns, change.checkpoint_id]);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(local);
    expect([...counts.values()].filter((count) => count !== 1)).toEqual([]);
  }

  beforeAll(async () => {
    outDir = await buildApp(DEMO_CONFIG);
    server = await startDemoServer({ outDir });
  }, 180_000);

  afterAll(async () => {
    for (const browser of browsers) await browser.close();
    await server?.dispose();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
    for (const profile of profiles) profile.remove();
  });

  it('shows a conversation made in profile A in profile B', async () => {
    const pageA = await open(profiles[0]!.dir);
    const pageB = await open(profiles[1]!.dir);
    await send(pageA, 'note: buy milk', /Noted: "buy milk"/);
    await send(pageA, 'todo: call Ada', /Added to your list: "call Ada"/);
    await expect.poll(() => syncStatus(pageA), { timeout: 30_000 }).toBe('Sync: idle');

    await expect.poll(() => titles(pageB), { timeout: 30_000 }).toEqual(['note: buy milk']);
    await pageB.click('.threads .thread');
    await expect.poll(() => messages(pageB)).toEqual(['note: buy milk', 'Noted: "buy milk".', 'todo: call Ada', 'Added to your list: "call Ada".']);
    await expect.poll(() => syncStatus(pageB)).toBe('Sync: idle');
  }, 120_000);

  /**
   * Profile A, alone, commits a conversation about `subject` while the server is down, then the server comes back and
   * A's push of that outbox is in flight when this resolves.
   */
  async function pushAfterOutage(subject: string): Promise<{ pageA: Page; made: { checkpoints: string[]; outbox: number } }> {
    for (const browser of browsers.splice(0)) await browser.close();
    const pageA = await open(profiles[0]!.dir);
    await settled(pageA);
    // With the server down, the commits pile up in the outbox.
    await server.kill();
    await pageA.click('::-p-text(New conversation)');
    await expect.poll(() => messages(pageA)).toEqual([]);
    await send(pageA, `note: ${subject}`, new RegExp(`Noted: "${subject}"`));
    await send(pageA, `todo: ${subject}`, new RegExp(`Added to your list: "${subject}"`));
    await expect.poll(() => syncStatus(pageA), { timeout: 30_000 }).toMatch(/offline|error/);
    const made = await localState(pageA);
    expect(made.outbox).toBeGreaterThan(0);

    // Offline while the server starts: a retry at the end of a backoff would otherwise push the outbox before this
    // watches for it, and the push to watch would never come.
    await pageA.setOfflineMode(true);
    await server.start();
    const pushed = new Promise<void>((resolve) => pageA.on('request', (request) => request.url().endsWith('/sync/push') && resolve()));
    // Back online, the browser fires `online`: the push goes at once, not after the backoff.
    await pageA.setOfflineMode(false);
    await pushed;
    return { pageA, made };
  }

  it('completes the outbox of a Firefox killed (SIGKILL) while its push was in flight, once', async () => {
    const { pageA, made } = await pushAfterOutage('pay rent');
    await kill(pageA, profiles[0]!.dir);

    const relaunched = await open(profiles[0]!.dir);
    await settled(relaunched);
    expect(await localState(relaunched)).toEqual({ checkpoints: made.checkpoints, outbox: 0 });
    await expectServerHoldsOnce(made.checkpoints);
    const pageB = await open(profiles[1]!.dir);
    await expect.poll(async () => (await titles(pageB)).sort(), { timeout: 30_000 }).toEqual(['note: buy milk', 'note: pay rent']);
  }, 240_000);

  it('completes the outbox when the server is killed (SIGKILL) mid-push and started again, once', async () => {
    const { pageA, made } = await pushAfterOutage('water plants');
    await server.kill();
    await expect.poll(() => syncStatus(pageA), { timeout: 30_000 }).toMatch(/offline|error/);
    await server.start();
    await pageA.evaluate(() => dispatchEvent(new Event('online')));
    await settled(pageA);
    await expectServerHoldsOnce(made.checkpoints);
    const pageB = await open(profiles[1]!.dir);
    await expect.poll(async () => (await titles(pageB)).sort(), { timeout: 30_000 }).toEqual(['note: buy milk', 'note: pay rent', 'note: water plants']);
  }, 240_000);
});
