import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { FIREFOX_EXTENSION_DIR, GECKO_ID } from '../../scripts/build-extension.mjs';
import { callHarness, freshProfile, launchFirefox, openHarness, openPanelTab, serveBuiltPages, type ServedPages } from '../support/browser.js';

const pagesRoot = new URL('./pages/', import.meta.url).pathname;
const screenshots = resolve(new URL('../../test-results/screenshots', import.meta.url).pathname);

const databaseNames = (panel: Page) => panel.$$eval('[aria-label="Databases"] button', (buttons) => buttons.map((button) => (button as HTMLElement).innerText));
const threadTexts = (panel: Page) => panel.$$eval('[aria-label="Threads"] button', (buttons) => buttons.map((button) => (button as HTMLElement).innerText));
const shownCheckpoints = (panel: Page) => panel.$$eval('.juncture-row', (rows) => rows.map((row) => row.getAttribute('data-checkpoint-id')));

/**
 * Loads an extension page in a tab. Firefox loads it, but reports no load event over BiDi for a moz-extension
 * address (the tab moves to the extension's process), so this waits for the document itself.
 */
async function loadExtensionPage(page: Page, url: string): Promise<void> {
  void page.goto(url).catch(() => undefined);
  await expect
    .poll(() => page.evaluate(() => `${location.href} ${document.readyState}`).catch(() => ''), { timeout: 30_000 })
    .toBe(`${url} complete`);
}

// Firefox's own DevTools window cannot be driven from a test (neither WebDriver BiDi nor Marionette reach it), so
// the Firefox build's panel is opened as an extension tab: the same page, content script and background relay.
describe('the Firefox build of the devtools extension, installed as a temporary add-on', () => {
  let pages: ServedPages;
  const profile = freshProfile();
  // Firefox gives each install a random internal id; this preference fixes it, so the panel's address is known.
  const internalId = randomUUID();
  let browser: Browser;
  let page: Page;
  let panel: Page;

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    pages = await serveBuiltPages(pagesRoot, { inspected: `${pagesRoot}inspected.html` });
    browser = await launchFirefox(profile.dir, {
      prefs: { 'extensions.webextensions.uuids': JSON.stringify({ [GECKO_ID]: internalId }) },
      // WebDriver BiDi navigates only to http(s), file and blob addresses unless this flag allows moz-extension ones.
      args: ['--remote-allow-system-access'],
    });
    // WebDriver BiDi's webExtension.install: a temporary add-on, as about:debugging loads one.
    expect(await browser.installExtension(FIREFOX_EXTENSION_DIR)).toBe(GECKO_ID);
    page = await openHarness(browser, pages.url('inspected.html'));
  });

  afterAll(async () => {
    await browser?.close();
    await pages?.close();
    profile.remove();
  });

  it('reads the page\'s database from its content script and lists its threads in the panel', async () => {
    const firstIds = await callHarness<string[]>(page, 'start', 'first-thread');
    panel = await openPanelTab(browser, `moz-extension://${internalId}`, loadExtensionPage);
    await panel.setViewport({ width: 1280, height: 640 });
    await expect.poll(() => databaseNames(panel), { timeout: 10_000 }).toEqual(['e2e-devtools live']);
    await expect.poll(() => threadTexts(panel)).toEqual([expect.stringMatching(new RegExp(`^first-thread.*${firstIds.length} checkpoints`, 's'))]);
    await panel.locator('[aria-label="Threads"] button').click();
    await expect.poll(() => shownCheckpoints(panel)).toEqual(await callHarness<string[]>(page, 'rootCheckpointIds', 'first-thread'));
  });

  it('shows new checkpoints and threads while the page\'s agent runs, through the background relay', async () => {
    await callHarness(page, 'resume', 'first-thread');
    await expect.poll(() => shownCheckpoints(panel), { timeout: 10_000 }).toEqual(await callHarness<string[]>(page, 'rootCheckpointIds', 'first-thread'));
    await callHarness(page, 'start', 'second-thread');
    await expect.poll(() => threadTexts(panel), { timeout: 10_000 }).toContainEqual(expect.stringMatching(/^second-thread/));
    const target = (await callHarness<string[]>(page, 'rootCheckpointIds', 'first-thread'))[1]!;
    await panel.locator(`[data-checkpoint-id="${target}"]`).click();
    await expect.poll(() => panel.$eval('.juncture-row[aria-selected="true"]', (row) => row.getAttribute('data-checkpoint-id'))).toBe(target);
    // The content script decodes the page's stored bytes, which in Firefox are objects of the page's realm.
    const detail = () => panel.$eval('.juncture-panel', (root) => (root as HTMLElement).innerText);
    await expect.poll(detail).toContain('"first-thread"');
    expect(await detail()).not.toContain('$unreadable');
    await panel.screenshot({ path: resolve(screenshots, 'panel-firefox.png') });
  });
});
