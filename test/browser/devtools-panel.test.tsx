import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { createMemoryDataSource } from '../../src/devtools/memory-source.js';
import type { CheckpointDataSource, CheckpointKey, JsonValue } from '../../src/devtools/data-source.js';
import { DevtoolsPanel } from '../../src/panel/DevtoolsPanel.js';
import { PANEL_CSS } from '../../src/panel/styles.js';
import { HOSTILE, ThreadBuilder, failingThread, forkedThread, hostileThread } from '../support/fixture-threads.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let container: HTMLElement;
let root: Root;
beforeAll(() => {
  const style = document.createElement('style');
  style.textContent = PANEL_CSS;
  document.head.append(style);
});
beforeEach(() => {
  container = document.createElement('div');
  container.style.height = '600px';
  document.body.append(container);
  root = createRoot(container);
});
afterEach(() => {
  act(() => root.unmount());
  container.remove();
});

const $ = <E extends Element = HTMLElement>(selector: string) => container.querySelector<E>(selector);
const $$ = (selector: string) => [...container.querySelectorAll<HTMLElement>(selector)];
const rows = () => $$('.juncture-row').map((row) => row.dataset['checkpointId']);
const selectedRow = () => $('.juncture-row[aria-selected="true"]')?.dataset['checkpointId'];
const click = (element: Element | null | undefined) => act(async () => (element as HTMLElement).click());
const buttonNamed = (name: string | RegExp) => $$('button').find((button) => (typeof name === 'string' ? button.textContent === name : name.test(button.textContent ?? '')));

async function render(source: CheckpointDataSource) {
  await act(async () => root.render(<DevtoolsPanel source={source} theme="light" />));
  await vi.waitFor(() => expect(rows().length).toBeGreaterThan(0));
}

