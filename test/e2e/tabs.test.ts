import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { callHarness, freshProfile, launchChromium, openHarness, serveBuiltPages, type ServedPages } from '../support/browser.js';

const pagesRoot = new URL('./pages/', import.meta.url).pathname;

describe('several tabs on one database', () => {
  let pages: ServedPages;
  const profile = freshProfile();
  let context: BrowserContext;
  let first: Page;
  let second: Page;

  beforeAll(async () => {
    pages = await serveBuiltPages(pagesRoot, { tabs: `${pagesRoot}tabs.html` });
    context = await launchChromium(profile.dir);
    first = await openHarness(context, pages.url('tabs.html?saver=browser'));
    second = await openHarness(context, pages.url('tabs.html?saver=worker'), { newTab: true });
  });

  afterAll(async () => {
    await context?.close();
    await pages?.close();
    profile.remove();
  });

  it('lose no write, on their own threads and, under the thread lock, on a shared one', async () => {
    await Promise.all([
      callHarness(first, 'writeOwn', 'a', 25),
      callHarness(second, 'writeOwn', 'b', 25),
      callHarness(first, 'writeShared', 'shared', 15),
      callHarness(second, 'writeShared', 'shared', 15),
    ]);
    // Every read-then-write on the shared thread saw the one before it, whichever tab made it.
    expect(await callHarness(first, 'latestCounter', 'shared')).toBe(30);
    expect(await callHarness(second, 'latestCounter', 'a')).toBe(25);
  });

  it('let a newer version open at once, then get a typed error instead of hanging', async () => {
    const third = await openHarness(context, pages.url('tabs.html?saver=browser'), { newTab: true });
    const upgraded = await callHarness<{ blocked: boolean; perThread: Record<string, number> }>(third, 'upgrade');
    expect(upgraded).toEqual({ blocked: false, perThread: { a: 25, b: 25, shared: 30 } });
    expect(await callHarness(first, 'probe')).toBe('MIGRATION');
    expect(await callHarness(second, 'probe')).toBe('MIGRATION');
  });
});
