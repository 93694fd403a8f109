import { Annotation, Command, END, START, StateGraph, getConfig, interrupt } from '@langchain/langgraph/web';
import { AsyncLocalStorageProviderSingleton } from '@langchain/core/singletons';
import { BrowserSaver, installBrowserAsyncContext } from '../../src/index.js';
import { freshDbName } from '../support/fixtures.js';

const State = Annotation.Root({
  answers: Annotation<string[]>({ reducer: (a, b) => [...a, ...b].sort(), default: () => [] }),
});

const savers: BrowserSaver[] = [];
afterAll(async () => {
  for (const saver of savers) {
    await saver.close();
    await BrowserSaver.deleteDatabase(saver.dbName);
  }
});
function newSaver() {
  const saver = new BrowserSaver({ dbName: freshDbName('context') });
  savers.push(saver);
  return saver;
}

describe('installBrowserAsyncContext', () => {
  it('is installed once and holds no store outside a run', () => {
    expect(installBrowserAsyncContext()).toBe(false);
    expect(AsyncLocalStorageProviderSingleton.getInstance().getStore()).toBeUndefined();
  });

  it('gives each of several parallel tasks its own interrupt and resume value', async () => {
    const ask = (name: string) => () => ({ answers: [`${name}:${interrupt(`question for ${name}`) as string}`] });
    const slow = async () => {
      await new Promise((done) => setTimeout(done, 5));
      return { answers: ['slow:done'] };
    };
    const graph = new StateGraph(State)
      .addNode('left', ask('left'))
      .addNode('right', ask('right'))
      .addNode('slow', slow)
      .addEdge(START, 'left')
      .addEdge(START, 'right')
      .addEdge(START, 'slow')
      .addEdge('left', END)
      .addEdge('right', END)
      .addEdge('slow', END)
      .compile({ checkpointer: newSaver() });
    const config = { configurable: { thread_id: 'parallel' } };
    await graph.invoke({}, config);
    const waiting = await graph.getState(config);
    const interrupts = waiting.tasks.flatMap((task) => task.interrupts.map((entry) => ({ id: entry.id!, value: entry.value as string })));
    expect(interrupts.map((entry) => entry.value).sort()).toEqual(['question for left', 'question for right']);
    const answers = Object.fromEntries(interrupts.map((entry) => [entry.id, entry.value.replace('question for ', 'yes ')]));
    const done = await graph.invoke(new Command({ resume: answers }), config);
    expect(done.answers).toEqual(['left:yes left', 'right:yes right', 'slow:done']);
  });

  it('hands a node its own config before its first await', async () => {
    const graph = new StateGraph(State)
      .addNode('read', () => ({ answers: [String(getConfig().configurable?.['thread_id'])] }))
      .addEdge(START, 'read')
      .addEdge('read', END)
      .compile({ checkpointer: newSaver() });
    expect((await graph.invoke({}, { configurable: { thread_id: 'mine' } })).answers).toEqual(['mine']);
  });

  it('fails loudly when interrupt() comes after an await', async () => {
    const graph = new StateGraph(State)
      .addNode('late', async () => {
        await Promise.resolve();
        return { answers: [interrupt('too late') as string] };
      })
      .addEdge(START, 'late')
      .addEdge('late', END)
      .compile({ checkpointer: newSaver() });
    await expect(graph.invoke({}, { configurable: { thread_id: 'late' } })).rejects.toThrow(/outside the context of a graph/);
  });
});
