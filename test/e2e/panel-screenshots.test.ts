import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import {
  callHarness,
  extensionIdOf,
  freshProfile,
  launchChromium,
  openHarness,
  openPanelForOnlyTab,
  serveBuiltPages,
  type ServedPages,
} from '../support/browser.js';

const pagesRoot = new URL('./pages/', import.meta.url).pathname;
const extensionDir = resolve(new URL('../../dist/extension', import.meta.url).pathname);
const screenshots = resolve(new URL('../../test-results/screenshots', import.meta.url).pathname);
const VIEWPORT = { width: 1280, height: 640 };

/** Opens the research thread at its edited branch and the diff tab, then checks what the panel shows. */
async function showEditedBranch(panel: Locator) {
  await panel.getByRole('list', { name: 'Threads' }).getByRole('button', { name: /^research-thread/ }).click();
  await panel.locator('[data-checkpoint-id="ckpt-000009"]').click();
  await panel.getByRole('tab', { name: 'Diff' }).click();
  await expect.poll(() => panel.locator('.juncture-diff').innerText()).toContain('+ /notes/2 = "edited note"');
  expect(await panel.locator('.juncture-row[aria-selected="true"]').getAttribute('data-checkpoint-id')).toBe('ckpt-000009');
  const lanes = await panel.locator('.juncture-row svg').evaluateAll((cells) => [...new Set(cells.map((cell) => cell.getAttribute('data-lane')))].sort());
  expect(lanes).toEqual(['0', '1', '2']);
  const ancestry = await panel.locator('.juncture-row.ancestry').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-checkpoint-id')));
  expect(ancestry).toEqual(['ckpt-000009', 'ckpt-000008', 'ckpt-000003', 'ckpt-000002', 'ckpt-000001']);
}

/** Opens the weather chat where both tools answered (one failed), on `tab`, and checks the messages shown. */
async function showConversation(panel: Locator, id: string, tab: 'State' | 'Diff') {
  await panel.getByRole('list', { name: 'Threads' }).getByRole('button', { name: /^weather-chat/ }).click();
  await panel.locator(`[data-checkpoint-id="${id}"]`).click();
  await panel.getByRole('tab', { name: tab }).click();
  const messages = panel.locator(tab === 'State' ? '[aria-label="messages"]' : '[aria-label="messages changes"]');
  await expect.poll(() => messages.locator('.juncture-tool-call .tool-name, .juncture-message .answers').allInnerTexts()).not.toEqual([]);
  expect(await panel.locator('[data-checkpoint-id="chat-000003"] .preview').innerText()).toBe('ai calls get_weather, get_time');
  // Let the picture and the lanes settle before the screenshot.
  await panel.page().waitForTimeout(200);
}

describe('the panel on the same fixture threads, in the extension and in the page', () => {
  let pages: ServedPages;
  const profile = freshProfile();
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    pages = await serveBuiltPages(pagesRoot, { fixtures: `${pagesRoot}fixtures.html` });
    context = await launchChromium(profile.dir, { extensionDir });
    page = await openHarness(context, pages.url('fixtures.html'));
    await page.setViewportSize(VIEWPORT);
    await callHarness(page, 'ready');
  });

  afterAll(async () => {
    await context?.close();
    await pages?.close();
    profile.remove();
  });

  it('in the extension', async () => {
    const panel = await openPanelForOnlyTab(context, extensionIdOf(extensionDir));
    await panel.setViewportSize(VIEWPORT);
    await showEditedBranch(panel.locator('.juncture-panel'));
    await showConversation(panel.locator('.juncture-panel'), 'chat-000008', 'State');
    await panel.screenshot({ path: resolve(screenshots, 'panel-extension.png') });
    await panel.close();
  });

  it('in the page, with no extension needed', async () => {
    await page.getByRole('button', { name: 'Checkpoints' }).click();
    await showEditedBranch(page.locator('.juncture-panel'));
    await showConversation(page.locator('.juncture-panel'), 'chat-000004', 'Diff');
    await page.screenshot({ path: resolve(screenshots, 'panel-in-page.png') });
  });
});
