import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { callHarness, freshProfile, launchChromium, openHarness, serveBuiltPages, type ServedPages } from '../support/browser.js';

type Turn = { ok: true } | { ok: false; code: string; message: string };
type Row = { id: string; step: number; notes: string[]; page: number };

const pagesRoot = new URL('./pages/', import.meta.url).pathname;
/** The size of the page one turn fetches; a turn stores it twice (the task's write and the checkpoint's value). */
const TURN_BYTES = 256 * 1024;

// Skipped until it is reliable: Chromium 156 enforced the overridden quota in some runs (the test passed for both
// savers) and, with the same code on a loaded machine, let sixty turns through in others.
describe.skip.each(['browser', 'worker'])('an agent on the %s saver runs into a real storage quota in Chromium', (saver) => {
  let pages: ServedPages;
  const profile = freshProfile();
  let context: BrowserContext;
  let page: Page;
  const address = () => pages.url(`quota.html?saver=${saver}`);
  const call = <T>(method: string, ...args: unknown[]) => callHarness<T>(page, method, ...args);

  beforeAll(async () => {
    pages = await serveBuiltPages(pagesRoot, { quota: `${pagesRoot}quota.html` });
    context = await launchChromium(profile.dir);
    page = await openHarness(context, address());
  });

  afterAll(async () => {
    await context?.close();
    await pages?.close();
    profile.remove();
  });

  it('the call that crosses it rejects with QUOTA, nothing is half-written, listeners hear it, and prune makes room', async () => {
    for (let turn = 0; turn < 2; turn += 1) expect(await call<Turn>('turn', 'research', `small ${turn}`, 16 * 1024)).toEqual({ ok: true });
    const before = await call<Row[]>('checkpoints', 'research');
    expect(before.length).toBeGreaterThan(2);

    // The DevTools protocol bounds the origin's quota to what it uses now and about three turns more. Chromium
    // applies it to connections opened afterwards, so the page reloads.
    const origin = new URL(pages.url('')).origin;
    const cdp = await context.newCDPSession(page);
    const { usage } = await call<{ usage: number }>('usage');
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + 6.5 * TURN_BYTES });
    await page.reload();
    page = await openHarness(context, address());

    let refused: Turn | undefined;
    let turns = 0;
    while (!refused && turns < 60) {
      const result = await call<Turn>('turn', 'research', `large ${turns}`, TURN_BYTES);
      turns += 1;
      if (!result.ok) refused = result;
    }
    expect(refused).toMatchObject({ ok: false, code: 'QUOTA', message: expect.stringMatching(/quota is exhausted/) });
    expect(turns).toBeGreaterThan(1);

    // No value is stored without its checkpoint; every checkpoint reads back, and those listed before as they were.
    const raw = await call<{ checkpoints: number; blobs: number; missing: string[] }>('orphans');
    expect(raw.blobs).toBeGreaterThan(0);
    expect(raw.missing).toEqual([]);
    const after = await call<Row[]>('checkpoints', 'research');
    expect(raw.checkpoints).toBe(after.length);
    for (const row of before) expect(after).toContainEqual(row);
    expect(await call<string[]>('heard')).toContain('quota');

    // Pruning the thread to its newest checkpoint frees the old pages, and the agent goes on where it was.
    const last = after[0]!;
    expect(await call<number>('prune', 'research', 1)).toBeGreaterThan(0);
    expect(await call<Turn>('turn', 'research', 'after pruning', TURN_BYTES)).toEqual({ ok: true });
    const [latest] = await call<Row[]>('checkpoints', 'research');
    expect(latest!.notes).toEqual([...last.notes, `after pruning: ${TURN_BYTES} characters`]);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
  });
});
