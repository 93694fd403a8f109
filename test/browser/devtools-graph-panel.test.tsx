import type { Breakpoints, CheckpointDataSource, CheckpointKey } from '../../src/devtools/data-source.js';
import { createMemoryDataSource, createPageDataSource } from '../../src/devtools/index.js';
import { DevtoolsPanel } from '../../src/panel/DevtoolsPanel.js';
import { buildAgentGraph } from '../support/agent-graph.js';
import { HOSTILE, hostileThread, researchGraph, timedThread } from '../support/fixture-threads.js';
import { useFreshSavers } from '../support/fixtures.js';
import { click, usePanelContainer } from '../support/panel-container.js';

const panel = usePanelContainer(700);
const { $, $$, buttonNamed } = panel;
const rows = () => $$('.juncture-row').map((row) => row.dataset['checkpointId']);
const nodeState = (id: string) => $(`[data-node="${CSS.escape(id)}"]`)?.getAttribute('data-state') ?? null;
const box = (element: Element) => element.getBoundingClientRect();
/** Reads through real IndexedDB and a real graph take longer in some engines (WebKit) than the default wait. */
const SLOW = { timeout: 10_000 };

async function render(source: CheckpointDataSource) {
  await panel.render(<DevtoolsPanel source={source} theme="light" />);
  await vi.waitFor(() => expect(rows().length).toBeGreaterThan(0), SLOW);
}

async function openGraph(checkpointId: string) {
  await click($(`[data-checkpoint-id="${checkpointId}"]`));
  await vi.waitFor(() => expect($('.juncture-detail')!.textContent).toContain(`Checkpoint ${checkpointId}`), SLOW);
  await click(buttonNamed('Graph'));
  await vi.waitFor(() => expect($('.juncture-graph-drawing')).not.toBeNull(), SLOW);
}

/** A data source over fixtures that answers for the page's graph as a page with `connectDevtools(saver, { graph })` does. */
function withPageGraph(graph = researchGraph(), resumed: [CheckpointKey, Breakpoints | undefined][] = []): CheckpointDataSource {
  const memory = createMemoryDataSource([timedThread()]);
  return {
    ...memory,
    databases: async () => [{ name: 'fixtures', live: true, timeTravel: true }],
    graph: async () => graph,
    resume: async (_dbName, key, breakpoints) => {
      resumed.push([key, breakpoints]);
    },
  };
}