describe('DevtoolsPanel', () => {
  it('draws a thread with two forks in lanes and highlights the selected checkpoint\'s ancestry', async () => {
    await render(createMemoryDataSource([forkedThread()]));
    expect(rows()).toEqual(['ckpt-000010', 'ckpt-000009', 'ckpt-000008', 'ckpt-000007', 'ckpt-000006', 'ckpt-000005', 'ckpt-000004', 'ckpt-000003', 'ckpt-000002', 'ckpt-000001']);
    expect(new Set($$('.juncture-row svg').map((svg) => svg.dataset['lane']))).toEqual(new Set(['0', '1', '2']));
    expect(selectedRow()).toBe('ckpt-000010');
    await click($('[data-checkpoint-id="ckpt-000009"]'));
    expect(selectedRow()).toBe('ckpt-000009');
    const ancestry = $$('.juncture-row.ancestry').map((row) => row.dataset['checkpointId']);
    expect(ancestry).toEqual(['ckpt-000009', 'ckpt-000008', 'ckpt-000003', 'ckpt-000002', 'ckpt-000001']);
    expect($('[data-checkpoint-id="ckpt-000009"]')!.textContent).toContain('research');
  });

  it('shows state, the diff against the parent, and metadata of the selected checkpoint', async () => {
    await render(createMemoryDataSource([forkedThread()]));
    await click($('[data-checkpoint-id="ckpt-000009"]'));
    await vi.waitFor(() => expect($('.juncture-detail')!.textContent).toContain('Checkpoint ckpt-000009'));
    expect($$('.juncture-channel strong').map((name) => name.textContent)).toEqual(['topic', 'notes', 'summary']);
    await click(buttonNamed('Diff'));
    await vi.waitFor(() => expect($('.juncture-diff')?.textContent).toContain('+ /notes/2 = "edited note"'));
    await click(buttonNamed('Metadata'));
    await vi.waitFor(() => expect($('.juncture-detail')!.textContent).toContain('source:"loop"'));
  });

  it('picks namespaces, root first, and shows a subgraph\'s checkpoints', async () => {
    await render(createMemoryDataSource([forkedThread()]));
    const picker = $<HTMLSelectElement>('select[aria-label="Namespace"]')!;
    expect([...picker.options].map((option) => option.textContent)).toEqual(['(root)', 'summarize:7f3a']);
    await act(async () => {
      picker.value = 'summarize:7f3a';
      picker.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await vi.waitFor(() => expect(rows()).toEqual(['ckpt-000013', 'ckpt-000012', 'ckpt-000011']));
  });

  it('groups pending writes by task and marks errors and interrupts', async () => {
    await render(createMemoryDataSource([failingThread()]));
    await vi.waitFor(() => expect(buttonNamed('Writes (3)')).toBeDefined());
    await click(buttonNamed('Writes (3)'));
    expect($('.juncture-task.error')!.textContent).toContain('network unreachable');
    expect($('.juncture-task.interrupt')!.textContent).toContain('Approve publishing?');
    expect($$('.juncture-task')).toHaveLength(3);
  });

  it('moves through the timeline with the arrow keys', async () => {
    await render(createMemoryDataSource([forkedThread()]));
    const timeline = $('[aria-label="Timeline"]')!;
    await act(async () => timeline.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true })));
    expect(selectedRow()).toBe('ckpt-000009');
    await act(async () => timeline.dispatchEvent(new KeyboardEvent('keydown', { key: 'End', bubbles: true })));
    expect(selectedRow()).toBe('ckpt-000001');
    await act(async () => timeline.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowUp', bubbles: true })));
    expect(selectedRow()).toBe('ckpt-000002');
  });

  it('searches values and jumps between hits', async () => {
    await render(createMemoryDataSource([forkedThread()]));
    const input = $<HTMLInputElement>('input[aria-label="Search values"]')!;
    await act(async () => {
      const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
      setValue.call(input, 'summary');
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await click(buttonNamed('Search'));
    // "summary" is a channel name everywhere it was introduced; values "draft summary" and "forked summary".
    await vi.waitFor(() => expect($('[aria-live="polite"]')?.textContent).toMatch(/^1 of \d+/));
    const first = selectedRow();
    expect($$('.juncture-row.hit').length).toBeGreaterThan(1);
    await click(buttonNamed('Next'));
    expect(selectedRow()).not.toBe(first);
  });

  it('follows the head as checkpoints arrive, until the user picks another', async () => {
    const builder = new ThreadBuilder('fixtures', 'live');
    let head = builder.add({ parent: null, source: 'input', step: -1, values: { n: 0 } });
    const source = createMemoryDataSource([builder.build()]);
    await render(source);
    for (let step = 0; step < 2; step += 1) {
      head = builder.add({ parent: head, source: 'loop', step, values: { n: step + 1 } });
      await act(async () => source.replace([builder.build()]));
      await vi.waitFor(() => expect(selectedRow()).toBe(head));
    }
    await click($('[data-checkpoint-id="ckpt-000001"]'));
    builder.add({ parent: head, source: 'loop', step: 2, values: { n: 3 } });
    await act(async () => source.replace([builder.build()]));
    await vi.waitFor(() => expect(rows()).toHaveLength(4));
    expect(selectedRow()).toBe('ckpt-000001');
  });

  it('exports a thread and imports it back to view', async () => {
    const source = createMemoryDataSource([forkedThread()]);
    await render(source);
    const exported = await source.exportThread('fixtures', 'research-thread');
    const renamed = { ...exported, dbName: 'from-a-file' };
    const input = $<HTMLInputElement>('input[aria-label="Import a thread"]')!;
    const files = new DataTransfer();
    files.items.add(new File([JSON.stringify(renamed)], 'thread.json', { type: 'application/json' }));
    await act(async () => {
      input.files = files.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await vi.waitFor(() => expect(buttonNamed('Back to the live page')).toBeDefined());
    // The imported thread's database and rows load as the live ones do, a moment after the file is read.
    await vi.waitFor(() => expect($('[aria-label="Databases"]')!.textContent).toContain('from-a-file'));
    await vi.waitFor(() => expect(rows()).toHaveLength(10));
    const broken = new DataTransfer();
    broken.items.add(new File(['{"format":"other"}'], 'bad.json'));
    await act(async () => {
      input.files = broken.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await vi.waitFor(() => expect($('[role="alert"]')?.textContent).toContain('not a juncture thread export'));
  });

  it('offers time travel only where the page gave its graph, and forks with edited values', async () => {
    const memory = createMemoryDataSource([forkedThread()]);
    await render(memory);
    expect(buttonNamed('Fork from here')).toBeUndefined();
    act(() => root.unmount());
    root = createRoot(container);

    const forks: [CheckpointKey, Record<string, JsonValue>][] = [];
    const withGraph: CheckpointDataSource = {
      ...memory,
      databases: async () => [{ name: 'fixtures', live: true, timeTravel: true }],
      fork: async (_dbName, key, values) => {
        forks.push([key, values]);
        return { ...key, checkpoint_id: 'ckpt-000002' };
      },
    };
    await render(withGraph);
    await vi.waitFor(() => expect(buttonNamed('Fork from here')).toBeDefined());
    await click(buttonNamed('Fork from here'));
    const editor = $<HTMLTextAreaElement>('textarea[aria-label="Values of the fork"]')!;
    await act(async () => {
      const setValue = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!;
      setValue.call(editor, '{"topic":"rewritten"}');
      editor.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await click(buttonNamed('Create fork'));
    await vi.waitFor(() => expect(forks).toEqual([[{ thread_id: 'research-thread', checkpoint_ns: '', checkpoint_id: 'ckpt-000010' }, { topic: 'rewritten' }]]));
    await vi.waitFor(() => expect(selectedRow()).toBe('ckpt-000002'));
  });

  it('follows the theme it is given: dark colours for a dark DevTools', async () => {
    await act(async () => root.render(<DevtoolsPanel source={createMemoryDataSource([forkedThread()])} theme="dark" />));
    await vi.waitFor(() => expect(rows().length).toBeGreaterThan(0));
    const panel = $('.juncture-panel')!;
    expect(panel.dataset['theme']).toBe('dark');
    expect(getComputedStyle(panel).backgroundColor).toBe('rgb(30, 30, 30)');
    await act(async () => root.render(<DevtoolsPanel source={createMemoryDataSource([forkedThread()])} theme="light" />));
    expect(getComputedStyle($('.juncture-panel')!).backgroundColor).toBe('rgb(255, 255, 255)');
  });

  it('renders HTML and script payloads from the page as text, running nothing', async () => {
    await render(createMemoryDataSource([hostileThread()]));
    await vi.waitFor(() => expect($('.juncture-detail')!.textContent).toContain(HOSTILE));
    await click(buttonNamed('Writes (1)'));
    for (const tab of ['Diff', 'Metadata', 'State']) await click(buttonNamed(tab));
    expect(container.textContent).toContain(`thread ${HOSTILE}`);
    expect(container.querySelectorAll('img, script, iframe')).toHaveLength(0);
    await new Promise((done) => setTimeout(done, 50));
    expect((window as { __pwned?: number }).__pwned).toBeUndefined();
  });
});
