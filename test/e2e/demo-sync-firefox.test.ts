// The demo on two devices in Firefox: two profiles against one demo server (embedded PGlite); a conversation made
// in one appears in the other. Driven through puppeteer-core over WebDriver BiDi, as the other Firefox tests are.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { Browser, Page } from 'puppeteer-core';
import { freshProfile, launchFirefox } from '../support/browser.js';
import { buildApp } from '../support/build-app.js';
import { DEMO_CONFIG, startDemoServer, type DemoServer } from '../support/demo-server.js';

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
});
