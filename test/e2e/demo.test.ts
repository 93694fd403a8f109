import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { messages, send } from '../support/demo-page.js';
import { extensionIdOf, freshProfile, launchChromium, openPanelForOnlyTab, serveBuiltApp, type ServedPages } from '../support/browser.js';

const demoConfig = resolve(new URL('../../demo/vite.config.ts', import.meta.url).pathname);
const extensionDir = resolve(new URL('../../dist/extension', import.meta.url).pathname);
const screenshots = resolve(new URL('../../test-results/screenshots', import.meta.url).pathname);

describe('the demo assistant (index.html)', () => {
  let app: ServedPages;
  const profile = freshProfile();
  let context: BrowserContext;
  let page: Page;
  const requested: string[] = [];

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    app = await serveBuiltApp(demoConfig);
    context = await launchChromium(profile.dir, { extensionDir });
    context.on('request', (request) => requested.push(request.url()));
    page = context.pages()[0] ?? (await context.newPage());
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.goto(app.url('index.html'));
  });

  afterAll(async () => {
    await context?.close();
    await app?.close();
    profile.remove();
  });

  it('keeps a conversation with an approved interrupt across a reload', async () => {
    await send(page, 'note: buy milk', /Noted: "buy milk"/);
    await send(page, 'todo: call Ada', /Added to your list: "call Ada"/);
    await page.getByLabel('Message', { exact: true }).fill('clear notes');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => page.getByRole('alertdialog', { name: 'Approval' }).innerText(), { timeout: 15_000 }).toContain('Clear notes?');
    await page.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(async () => (await messages(page)).at(-1)).toBe('Cleared notes.');
    const before = await messages(page);
    expect(before).toHaveLength(6);

    await page.reload();
    await expect.poll(() => messages(page), { timeout: 15_000 }).toEqual(before);
    expect(await page.getByRole('list', { name: 'Notes' }).locator('li').count()).toBe(0);
    expect(await page.getByRole('list', { name: 'To-do' }).innerText()).toContain('call Ada');
    expect(await page.getByLabel('Conversations').locator('.thread').allInnerTexts()).toEqual(['note: buy milk']);
  });

  it('branches the conversation from the second message, and lists both branches', async () => {
    const second = page.locator('.message').nth(1);
    await second.hover();
    await second.getByRole('button', { name: 'Branch from here' }).click();
    await expect.poll(() => page.locator('.branching').innerText()).toContain('after message 2');
    await send(page, 'todo: write the report', /Added to your list: "write the report"/);
    expect(await messages(page)).toEqual(['note: buy milk', 'Noted: "buy milk".', 'todo: write the report', 'Added to your list: "write the report".']);
    const branches = page.getByRole('navigation', { name: 'Branches' }).getByRole('button');
    await expect.poll(() => branches.count()).toBe(2);
    expect((await branches.allInnerTexts()).join(' | ')).toMatch(/write the report.*\|.*clear notes/);
    await page.screenshot({ path: resolve(screenshots, 'demo.png') });
    await branches.filter({ hasText: 'clear notes' }).click();
    await expect.poll(() => messages(page)).toHaveLength(6);
  });

  it('loads and answers offline, and nothing it requested left this machine', async () => {
    await context.setOffline(true);
    await page.reload();
    await expect.poll(() => messages(page), { timeout: 15_000 }).toHaveLength(4);
    await send(page, 'list', /To-do:/);
    await context.setOffline(false);
    const hosts = new Set(requested.filter((url) => url.startsWith('http')).map((url) => new URL(url).hostname));
    expect([...hosts]).toEqual(['127.0.0.1']);
  });

  it('shows the same conversation in the in-page panel and in the extension\'s panel', async () => {
    await page.getByRole('button', { name: 'Checkpoints' }).click();
    const threads = page.locator('.juncture-panel').getByRole('list', { name: 'Threads' }).getByRole('button');
    await expect.poll(() => threads.count()).toBe(1);
    // The first line of each entry is the thread id (the second, its age, moves on between two reads).
    const threadIds = (texts: string[]) => texts.map((text) => text.split('\n')[0]);
    const inPage = threadIds(await threads.allInnerTexts());
    expect(inPage[0]).toMatch(/^chat-/);
    const panel = await openPanelForOnlyTab(context, extensionIdOf(extensionDir));
    await expect.poll(async () => threadIds(await panel.getByRole('list', { name: 'Threads' }).getByRole('button').allInnerTexts())).toEqual(inPage);
    await panel.close();
  });

  it('remembers a fact in one conversation and answers from it in another, across a reload', async () => {
    await page.locator('[data-juncture-devtools] .toggle').click();
    const remembered = page.getByRole('list', { name: 'Remembered' }).locator('li');
    const newConversation = () => page.getByRole('button', { name: 'New conversation' }).click();
    await newConversation();
    await send(page, 'what do I like?', /You have not told me what you like yet/);
    await send(page, 'remember that I like tea', /I will remember that you like tea, in every conversation/);
    await expect.poll(() => remembered.allInnerTexts()).toEqual(['I like tea']);

    await newConversation();
    await expect.poll(() => messages(page)).toEqual([]);
    await send(page, 'what do I like?', /^You told me that you like tea\.$/);

    await page.reload();
    await expect.poll(() => remembered.allInnerTexts(), { timeout: 15_000 }).toEqual(['I like tea']);
    await newConversation();
    await send(page, 'what do I like?', /^You told me that you like tea\.$/);
    // Notes stay in their conversation; facts are in the store, which the in-page panel's Store view shows.
    await page.locator('[data-juncture-devtools] .toggle').click();
    await page.locator('.juncture-panel').getByRole('button', { name: 'Store', exact: true }).click();
    await expect.poll(() => page.locator('.juncture-panel').getByRole('list', { name: 'Items' }).getByRole('button').allInnerTexts()).toEqual([
      expect.stringMatching(/^i like tea\s+user \/ memories/),
    ]);
  });
});
