import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Frame, Page } from 'puppeteer-core';
import { callHarness, extensionIdOf, freshProfile, serveBuiltPages, type ServedPages } from '../support/browser.js';
import { launchChromiumWithDevtools, showExtensionPanel, type ChromiumWithDevtools } from '../support/chromium-devtools.js';

const pagesRoot = new URL('./pages/', import.meta.url).pathname;
const extensionDir = resolve(new URL('../../dist/extension', import.meta.url).pathname);
const screenshots = resolve(new URL('../../test-results/screenshots', import.meta.url).pathname);

const databaseNames = (panel: Frame) => panel.$$eval('[aria-label="Databases"] button', (buttons) => buttons.map((button) => (button as HTMLElement).innerText));
const threadTexts = (panel: Frame) => panel.$$eval('[aria-label="Threads"] button', (buttons) => buttons.map((button) => (button as HTMLElement).innerText));
const shownCheckpoints = (panel: Frame) => panel.$$eval('.juncture-row', (rows) => rows.map((row) => row.getAttribute('data-checkpoint-id')));

// The panel as users open it: in Chromium's DevTools window, docked under the inspected tab. The same panel's
// behaviour in detail is tested faster as an extension page (devtools-extension.test.ts).
describe('the Checkpoints panel inside Chromium\'s DevTools', () => {
  let pages: ServedPages;
  const profile = freshProfile();
  let chromium: ChromiumWithDevtools;
  let page: Page;
  let devtools: Page;
  let panel: Frame;

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    pages = await serveBuiltPages(pagesRoot, { inspected: `${pagesRoot}inspected.html` });
    chromium = await launchChromiumWithDevtools(profile.dir, { extensionDir, url: pages.url('inspected.html') });
    page = await chromium.tab(pages.url('inspected.html'));
    await page.waitForFunction(() => (window as unknown as { harness?: unknown }).harness !== undefined);
  });

  afterAll(async () => {
    await chromium?.close();
    await pages?.close();
    profile.remove();
  });

  it('is a panel of the inspected tab\'s DevTools, listing the page\'s threads', async () => {
    const firstIds = await callHarness<string[]>(page, 'start', 'first-thread');
    ({ devtools, panel } = await showExtensionPanel(chromium, { extensionId: extensionIdOf(extensionDir), title: 'Checkpoints', panelPath: 'panel/panel.html' }));
    // Inside DevTools the panel takes the tab from `chrome.devtools`, not from its address.
    expect(new URL(panel.url()).searchParams.has('tabId')).toBe(false);
    await expect.poll(() => databaseNames(panel), { timeout: 10_000 }).toEqual(['e2e-devtools live']);
    await expect.poll(() => threadTexts(panel)).toEqual([expect.stringMatching(new RegExp(`^first-thread.*${firstIds.length} checkpoints`, 's'))]);
  });

  it('shows new checkpoints while the page\'s agent runs, with no reload', async () => {
    await panel.locator('[aria-label="Threads"] button').click();
    await expect.poll(() => shownCheckpoints(panel)).toEqual(await callHarness<string[]>(page, 'rootCheckpointIds', 'first-thread'));
    const before = (await shownCheckpoints(panel)).length;
    await callHarness(page, 'resume', 'first-thread');
    const after = await callHarness<string[]>(page, 'rootCheckpointIds', 'first-thread');
    expect(after.length).toBeGreaterThan(before);
    await expect.poll(() => shownCheckpoints(panel), { timeout: 10_000 }).toEqual(after);
    await callHarness(page, 'start', 'second-thread');
    await expect.poll(() => threadTexts(panel), { timeout: 10_000 }).toContainEqual(expect.stringMatching(/^second-thread/));
  });

  it('selects a checkpoint and forks the page\'s thread from it, through the page\'s graph', async () => {
    const target = (await callHarness<string[]>(page, 'rootCheckpointIds', 'first-thread'))[1]!;
    await panel.locator(`[data-checkpoint-id="${target}"]`).click();
    await expect.poll(() => panel.$eval('.juncture-row[aria-selected="true"]', (row) => row.getAttribute('data-checkpoint-id'))).toBe(target);
    await panel.locator('button::-p-text(Fork from here)').click();
    await panel.locator('textarea[aria-label="Values of the fork"]').fill('{"summary":"rewritten inside DevTools"}');
    await panel.locator('button::-p-text(Create fork)').click();
    // The panel selects the new checkpoint, an update; the page's graph now continues from it.
    await expect
      .poll(() => panel.$eval('.juncture-row[aria-selected="true"]', (row) => (row as HTMLElement).innerText), { timeout: 10_000 })
      .toContain('update');
    expect(await callHarness<Record<string, unknown>>(page, 'latestValues', 'first-thread')).toMatchObject({ summary: 'rewritten inside DevTools' });
    await screenshotDevtools('panel-in-devtools.png');
  });

  it('draws the page\'s graph in its Graph tab, marking where the selected checkpoint stands', async () => {
    await panel.locator('[aria-label="Threads"] button::-p-text(second-thread)').click();
    const head = (await callHarness<string[]>(page, 'rootCheckpointIds', 'second-thread'))[0]!;
    await panel.locator(`[data-checkpoint-id="${head}"]`).click();
    await panel.locator('[role="tab"]::-p-text(Graph)').click();
    await expect.poll(() => panel.$$eval('[data-node]', (nodes) => nodes.map((node) => node.getAttribute('data-node')).sort()), { timeout: 10_000 }).toEqual([
      '__end__',
      '__start__',
      'plan',
      'research',
      'review',
      'summarize:count',
      'summarize:polish',
    ]);
    // Drawn from the page's graph, not inferred; the run waits on review's interrupt after the subgraph ran.
    expect(await panel.$$('.juncture-graph-note')).toHaveLength(0);
    expect(await panel.$eval('[data-node="review"]', (node) => node.getAttribute('data-state'))).toBe('interrupt');
    expect(await panel.$eval('[data-subgraph="summarize"]', (box) => box.getAttribute('data-state'))).toBe('ran');
    await screenshotDevtools('graph-in-devtools.png');
  });

  /** The DevTools window from just above its tab strip: the panel frame and the DevTools toolbar over it. */
  async function screenshotDevtools(name: string): Promise<void> {
    const frame = (await (await panel.frameElement())!.boundingBox())!;
    const viewport = await devtools.evaluate(() => ({ width: innerWidth, height: innerHeight }));
    const top = Math.max(0, frame.y - 64);
    // Within the window as it is: capturing beyond it would resize DevTools' page for the capture and redraw it.
    const clip = { x: 0, y: top, width: viewport.width, height: viewport.height - top };
    await devtools.screenshot({ path: resolve(screenshots, name), clip, captureBeyondViewport: false });
  }
});
