import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callHarness, freshProfile, launchChromium, launchKillableChromium, openHarness, serveBuiltPages, type ServedPages } from '../support/browser.js';

const pagesRoot = new URL('./pages/', import.meta.url).pathname;

/** How many crashes each saver goes through: 1 in `npm test`; `npm run crash` asks for 10. */
const CRASH_RUNS = Number(process.env['JUNCTURE_CRASH_RUNS'] ?? 1);

/** Writes with an agent, kills Chromium (SIGKILL) mid-write, relaunches on the profile, and checks the database. */
async function crashAndCheck(pages: ServedPages, saver: 'browser' | 'worker') {
  const profile = freshProfile();
  try {
    const killable = await launchKillableChromium(profile.dir);
    const page = await killable.context.newPage();
    const committed: string[] = [];
    await page.exposeFunction('reportCommitted', (checkpointId: string) => committed.push(checkpointId));
    await page.goto(pages.url(`crash.html?saver=${saver}`));
    await page.waitForFunction(() => (window as unknown as { harness?: unknown }).harness !== undefined);
    await callHarness(page, 'write');
    // Past the first anchor of the conversation's lists (256 versions), so reads follow anchors and edits.
    while (committed.length < 300) await new Promise((done) => setTimeout(done, 20));
    await killable.kill();

    const context = await launchChromium(profile.dir);
    const errors: string[] = [];
    context.on('weberror', (error) => errors.push(error.error().message));
    const relaunched = await openHarness(context, pages.url(`crash.html?saver=${saver}`));
    const result = await callHarness<{ missing: string[]; withoutValues: string[]; stored: number }>(relaunched, 'verify', committed);
    await context.close();
    return { ...result, committed: committed.length, errors };
  } finally {
    profile.remove();
  }
}

describe('a browser crash while an agent writes', () => {
  let pages: ServedPages;
  beforeAll(async () => {
    pages = await serveBuiltPages(pagesRoot, { crash: `${pagesRoot}crash.html` });
  });
  afterAll(async () => {
    await pages?.close();
  });

  it.each(['browser', 'worker'] as const)('loses no checkpoint whose put resolved, and leaves none half-written (%s saver)', async (saver) => {
    let intact = 0;
    for (let run = 1; run <= CRASH_RUNS; run += 1) {
      const result = await crashAndCheck(pages, saver);
      expect(result.missing).toEqual([]);
      expect(result.withoutValues).toEqual([]);
      expect(result.errors).toEqual([]);
      expect(result.stored).toBeGreaterThanOrEqual(result.committed);
      intact += 1;
      console.log(`${saver} saver, crash ${run}: ${result.committed} puts had resolved, ${result.stored} checkpoints stored, all whole`);
    }
    console.log(`${saver} saver: ${intact} of ${CRASH_RUNS} crashes lost nothing`);
  }, 120_000 * CRASH_RUNS);
});
