import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { callHarness, extensionIdOf, freshProfile, launchChromium, openHarness, openPanelForOnlyTab, serveBuiltPages, type ServedPages } from '../support/browser.js';

const pagesRoot = new URL('./pages/', import.meta.url).pathname;
const extensionDir = resolve(new URL('../../dist/extension', import.meta.url).pathname);

type SubgraphCheckpoint = { checkpoint_ns: string; checkpoint_id: string; source: string; draft: string | null };

// Time travel inside a subgraph through the extension: the page's graph pauses in its `edit` subgraph, and the
// panel forks one of the subgraph's checkpoints and resumes from the fork, the page's graph doing the work.
describe('the devtools extension forks and resumes from a subgraph\'s checkpoint', () => {
  let pages: ServedPages;
  const profile = freshProfile();
  let context: BrowserContext;
  let page: Page;
  let panel: Page;
  const call = <T>(method: string, ...args: unknown[]) => callHarness<T>(page, method, ...args);

  beforeAll(async () => {
    pages = await serveBuiltPages(pagesRoot, { drafts: `${pagesRoot}drafts.html` });
    context = await launchChromium(profile.dir, { extensionDir });
    page = await openHarness(context, pages.url('drafts.html'));
  });

  afterAll(async () => {
    await context?.close();
    await pages?.close();
    profile.remove();
  });

  it('lists the subgraph\'s namespace and shows its checkpoints', async () => {
    await call('start', 'draft-thread', 'notes');
    expect(await call<string[]>('ran')).toEqual(['outline', 'write', 'check']);
    expect(await call<unknown[]>('interrupts', 'draft-thread')).toEqual([{ draft: 'draft of notes, outlined' }]);
    const namespace = (await call<SubgraphCheckpoint[]>('subgraphCheckpoints', 'draft-thread'))[0]!.checkpoint_ns;
    expect(namespace).toMatch(/^edit:/);

    panel = await openPanelForOnlyTab(context, extensionIdOf(extensionDir));
    await panel.getByRole('list', { name: 'Threads' }).getByRole('button', { name: /^draft-thread/ }).click();
    const picker = panel.getByRole('combobox', { name: 'Namespace' });
    await expect.poll(() => picker.locator('option').allInnerTexts()).toEqual(['(root)', namespace]);
    await picker.selectOption(namespace);
    const shown = () => panel.locator('.juncture-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-checkpoint-id')));
    const stored = (await call<SubgraphCheckpoint[]>('subgraphCheckpoints', 'draft-thread')).map((row) => row.checkpoint_id);
    await expect.poll(shown).toEqual(stored);
  });

  it('forks the step before the subgraph\'s interrupt with an edited draft, and resumes from the fork', async () => {
    const afterWrite = panel.locator('.juncture-row').filter({ has: panel.locator('.nodes', { hasText: /^write$/ }) });
    await afterWrite.click();
    const forkedFrom = await afterWrite.getAttribute('data-checkpoint-id');
    await panel.getByRole('button', { name: 'Fork from here' }).click();
    await panel.getByLabel('Values of the fork').fill('{"draft":"a better draft"}');
    await panel.getByRole('button', { name: 'Create fork' }).click();

    // The fork is the subgraph's newest checkpoint, an update in its namespace with the edited draft, and the
    // panel selects it.
    const selected = panel.locator('.juncture-row[aria-selected="true"]');
    await expect.poll(() => selected.innerText(), { timeout: 10_000 }).toContain('update');
    const [fork, ...older] = await call<SubgraphCheckpoint[]>('subgraphCheckpoints', 'draft-thread');
    expect(fork).toMatchObject({ checkpoint_ns: expect.stringMatching(/^edit:/), source: 'update', draft: 'a better draft' });
    expect(older.map((row) => row.checkpoint_id)).toContain(forkedFrom);
    expect(await selected.getAttribute('data-checkpoint-id')).toBe(fork!.checkpoint_id);

    // It stands before `check`, which has not run on it yet: a fork, not a pause.
    const forkRow = panel.locator(`[data-checkpoint-id="${fork!.checkpoint_id}"]`);
    expect(await forkRow.locator('.fork-next').allInnerTexts()).toEqual(['fork, next check']);
    expect(await forkRow.locator('.pause').count()).toBe(0);

    // Resuming runs the parent under the subgraph and the subgraph from the fork: only `check` runs, on the
    // edited draft, and pauses on its interrupt again, which the panel shows on the fork with no reload.
    await call('forget');
    await panel.getByRole('button', { name: 'Resume from here' }).click();
    await expect.poll(() => call<string[]>('ran'), { timeout: 15_000 }).toEqual(['check']);
    expect(await call<unknown[]>('interrupts', 'draft-thread')).toEqual([{ draft: 'a better draft' }]);
    await expect.poll(() => forkRow.locator('.pause').allInnerTexts(), { timeout: 10_000 }).toEqual(['interrupt in check']);
  });
});
