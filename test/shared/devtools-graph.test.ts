import type { RunnableConfig } from '@langchain/core/runnables';
import { createPageDataSource } from '../../src/devtools/index.js';
import { describeGraph, forkAt, resumeAt } from '../../src/devtools/time-travel.js';
import { buildAgentGraph } from '../support/agent-graph.js';
import { buildDraftGraph } from '../support/draft-graph.js';
import { useFreshSavers } from '../support/fixtures.js';

const thread = (thread_id: string): RunnableConfig => ({ configurable: { thread_id } });

describe('the devtools and the page\'s graph', () => {
  const freshSaver = useFreshSavers('devtools-graph');

  it('describes the compiled graph as plain data: subgraph nodes by path, conditional edges marked', async () => {
    const graph = buildAgentGraph(freshSaver());
    const description = await describeGraph(graph);
    expect(JSON.parse(JSON.stringify(description))).toEqual(description);
    expect(description.nodes.map((node) => node.id).sort()).toEqual(['__end__', '__start__', 'plan', 'research', 'review', 'summarize:count', 'summarize:polish']);
    expect(description.nodes.find((node) => node.id === 'summarize:count')!.name).toBe('count');
    const edge = (source: string, target: string) => description.edges.find((entry) => entry.source === source && entry.target === target);
    expect(edge('plan', 'research')).toMatchObject({ conditional: true });
    expect(edge('summarize:count', 'summarize:polish')).toMatchObject({ conditional: false });
    expect(edge('research', 'summarize:count')).toMatchObject({ conditional: false });
  });

  it('reads what each checkpoint waits to run and its interrupts as LangGraph reports them', async () => {
    const saver = freshSaver();
    const graph = buildAgentGraph(saver);
    await graph.invoke({ topic: 'storage' }, thread('t'));
    const source = createPageDataSource([{ saver, graph }]);
    const history = await source.history(saver.dbName, { thread_id: 't', checkpoint_ns: '', limit: 100 });
    expect(history).toHaveLength(5);
    for (const summary of history) {
      const key = { thread_id: 't', checkpoint_ns: '', checkpoint_id: summary.checkpoint_id };
      const state = await graph.getState({ configurable: key });
      const expected = [...new Set(state.next)].sort();
      const detail = (await source.checkpoint(saver.dbName, key))!;
      expect([summary.step, detail.next]).toEqual([summary.step, expected]);
      // Summaries do not read values, so they miss the nodes reached by Send (`research`).
      expect([summary.step, summary.next]).toEqual([summary.step, expected.filter((node) => node !== 'research')]);
      const interrupted = state.tasks.filter((task) => task.interrupts.length > 0).map((task) => task.name);
      expect([summary.step, summary.interrupts]).toEqual([summary.step, interrupted]);
    }
    expect(history[0]!.interrupts).toEqual(['review']);
  });

  it('resumes with breakpoints: the run pauses before the node, and the checkpoint says what it waits for', async () => {
    const saver = freshSaver();
    const graph = buildAgentGraph(saver);
    await graph.invoke({ topic: 'storage' }, thread('t'));
    const source = createPageDataSource([{ saver, graph }]);
    const history = await source.history(saver.dbName, { thread_id: 't', checkpoint_ns: '', limit: 100 });
    const afterPlan = history.find((entry) => entry.nodes.includes('plan'))!;
    await source.resume(saver.dbName, afterPlan, { interruptBefore: ['summarize'], interruptAfter: [] });
    const state = await graph.getState(thread('t'));
    expect(state.next).toEqual(['summarize']);
    const [head] = await source.history(saver.dbName, { thread_id: 't', checkpoint_ns: '', limit: 1 });
    expect(head).toMatchObject({ parent_checkpoint_id: expect.any(String), nodes: ['research'], next: ['summarize'], interrupts: [] });

    await source.resume(saver.dbName, head!, { interruptBefore: [], interruptAfter: ['summarize'] });
    const [paused] = await source.history(saver.dbName, { thread_id: 't', checkpoint_ns: '', limit: 1 });
    expect(paused).toMatchObject({ nodes: ['summarize'], next: ['review'], interrupts: [] });
    expect((await graph.getState(thread('t'))).tasks.flatMap((task) => task.interrupts)).toEqual([]);
  });

  it('forks and resumes from a subgraph\'s checkpoint, through the parent and the subgraph\'s namespace', async () => {
    const saver = freshSaver();
    const ran: string[] = [];
    const graph = buildDraftGraph(saver, ran);
    await graph.invoke({ draft: 'notes' }, thread('t'));
    expect(ran).toEqual(['outline', 'write', 'check']);
    const source = createPageDataSource([{ saver, graph }]);
    const [summary] = await source.threads(saver.dbName);
    const ns = summary!.namespaces.find((name) => name.startsWith('edit:'))!;
    const subgraphHistory = await source.history(saver.dbName, { thread_id: 't', checkpoint_ns: ns, limit: 100 });
    const afterWrite = subgraphHistory.find((entry) => entry.nodes.includes('write'))!;
    expect(afterWrite.next).toEqual(['check']);

    const forked = await source.fork(saver.dbName, afterWrite, { draft: 'a better draft' });
    expect(forked).toMatchObject({ thread_id: 't', checkpoint_ns: ns });
    const forkDetail = (await source.checkpoint(saver.dbName, forked))!;
    expect(forkDetail).toMatchObject({ source: 'update', parent_checkpoint_id: afterWrite.checkpoint_id, next: ['check'] });
    expect(forkDetail.channel_values['draft']).toBe('a better draft');

    ran.length = 0;
    await source.resume(saver.dbName, forked);
    // The parent resumed under the subgraph, and the subgraph at the fork: only `check` ran, on the edited draft.
    expect(ran).toEqual(['check']);
    const state = await graph.getState(thread('t'), { subgraphs: true });
    expect(state.tasks.flatMap((task) => task.interrupts.map((entry) => entry.value))).toEqual([{ draft: 'a better draft' }]);
  });

  it('forks a subgraph\'s checkpoint with forkAt and resumeAt directly, as the page hook does', async () => {
    const saver = freshSaver();
    const ran: string[] = [];
    const graph = buildDraftGraph(saver, ran);
    await graph.invoke({ draft: 'notes' }, thread('t'));
    let target: { checkpoint_ns: string; checkpoint_id: string } | undefined;
    for await (const tuple of saver.list(thread('t'))) {
      if (tuple.config.configurable?.['checkpoint_ns'] !== '' && tuple.metadata?.step === 1) {
        target = { checkpoint_ns: tuple.config.configurable!['checkpoint_ns'], checkpoint_id: tuple.checkpoint.id };
      }
    }
    const forked = await forkAt(graph, { thread_id: 't', ...target! }, { draft: 'rewritten' });
    ran.length = 0;
    await resumeAt(graph, forked);
    expect(ran).toEqual(['check']);
  });
});