describe('the graph tab', () => {
  it('draws the page\'s graph: nodes, edges, conditional edges dashed, the subgraph nested around its nodes', async () => {
    await render(withPageGraph());
    await openGraph('timed-000006');
    expect($('.juncture-graph-note')).toBeNull();
    expect($$('[data-node]').map((node) => node.dataset['node']).sort()).toEqual(['__end__', '__start__', 'plan', 'research', 'review', 'summarize:count', 'summarize:polish']);
    expect($$('[data-node] text').map((text) => text.textContent).sort()).toEqual(['__end__', '__start__', 'count', 'plan', 'polish', 'research', 'review']);
    const edges = $$<SVGPathElement>('.juncture-graph-edge');
    expect(edges).toHaveLength(7);
    const dashed = edges.filter((edge) => edge.getAttribute('stroke-dasharray')).map((edge) => `${edge.dataset['source']}→${edge.dataset['target']}`);
    expect(dashed.sort()).toEqual(['plan→__end__', 'plan→research']);
    expect($$('.juncture-graph-edge-label').map((label) => label.textContent)).toEqual(['done']);
    // Laid out top down: each plain edge goes from a node above to a node below.
    const centre = (id: string) => box($(`[data-node="${id}"] rect`)!);
    expect(centre('plan').top).toBeGreaterThan(centre('__start__').bottom);
    expect(centre('summarize:polish').top).toBeGreaterThan(centre('summarize:count').bottom);
    const cluster = box($('[data-subgraph="summarize"] rect')!);
    for (const id of ['summarize:count', 'summarize:polish']) {
      const node = centre(id);
      expect([node.left >= cluster.left, node.right <= cluster.right, node.top >= cluster.top, node.bottom <= cluster.bottom]).toEqual([true, true, true, true]);
    }
    for (const id of ['plan', 'review']) expect(centre(id).bottom <= cluster.top || centre(id).top >= cluster.bottom).toBe(true);
    expect($('[data-subgraph="summarize"] text')!.textContent).toBe('summarize');
  });

  it('marks, for the selected checkpoint, the nodes that ran into it, its next nodes, and its interrupts', async () => {
    await render(withPageGraph());
    await openGraph('timed-000002');
    expect([nodeState('plan'), nodeState('research'), nodeState('review')]).toEqual(['ran', 'next', null]);
    // The tab stays open while another checkpoint is picked: the head ran the summarize subgraph and waits on review.
    await click($('[data-checkpoint-id="timed-000006"]'));
    await vi.waitFor(() => expect(nodeState('review')).toBe('interrupt'));
    expect($('[data-subgraph="summarize"]')!.getAttribute('data-state')).toBe('ran');
    expect([nodeState('plan'), nodeState('research')]).toEqual([null, null]);
  });

  it('draws what the checkpoints show when the page gave no graph, and says it is inferred', async () => {
    await render(createMemoryDataSource([timedThread()]));
    await openGraph('timed-000003');
    expect($('.juncture-graph-note')!.textContent).toContain('Inferred from the checkpoints');
    expect($$('[data-node]').map((node) => node.dataset['node'])).toEqual(['__start__', 'plan', 'research', 'summarize']);
    const observed = $$('.juncture-graph-edge').map((edge) => `${edge.dataset['source']}→${edge.dataset['target']}`);
    expect(observed.sort()).toEqual(['__start__→plan', 'plan→research', 'research→plan', 'research→summarize']);
    expect([nodeState('research'), nodeState('plan')]).toEqual(['ran', 'next']);
    expect(buttonNamed('Resume from here')).toBeUndefined();
    expect($('[aria-label="Breakpoints"]')).toBeNull();
  });

  it('shows node names and edge labels carrying HTML and script payloads as text, running nothing', async () => {
    await render(withPageGraph(researchGraph((name) => `${name} ${HOSTILE}`)));
    await openGraph('timed-000006');
    expect($$('[data-node] text').map((text) => text.textContent)).toContain(`plan ${HOSTILE}`);
    expect($$('[data-node] title').map((title) => title.textContent)).toContain('plan');
    expect($('.juncture-graph-edge-label')!.textContent).toBe(`done ${HOSTILE}`);
    expect($$('[aria-label="Breakpoints"] td').map((cell) => cell.textContent)).toContain(`review ${HOSTILE}`);
    panel.remount();
    await render(createMemoryDataSource([hostileThread()]));
    await openGraph($$('.juncture-row').at(-1)!.dataset['checkpointId']!);
    expect($$('[data-node] text').map((text) => text.textContent)).toEqual([`node ${HOSTILE}`]);
    expect(panel.element.querySelectorAll('img, script, iframe, foreignObject')).toHaveLength(0);
    await new Promise((done) => setTimeout(done, 50));
    expect((window as { __pwned?: number }).__pwned).toBeUndefined();
  });
});

describe('timing', () => {
  it('shows on each timeline row how long its step took', async () => {
    await render(createMemoryDataSource([timedThread()]));
    const took = (id: string) => $(`[data-checkpoint-id="${id}"] .took`)!.textContent;
    expect(rows().map((id) => took(id!))).toEqual(['2.5 s', '2 s', '500 ms', '4 s', '1.5 s', '']);
  });

  it('sums each node\'s steps over the thread: count, total, median and longest', async () => {
    await render(createMemoryDataSource([timedThread()]));
    await click(buttonNamed('Timing'));
    const table = $$('[aria-label="Time per node"] tbody tr').map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent));
    expect(table).toEqual([
      ['research', '2', '6 s', '3 s', '4 s'],
      ['summarize', '1', '2.5 s', '2.5 s', '2.5 s'],
      ['plan', '2', '2 s', '1 s', '1.5 s'],
    ]);
  });

  it('shows an interrupt on its timeline row', async () => {
    await render(createMemoryDataSource([timedThread()]));
    expect($('[data-checkpoint-id="timed-000006"] .pause')!.textContent).toBe('interrupt in review');
    expect($$('.juncture-row .pause')).toHaveLength(1);
  });
});

