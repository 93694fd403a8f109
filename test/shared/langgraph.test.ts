import { MemorySaver } from '@langchain/langgraph-checkpoint';
import { BrowserSaver } from '../../src/index.js';
import { freshDbName } from '../support/fixtures.js';
import { runScenario } from '../support/scenario.js';

describe('a LangGraph.js StateGraph on BrowserSaver', () => {
  it('gives the same values, next and history as on MemorySaver', async () => {
    const saver = new BrowserSaver({ dbName: freshDbName('graph') });
    const withBrowserSaver = await runScenario(saver);
    const withMemorySaver = await runScenario(new MemorySaver());
    expect(withBrowserSaver).toEqual(withMemorySaver);

    // The scenario really went through an interrupt, a resume, a subgraph and a fork.
    expect(withBrowserSaver.interrupted.next).toEqual(['review']);
    expect(withBrowserSaver.interrupted.interrupts).toEqual([{ question: 'Publish "4 notes: plan storage, research costs, research risks, research sources"?' }]);
    expect(withBrowserSaver.resumed.approved).toBe('yes');
    expect(withBrowserSaver.afterFork).toMatchObject({ summary: 'edited', approved: 'no' });
    expect(withBrowserSaver.history.map((entry) => entry.source)).toContain('update');
    expect(withBrowserSaver.namespaces).toEqual(['', 'summarize']);
    await saver.close();
    await BrowserSaver.deleteDatabase(saver.dbName);
  });
});
