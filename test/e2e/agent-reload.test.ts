import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  callHarness,
  freshProfile,
  keepsStorageAcrossRelaunch,
  launchBrowser,
  openHarness,
  serveBuiltPages,
  type EngineBrowser,
  type EnginePage,
  type ServedPages,
} from '../support/browser.js';

type Snapshot = { values: Record<string, unknown>; next: string[]; interrupts: unknown[]; source: string; step: number };
type Branch = { id: string; parent: string | null; source: string };

const pagesRoot = new URL('./pages/', import.meta.url).pathname;
// The same tests in each engine: the Vitest project names the one it drives.
const engine = inject('browserEngine');
const launch = launchBrowser[engine];

describe.each(['browser', 'worker'])(`a LangGraph.js agent on the %s saver in a real ${engine} page`, (saver) => {
  const address = () => pages.url(`agent.html?saver=${saver}`);
  let pages: ServedPages;
  const profile = freshProfile();
  let context: EngineBrowser;
  let page: EnginePage;
  const call = <T>(method: string, ...args: unknown[]) => callHarness<T>(page, method, ...args);

  beforeAll(async () => {
    pages = await serveBuiltPages(pagesRoot, { agent: `${pagesRoot}agent.html` });
    context = await launch(profile.dir);
    page = await openHarness(context, address());
  });

  afterAll(async () => {
    await context?.close();
    await pages?.close();
    profile.remove();
  });

  let waiting: { state: Snapshot; history: Snapshot[] };
  let resumed: { state: Snapshot; history: Snapshot[] };
  let parked: { state: Snapshot; history: Snapshot[] };

  it('runs to the interrupt: subgraph, Send fan-out and interrupt() all checkpointed', async () => {
    const state = await call<Snapshot>('start', 'reload', 'storage');
    expect(state.next).toEqual(['review']);
    expect(state.interrupts).toEqual([{ question: 'Publish "4 notes: plan storage, research costs, research risks, research sources"?' }]);
    waiting = { state, history: await call<Snapshot[]>('history', 'reload') };
    expect(waiting.history.length).toBeGreaterThan(3);
    await call('start', 'relaunch', 'tests');
    parked = { state: await call<Snapshot>('state', 'relaunch'), history: await call<Snapshot[]>('history', 'relaunch') };
  });

  it('after a reload, getState and getStateHistory return what they did, and a Command resumes the run', async () => {
    await page.reload();
    page = await openHarness(context, address());
    expect(await call<Snapshot>('state', 'reload')).toEqual(waiting.state);
    expect(await call<Snapshot[]>('history', 'reload')).toEqual(waiting.history);
    const state = await call<Snapshot>('resume', 'reload', 'yes');
    expect(state.next).toEqual([]);
    expect(state.values['approved']).toBe('yes');
    resumed = { state, history: await call<Snapshot[]>('history', 'reload') };
    expect(resumed.history.length).toBe(waiting.history.length + 1);
  });

  it.skipIf(!keepsStorageAcrossRelaunch[engine])('after the browser is closed and launched again on the profile, the same holds', async () => {
    await context.close();
    context = await launch(profile.dir);
    page = await openHarness(context, address());
    expect(await call<Snapshot>('state', 'reload')).toEqual(resumed.state);
    expect(await call<Snapshot[]>('history', 'reload')).toEqual(resumed.history);
    expect(await call<Snapshot>('state', 'relaunch')).toEqual(parked.state);
    expect(await call<Snapshot[]>('history', 'relaunch')).toEqual(parked.history);
    const state = await call<Snapshot>('resume', 'relaunch', 'later');
    expect(state.values['approved']).toBe('later');
  });

  it('updateState on an earlier checkpoint forks the history, and both branches are listed', async () => {
    const forkId = await call<string>('fork', 'reload', 'edited');
    const branches = await call<Branch[]>('branches', 'reload');
    const fork = branches.find((branch) => branch.id === forkId)!;
    expect(fork.source).toBe('update');
    const siblings = branches.filter((branch) => branch.parent === fork.parent);
    expect(siblings.map((branch) => branch.source).sort()).toEqual(['loop', 'update']);
    expect((await call<Snapshot>('state', 'reload')).values['summary']).toBe('edited');
  });
});
