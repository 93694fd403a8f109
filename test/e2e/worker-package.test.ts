import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { callHarness, freshProfile, launchChromium, openHarness, serveBuiltPages, type ServedPages } from '../support/browser.js';

const pagesRoot = new URL('./pages/', import.meta.url).pathname;
const checkout = resolve(new URL('../../', import.meta.url).pathname);

describe('the built package in an app that only does `new WorkerSaver()`', () => {
  let pages: ServedPages;
  const profile = freshProfile();
  let context: BrowserContext;

  beforeAll(async () => {
    // The package name resolves to this checkout, through its package.json exports, as an installed copy would.
    pages = await serveBuiltPages(pagesRoot, { package: `${pagesRoot}package.html` }, { 'juncture-browser': checkout });
    context = await launchChromium(profile.dir);
  });

  afterAll(async () => {
    await context?.close();
    await pages?.close();
    profile.remove();
  });

  it('stores through its own worker, and close() ends that worker', async () => {
    const page = await openHarness(context, pages.url('package.html'));
    await callHarness(page, 'put', 'packaged', 'hello');
    expect(await callHarness(page, 'read', 'packaged')).toBe('hello');
    expect(page.workers()).toHaveLength(1);
    const ended = new Promise<void>((done) => page.workers()[0]!.once('close', () => done()));
    await callHarness(page, 'close');
    await ended;
    expect(page.workers()).toHaveLength(0);
  });

  it('two tabs see each other\'s commits through subscribe', async () => {
    const first = await openHarness(context, pages.url('package.html'));
    const second = await openHarness(context, pages.url('package.html'), { newTab: true });
    const fromFirst = await callHarness<string>(first, 'put', 'tab-1', 'one');
    const fromSecond = await callHarness<string>(second, 'put', 'tab-2', 'two');
    const expected = (thread_id: string, checkpoint_id: string) => ({ kind: 'checkpoint', thread_id, checkpoint_ns: '', checkpoint_id });
    await expect.poll(() => callHarness(second, 'heard')).toContainEqual(expected('tab-1', fromFirst));
    await expect.poll(() => callHarness(first, 'heard')).toContainEqual(expected('tab-2', fromSecond));
    expect(await callHarness(first, 'read', 'tab-2')).toBe('two');
  });
});
