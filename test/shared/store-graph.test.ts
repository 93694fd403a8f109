import { MemorySaver } from '@langchain/langgraph-checkpoint';
import { Annotation, END, START, StateGraph, type LangGraphRunnableConfig } from '@langchain/langgraph/web';
import { BrowserSaver, type BrowserStore } from '../../src/index.js';
import { freshDbName } from '../support/fixtures.js';
import { buildMemoryGraph } from '../support/memory-graph.js';
import { readRecords } from '../support/store-probes.js';
import { useFreshStores, WordCountEmbeddings } from '../support/store-fixtures.js';

describe('a LangGraph.js graph with BrowserStore as its store', () => {
  const freshStore = useFreshStores('graph-store');

  it('remembers in one thread what another thread asks about, through config.store', async () => {
    const embeddings = new WordCountEmbeddings(32);
    const store = freshStore({ index: { dims: embeddings.dims, embeddings, fields: ['text'] } });
    const saver = new BrowserSaver({ dbName: freshDbName('graph-store-saver') });
    const graph = buildMemoryGraph(saver, store);
    const first = { configurable: { thread_id: 'monday' } };
    const second = { configurable: { thread_id: 'friday' } };

    expect((await graph.invoke({ user: 'ada', said: 'what do I like to drink?' }, second)).reply).toBe('I do not know yet.');
    await graph.invoke({ user: 'ada', said: 'remember that I like green tea' }, first);
    await graph.invoke({ user: 'ada', said: 'remember that my cat is called Tom' }, first);
    await graph.invoke({ user: 'bob', said: 'remember that I like coffee' }, first);
    const answer = await graph.invoke({ user: 'ada', said: 'which tea do I like?' }, second);
    expect(answer.reply).toBe('You told me I like green tea');
    expect((await graph.invoke({ user: 'bob', said: 'what do I like?' }, second)).reply).toBe('You told me I like coffee');

    // The memories outlive the graph: a new store on the same database, as after a reload, has them.
    await store.close();
    const reopened = freshStore({ dbName: store.dbName, index: { dims: embeddings.dims, embeddings, fields: ['text'] } });
    expect(await reopened.listNamespaces()).toEqual([['memories', 'ada'], ['memories', 'bob']]);
    expect((await reopened.search(['memories', 'ada'], { query: 'cat' }))[0]!.value).toEqual({ text: 'my cat is called Tom', kind: 'fact' });
    // The nodes' puts were embedded with the store's fields: one vector per memory.
    expect(await readRecords(store.dbName, 'vectors')).toHaveLength(3);
    // The two threads' checkpoints are the saver's, apart from the store.
    expect((await graph.getState(first)).values.said).toBe('remember that I like coffee');
    await saver.close();
    await BrowserSaver.deleteDatabase(saver.dbName);
  });

  it('gives nodes no listNamespaces: LangGraph\'s batching wrapper around the store lacks it', async () => {
    const store = freshStore();
    const graph = buildMemoryGraph(new MemorySaver(), store);
    const result = await graph.invoke({ user: 'ada', said: 'anything?' }, { configurable: { thread_id: 't' } });
    expect(result.refused).toEqual([expect.stringMatching(/^listNamespaces: The `batch` method is not implemented on `AsyncBatchedStore`/)]);
  });

  it('drops a node\'s per-put index and TTL: the wrapper passes only namespace, key and value on', async () => {
    const embeddings = new WordCountEmbeddings(8);
    const store = freshStore({ index: { dims: embeddings.dims, embeddings, fields: ['text'] } });
    const graph = new StateGraph(Annotation.Root({ done: Annotation<boolean>() }))
      .addNode('write', async (_state, config: LangGraphRunnableConfig) => {
        // Asked not to embed, and to expire in a minute. (`BaseStore.put` has no TTL argument; ours does.)
        const store = config.store as unknown as BrowserStore;
        await store.put(['notes'], 'n1', { text: 'short lived' }, false, { ttl: 1 });
        return { done: true };
      })
      .addEdge(START, 'write')
      .addEdge('write', END)
      .compile({ checkpointer: new MemorySaver(), store });
    await graph.invoke({ done: false }, { configurable: { thread_id: 't' } });
    // Embedded with the store's fields all the same, and kept with no expiry.
    expect(embeddings.embedded).toEqual(['short lived']);
    expect(await readRecords(store.dbName, 'vectors')).toHaveLength(1);
    const [item] = await readRecords(store.dbName, 'items');
    expect(item).toMatchObject({ key: 'n1', value: { text: 'short lived' } });
    expect(item).not.toHaveProperty('expiresAt');
    // Called on the store itself, the same put is neither embedded nor kept past its TTL.
    await store.put(['notes'], 'n2', { text: 'short lived' }, false, { ttl: 1 });
    expect(embeddings.embedded).toEqual(['short lived']);
    expect((await readRecords(store.dbName, 'items'))[1]).toHaveProperty('expiresAt');
  });
});
