import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { callHarness, extensionIdOf, freshProfile, launchChromium, openHarness, openPanelForOnlyTab, serveBuiltPages, type ServedPages } from '../support/browser.js';

const pagesRoot = new URL('./pages/', import.meta.url).pathname;
const extensionDir = resolve(new URL('../../dist/extension', import.meta.url).pathname);
const screenshots = resolve(new URL('../../test-results/screenshots', import.meta.url).pathname);

const nodeState = (panel: Page, id: string) => panel.locator(`[data-node="${id}"]`).getAttribute('data-state');
const pauses = (panel: Page) => panel.locator('.juncture-row .pause').allInnerTexts();

describe('the graph view in the devtools extension', () => {
  let pages: ServedPages;
  const profile = freshProfile();
  let context: BrowserContext;
  let page: Page;
  let panel: Page;

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    pages = await serveBuiltPages(pagesRoot, { inspected: `${pagesRoot}inspected.html` });
    context = await launchChromium(profile.dir, { extensionDir });
    page = await openHarness(context, pages.url('inspected.html'));
    await callHarness(page, 'start', 'graph-thread');
    panel = await openPanelForOnlyTab(context, extensionIdOf(extensionDir));
    await panel.setViewportSize({ width: 1280, height: 720 });
    await panel.getByRole('list', { name: 'Threads' }).getByRole('button', { name: /^graph-thread/ }).click();
  });

  afterAll(async () => {
    await context?.close();
    await pages?.close();
    profile.remove();
  });

  it('draws the page\'s graph, as LangGraph describes it, through the page hook', async () => {
    const head = (await callHarness<string[]>(page, 'rootCheckpointIds', 'graph-thread'))[0]!;
    await panel.locator(`[data-checkpoint-id="${head}"]`).click();
    await panel.getByRole('tab', { name: 'Graph' }).click();
    const nodes = panel.locator('[data-node]');
    await expect.poll(() => nodes.evaluateAll((all) => all.map((node) => node.getAttribute('data-node')).sort())).toEqual([
      '__end__',
      '__start__',
      'plan',
      'research',
      'review',
      'summarize:count',
      'summarize:polish',
    ]);
    expect(await panel.locator('.juncture-graph-note').count()).toBe(0);
    const dashed = await panel
      .locator('.juncture-graph-edge[stroke-dasharray]')
      .evaluateAll((edges) => edges.map((edge) => `${edge.getAttribute('data-source')}→${edge.getAttribute('data-target')}`).sort());
    expect(dashed).toEqual(['plan→__end__', 'plan→research', 'plan→review', 'plan→summarize:count']);
    expect(await panel.locator('[data-subgraph="summarize"] text').textContent()).toBe('summarize');
    // The run waits on review's interrupt, after the summarize subgraph ran.
    expect(await nodeState(panel, 'review')).toBe('interrupt');
    expect(await panel.locator('[data-subgraph="summarize"]').getAttribute('data-state')).toBe('ran');
    expect(await pauses(panel)).toEqual(['interrupt in review']);
    await panel.waitForTimeout(200);
    await panel.screenshot({ path: resolve(screenshots, 'graph-view.png') });
  });

  it('resumes with a breakpoint set in the graph tab, and the pause shows in the timeline', async () => {
    const afterPlan = panel.locator('.juncture-row').filter({ has: panel.locator('.nodes', { hasText: /^plan$/ }) });
    await afterPlan.click();
    await expect.poll(() => nodeState(panel, 'research')).toBe('next');
    await panel.getByLabel('Pause before review').check();
    expect(await panel.locator('.juncture-graph-node.breakpoint').getAttribute('data-node')).toBe('review');
    await panel.getByRole('button', { name: 'Resume from here' }).click();
    await expect.poll(() => pauses(panel), { timeout: 15_000 }).toEqual(['paused before review', 'interrupt in review']);
    expect(await callHarness(page, 'next', 'graph-thread')).toEqual(['review']);
  });
});
