import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { callHarness, launchChromium, launchFirefox, openHarness, serveBuiltPages, type EngineBrowser, type EnginePage, type ServedPages } from '../support/browser.js';
import { mountSmallVolume, smallVolumeUnavailable, type SmallVolume } from '../support/small-volume.js';

type Turn = { ok: true } | { ok: false; code: string; message: string };
type Row = { id: string; step: number; notes: string[]; page: number };

const pagesRoot = new URL('./pages/', import.meta.url).pathname;
/** The size of the page one turn fetches; a turn stores it twice (the task's write and the checkpoint's value). */
const TURN_BYTES = 256 * 1024;
const engine = inject('browserEngine');

/** How each engine is given a small quota: the volume its profile is on, and what quota an origin gets there. */
const smallQuota = {
  // Chromium gives an origin 60% of the profile's volume (measured: 10066329 bytes of 16 MiB), which a few dozen
  // turns fill. By default Chromium 156 tells pages a fixed quota (their usage plus 1 GiB on a volume this small)
  // and enforces the real one; with this feature off, `navigator.storage.estimate()` reports the one it enforces.
  chromium: {
    mebibytes: 16,
    quota: (volume: number) => [0.5 * volume, 0.7 * volume],
    launch: (dir: string): Promise<EngineBrowser> => launchChromium(dir, { args: ['--disable-features=StaticStorageQuota'] }),
  },
  // Firefox's profile itself takes about 17 MB; an origin gets a fifth of half the volume, but at least 10 MiB
  // (measured: 10485760 bytes on 32 and 64 MiB). On 32 MiB the volume's free space ran out before the quota.
  firefox: {
    mebibytes: 64,
    quota: () => [10 * 1024 * 1024, 10 * 1024 * 1024],
    launch: (dir: string): Promise<EngineBrowser> => launchFirefox(dir),
  },
}[engine as 'chromium' | 'firefox'];

describe.each(['browser', 'worker'])(`an agent on the %s saver runs into a real storage quota in ${engine}`, (saver) => {
  let pages: ServedPages;
  let volume: SmallVolume | undefined;
  let unavailable = smallVolumeUnavailable();
  let context: EngineBrowser;
  let page: EnginePage;
  const call = <T>(method: string, ...args: unknown[]) => callHarness<T>(page, method, ...args);

  beforeAll(async () => {
    if (unavailable) return;
    try {
      volume = mountSmallVolume(smallQuota.mebibytes);
    } catch (error) {
      unavailable = (error as Error).message;
      return;
    }
    pages = await serveBuiltPages(pagesRoot, { quota: `${pagesRoot}quota.html` });
    context = await smallQuota.launch(volume.dir);
    page = await openHarness(context, pages.url(`quota.html?saver=${saver}`));
  });

  afterAll(async () => {
    await context?.close();
    await pages?.close();
    volume?.remove();
  });

  const freeing = engine === 'firefox' ? 'prune or else deleting the database' : 'prune';
  it(`the call that crosses it rejects with QUOTA, nothing is half-written, listeners hear it, and ${freeing} makes room`, async (test) => {
    if (unavailable) return test.skip(`a real quota needs a small volume of its own: ${unavailable}`);
    const { quota } = await call<{ quota: number }>('usage');
    const [least, most] = smallQuota.quota(volume!.bytes);
    expect(quota).toBeGreaterThanOrEqual(least!);
    expect(quota).toBeLessThanOrEqual(most!);

    for (let turn = 0; turn < 2; turn += 1) expect(await call<Turn>('turn', 'research', `small ${turn}`, 16 * 1024)).toEqual({ ok: true });
    const before = await call<Row[]>('checkpoints', 'research');
    expect(before.length).toBeGreaterThan(2);

    let refused: Turn | undefined;
    let turns = 0;
    let usageBefore = 0;
    while (!refused && turns < 100) {
      usageBefore = (await call<{ usage: number }>('usage')).usage;
      const result = await call<Turn>('turn', 'research', `large ${turns}`, TURN_BYTES);
      turns += 1;
      if (!result.ok) refused = result;
    }
    expect(refused).toMatchObject({ ok: false, code: 'QUOTA', message: expect.stringMatching(/quota is exhausted/) });
    expect(turns).toBeGreaterThan(1);
    // The refused turn was the one that would have crossed the quota, not an earlier failure of the volume: before
    // it the origin used less than the quota, within about two turns of it. Chromium weighs a transaction before it
    // commits it, so what the turn's accepted writes then took on disk may pass the quota a little (measured:
    // 10.24 MB of 10.07), never by a turn. Firefox is left 568 bytes below its limit (measured: 10485192 of 10485760).
    expect(usageBefore).toBeLessThan(quota);
    expect(usageBefore).toBeGreaterThan(quota - 4 * TURN_BYTES);
    expect((await call<{ usage: number }>('usage')).usage).toBeLessThan(quota + 2 * TURN_BYTES);

    // No value is stored without its checkpoint; every checkpoint reads back, and those listed before as they were.
    const raw = await call<{ checkpoints: number; blobs: number; missing: string[] }>('orphans');
    expect(raw.blobs).toBeGreaterThan(0);
    expect(raw.missing).toEqual([]);
    const after = await call<Row[]>('checkpoints', 'research');
    expect(raw.checkpoints).toBe(after.length);
    for (const row of before) expect(after).toContainEqual(row);
    expect(await call<string[]>('heard')).toContain('quota');

    const last = after[0]!;
    const pruned = await call<{ ok: boolean; code?: string; result?: number }>('prune', 'research', 1);
    if (engine === 'firefox') {
      // At its limit Firefox mostly refuses deletions too (measured: also after a relaunch; usage did not fall with
      // the page closed for sixteen seconds). The prune may then reject with QUOTA, after deleting what no kept
      // checkpoint builds on or nothing; what is left reads back as before, the newest checkpoint included. Or it
      // succeeds, and the next turn may still be refused. Deleting the database frees the space, and the agent
      // starts again from nothing.
      const left = await call<Row[]>('checkpoints', 'research');
      expect(left[0]).toEqual(last);
      for (const row of left) expect(after).toContainEqual(row);
      const next = pruned.ok ? await call<Turn>('turn', 'research', 'after pruning', TURN_BYTES) : pruned;
      if (next.ok) {
        // The prune made room: the agent goes on where it was.
        const [latest] = await call<Row[]>('checkpoints', 'research');
        expect(latest!.notes).toEqual([...last.notes, `after pruning: ${TURN_BYTES} characters`]);
        return;
      }
      expect(next).toMatchObject({ code: 'QUOTA' });
      await call('deleteDatabase');
      expect((await call<{ usage: number }>('usage')).usage).toBeLessThan(quota / 2);
      expect(await call<Turn>('turn', 'research', 'after deleting', TURN_BYTES)).toEqual({ ok: true });
      const [latest] = await call<Row[]>('checkpoints', 'research');
      expect(latest!.notes).toEqual([`after deleting: ${TURN_BYTES} characters`]);
      return;
    }
    // Pruning the thread to its newest checkpoint frees the old pages, and the agent goes on where it was.
    expect(pruned).toMatchObject({ ok: true });
    expect(pruned.result).toBeGreaterThan(0);
    expect((await call<{ usage: number }>('usage')).usage).toBeLessThan(quota / 2);
    expect(await call<Turn>('turn', 'research', 'after pruning', TURN_BYTES)).toEqual({ ok: true });
    const [latest] = await call<Row[]>('checkpoints', 'research');
    expect(latest!.notes).toEqual([...last.notes, `after pruning: ${TURN_BYTES} characters`]);
  });
});
