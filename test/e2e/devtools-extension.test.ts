import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
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

/** The checkpoint ids the panel's timeline shows, in its order. */
const shownCheckpoints = (panel: Page) => panel.locator('.juncture-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-checkpoint-id')));
const databaseButtons = (panel: Page) => panel.getByRole('list', { name: 'Databases' }).getByRole('button');
const threadButton = (panel: Page, thread: string) => panel.getByRole('list', { name: 'Threads' }).getByRole('button', { name: new RegExp(`^${thread}`) });

describe('the devtools extension', () => {
  let pages: ServedPages;
  const profile = freshProfile();
  let context: BrowserContext;
  const extensionId = extensionIdOf(extensionDir);

  beforeAll(async () => {
    pages = await serveBuiltPages(pagesRoot, { inspected: `${pagesRoot}inspected.html`, blank: `${pagesRoot}blank.html` });
    context = await launchChromium(profile.dir, { extensionDir });
  });

  afterAll(async () => {
    await context?.close();
    await pages?.close();
    profile.remove();
  });

  it('shows the inspected page\'s threads and checkpoints, and new checkpoints without a reload', async () => {
    const page = await openHarness(context, pages.url('inspected.html'));
    const firstIds = await callHarness<string[]>(page, 'start', 'first-thread');
    const panel = await openPanelForOnlyTab(context, extensionId);

    await expect.poll(() => databaseButtons(panel).allInnerTexts()).toEqual(['e2e-devtools live']);
    await expect.poll(() => threadButton(panel, 'first-thread').innerText()).toContain(`${firstIds.length} checkpoints`);
    await expect.poll(() => shownCheckpoints(panel)).toEqual(await callHarness<string[]>(page, 'rootCheckpointIds', 'first-thread'));

    const afterResume = await callHarness<string[]>(page, 'resume', 'first-thread');
    expect(afterResume.length).toBeGreaterThan(firstIds.length);
    await expect.poll(() => shownCheckpoints(panel), { timeout: 10_000 }).toEqual(await callHarness<string[]>(page, 'rootCheckpointIds', 'first-thread'));

    await callHarness(page, 'start', 'second-thread');
    await expect.poll(() => threadButton(panel, 'second-thread').count(), { timeout: 10_000 }).toBe(1);
    await panel.close();
  });

  it('forks the page\'s thread from a checkpoint with edited values, through the page\'s graph', async () => {
    const page = context.pages()[0]!;
    const panel = await openPanelForOnlyTab(context, extensionId);
    await threadButton(panel, 'first-thread').click();
    const target = await callHarness<string[]>(page, 'rootCheckpointIds', 'first-thread');
    await panel.locator(`[data-checkpoint-id="${target[1]}"]`).click();
    await panel.getByRole('button', { name: 'Fork from here' }).click();
    await panel.getByLabel('Values of the fork').fill('{"summary":"rewritten in devtools"}');
    await panel.getByRole('button', { name: 'Create fork' }).click();
    // The panel selects the new checkpoint; the page's graph now continues from it.
    const selected = panel.locator('.juncture-row[aria-selected="true"]');
    await expect.poll(() => selected.innerText(), { timeout: 10_000 }).toContain('update');
    expect(await callHarness<Record<string, unknown>>(page, 'latestValues', 'first-thread')).toMatchObject({ summary: 'rewritten in devtools' });
    await panel.close();
  });

  it('shows nothing that is not in IndexedDB when the page forges messages', async () => {
    const page = context.pages()[0]!;
    const panel = await openPanelForOnlyTab(context, extensionId);
    await expect.poll(() => databaseButtons(panel).count()).toBe(1);
    await callHarness(page, 'forge', 'FAKE-7');
    // Give forged pings time to reach the panel, then make sure a real change is shown after them.
    await callHarness(page, 'start', 'after-forgery');
    await expect.poll(() => threadButton(panel, 'after-forgery').count(), { timeout: 10_000 }).toBe(1);
    const text = await panel.locator('body').innerText();
    expect(text).not.toContain('FAKE-7');
    expect(await databaseButtons(panel).allInnerTexts()).toEqual(['e2e-devtools live']);
    // The forged names were never created in the page's origin.
    expect((await callHarness<string[]>(page, 'databases')).sort()).toEqual(['e2e-devtools']);
    await panel.close();
  });

  it('shows the page\'s store in the Store view: namespaces as a tree, items, search, and new items without a reload', async () => {
    const page = context.pages()[0]!;
    await callHarness(page, 'remember', 'ada', 'drink', 'I like <b>green</b> tea<script>window.pwned = 1</script>');
    await callHarness(page, 'remember', 'bob', 'drink', 'I like coffee');
    const panel = await openPanelForOnlyTab(context, extensionId);
    await panel.getByRole('button', { name: 'Store', exact: true }).click();
    const items = panel.getByRole('list', { name: 'Items' }).getByRole('button');
    const tree = panel.getByRole('tree', { name: 'Namespaces' });
    await expect.poll(() => panel.getByRole('list', { name: 'Stores' }).getByRole('button').allInnerTexts()).toEqual(['e2e-devtools-store']);
    await expect.poll(() => tree.getByRole('treeitem').getByRole('button').allInnerTexts()).toEqual(['memories', 'ada', 'bob']);
    await expect.poll(() => items.count()).toBe(2);

    // Values are shown as text: the markup a page stored is not made into elements.
    await tree.getByRole('button', { name: 'ada', exact: true }).click();
    await expect.poll(() => items.count()).toBe(1);
    const detail = panel.getByRole('region', { name: 'Item' });
    await expect.poll(() => detail.innerText()).toContain('I like <b>green</b> tea<script>window.pwned = 1</script>');
    expect(await detail.locator('b, script').count()).toBe(0);

    // A memory the page stores now reaches the open panel by the page's ping.
    await tree.getByRole('button', { name: '(all)' }).click();
    await callHarness(page, 'remember', 'cy', 'food', 'I like rice');
    await expect.poll(() => tree.getByRole('treeitem').getByRole('button').allInnerTexts(), { timeout: 10_000 }).toEqual(['memories', 'ada', 'bob', 'cy']);
    await panel.getByLabel('Search items').fill('rice');
    await expect.poll(() => items.allInnerTexts()).toEqual([expect.stringMatching(/^food\s+memories \/ cy/)]);
    // The checkpoint databases are listed apart from it.
    await panel.getByRole('button', { name: 'Checkpoints', exact: true }).click();
    await expect.poll(() => databaseButtons(panel).allInnerTexts()).toEqual(['e2e-devtools live']);
    await panel.close();
  });

  it('never creates a database in a page that has none, and never blocks its upgrades', async () => {
    await context.pages()[0]!.close();
    // Another origin (localhost, not 127.0.0.1): this page's IndexedDB is empty.
    const page = await openHarness(context, pages.url('blank.html').replace('127.0.0.1', 'localhost'), { newTab: true });
    expect(await callHarness(page, 'open', 'own-db', 1)).toBe('opened');
    await callHarness(page, 'announceGhost');
    const panel = await openPanelForOnlyTab(context, extensionId);
    await expect.poll(() => panel.getByText('No checkpoint databases on this page').count()).toBe(1);
    expect(await callHarness(page, 'databases')).toEqual(['own-db']);
    // The panel read this origin's databases; the page's own upgrade goes through at once.
    expect(await callHarness(page, 'open', 'own-db', 2)).toBe('opened');
    await panel.close();
  });
});