describe('breakpoints', () => {
  it('resumes with the nodes marked to pause before and after', async () => {
    const resumed: [CheckpointKey, Breakpoints | undefined][] = [];
    await render(withPageGraph(researchGraph(), resumed));
    await openGraph('timed-000003');
    const breakpoints = $('[aria-label="Breakpoints"]')!;
    expect([...breakpoints.querySelectorAll('tbody td:first-child')].map((cell) => cell.textContent)).toEqual(['plan', 'research', 'review']);
    await click($('input[aria-label="Pause before review"]'));
    await click($('input[aria-label="Pause after research"]'));
    await click($('input[aria-label="Pause before review"]'));
    await click($('input[aria-label="Pause before plan"]'));
    expect($$('.juncture-graph-node.breakpoint').map((node) => node.dataset['node']).sort()).toEqual(['plan', 'research']);
    await click(buttonNamed('Resume from here'));
    await vi.waitFor(() => expect(resumed).toHaveLength(1));
    expect(resumed[0]).toEqual([
      { thread_id: 'timed-thread', checkpoint_ns: '', checkpoint_id: 'timed-000003' },
      { interruptBefore: ['plan'], interruptAfter: ['research'] },
    ]);
  });

  describe('in the page panel, on a real graph', () => {
    const freshSaver = useFreshSavers('graph-panel');

    it('pauses the run at a breakpoint, and the timeline shows the pause', async () => {
      const saver = freshSaver();
      const graph = buildAgentGraph(saver);
      await graph.invoke({ topic: 'storage' }, { configurable: { thread_id: 'agent' } });
      await render(createPageDataSource([{ saver, graph }]));
      await vi.waitFor(() => expect(rows()).toHaveLength(5), SLOW);
      // The run waits on review's interrupt.
      expect($$('.juncture-row .pause').map((pause) => pause.textContent)).toEqual(['interrupt in review']);
      const afterPlan = $$('.juncture-row').find((row) => row.querySelector('.nodes')!.textContent === 'plan')!.dataset['checkpointId']!;
      await openGraph(afterPlan);
      await vi.waitFor(() => expect(nodeState('research')).toBe('next'), SLOW);
      expect(nodeState('plan')).toBe('ran');
      await click($('input[aria-label="Pause before review"]'));
      await click(buttonNamed('Resume from here'));
      await vi.waitFor(() => expect($$('.juncture-row .pause').map((pause) => pause.textContent)).toEqual(['paused before review', 'interrupt in review']), {
        timeout: 20_000,
      });
      const state = await graph.getState({ configurable: { thread_id: 'agent' } });
      expect([state.next, state.tasks.flatMap((task) => task.interrupts)]).toEqual([['review'], []]);
      // The panel followed the head: the run paused after the summarize subgraph, before review.
      await vi.waitFor(() => expect(nodeState('review')).toBe('next'), SLOW);
      expect($('[data-subgraph="summarize"]')!.getAttribute('data-state')).toBe('ran');
    });

    it('labels a fork made by editing the values a fork, not a pause', async () => {
      const saver = freshSaver();
      const graph = buildAgentGraph(saver);
      const config = { configurable: { thread_id: 'forked' } };
      await graph.invoke({ topic: 'storage' }, config);
      const waiting = (await graph.getState(config)).config;
      const fork = await graph.updateState(waiting, { summary: 'edited' });
      await render(createPageDataSource([{ saver, graph }]));
      await vi.waitFor(() => expect(rows()).toHaveLength(6), SLOW);
      const forkRow = $(`[data-checkpoint-id="${fork.configurable!['checkpoint_id'] as string}"]`)!;
      expect(forkRow.querySelector('.fork-next')!.textContent).toBe('fork, next review');
      expect(forkRow.querySelector('.pause')).toBeNull();
      // The checkpoint it was forked from still shows its interrupt.
      expect($$('.juncture-row .pause').map((pause) => pause.textContent)).toEqual(['interrupt in review']);
    });
  });
});
