import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { CheckpointsPanel } from '../../src/panel/CheckpointsPanel.js';
import { createFixtureSource } from '../support/fixture-source.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let container: HTMLElement;
let root: Root;
beforeEach(() => {
  container = document.createElement('div');
  document.body.append(container);
  root = createRoot(container);
});
afterEach(() => {
  act(() => root.unmount());
  container.remove();
});

const rows = () => [...container.querySelectorAll('table[aria-label="Checkpoints"] tbody tr')].map((row) => row.getAttribute('data-checkpoint-id'));
const buttons = (label: string) => [...container.querySelectorAll(`nav[aria-label="${label}"] button`)].map((button) => button.textContent);

describe('CheckpointsPanel', () => {
  it('shows databases, threads, and the selected thread\'s checkpoints newest first', async () => {
    const fixtures = createFixtureSource({ threads: 2, checkpoints: 3 });
    await act(async () => root.render(<CheckpointsPanel source={fixtures.source} />));
    await vi.waitFor(() => expect(rows()).toHaveLength(3));
    expect(buttons('Databases')).toEqual(['fixtures (live)']);
    expect(buttons('Threads')).toEqual(['thread-1 (3)', 'thread-0 (3)']);
    expect(rows()).toEqual(['ckpt-000006', 'ckpt-000005', 'ckpt-000004']);
    const first = container.querySelector('tbody tr')!;
    expect([...first.querySelectorAll('td')].map((cell) => cell.textContent)).toEqual(['ckpt-000006', 'ckpt-000005', '', '1', 'loop']);

    await act(async () => (container.querySelectorAll('nav[aria-label="Threads"] button')[1] as HTMLButtonElement).click());
    await vi.waitFor(() => expect(rows()).toEqual(['ckpt-000003', 'ckpt-000002', 'ckpt-000001']));
  });

  it('updates live when the source reports a change', async () => {
    const fixtures = createFixtureSource({ threads: 1, checkpoints: 2 });
    await act(async () => root.render(<CheckpointsPanel source={fixtures.source} />));
    await vi.waitFor(() => expect(rows()).toHaveLength(2));
    await act(async () => {
      fixtures.append('thread-0', 'update');
    });
    await vi.waitFor(() => expect(rows()).toEqual(['ckpt-000003', 'ckpt-000002', 'ckpt-000001']));
  });

  it('says what to do when the page has no checkpoint database, and shows read errors', async () => {
    const fixtures = createFixtureSource({ threads: 0, checkpoints: 0 });
    const empty = { ...fixtures.source, databases: async () => [] };
    await act(async () => root.render(<CheckpointsPanel source={empty} />));
    await vi.waitFor(() => expect(container.textContent).toContain('No checkpoint databases on this page'));
    const failing = { ...fixtures.source, databases: async () => Promise.reject(new Error('the page went away')) };
    await act(async () => root.render(<CheckpointsPanel source={failing} />));
    await vi.waitFor(() => expect(container.querySelector('[role="alert"]')?.textContent).toContain('the page went away'));
  });
});
