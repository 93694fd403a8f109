import { CheckpointError } from '../../src/index.js';
import { readRecords } from '../support/store-probes.js';
import { useFreshStores, WordCountEmbeddings } from '../support/store-fixtures.js';

function cosine(a: number[], b: number[]): number {
  const dot = a.reduce((sum, x, i) => sum + x * b[i]!, 0);
  const norm = (v: number[]) => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));
  return dot / (norm(a) * norm(b));
}

interface StoredVector {
  key: string;
  field: string;
  vector: Float32Array;
}

describe('BrowserStore semantic search', () => {
  const freshStore = useFreshStores('vectors');
  const embeddings = new WordCountEmbeddings(32);
  const indexedStore = (fields?: string[]) => freshStore({ index: { dims: embeddings.dims, embeddings, ...(fields ? { fields } : {}) } });

  it('ranks items by the cosine similarity of their vectors to the query, and returns it as score', async () => {
    const store = indexedStore(['text']);
    const texts = { a: 'likes green tea with milk', b: 'likes black coffee', c: 'green tea every morning', d: 'plays chess' };
    await store.batch(Object.entries(texts).map(([key, text]) => ({ namespace: ['memories', 'ada'], key, value: { text } })));
    const query = 'green tea';
    const results = await store.search(['memories'], { query, limit: 3 });
    const expected = Object.entries(texts)
      .map(([key, text]) => ({ key, score: cosine(embeddings.vectorOf(text), embeddings.vectorOf(query)) }))
      .sort((x, y) => y.score - x.score)
      .slice(0, 3);
    expect(results.map(({ key, score }) => ({ key, score }))).toEqual(expected.map(({ key, score }) => ({ key, score: expect.closeTo(score, 6) })));
    expect(results[0]!.key).toBe('c');
    // Filters narrow before ranking; offset pages the ranking.
    expect((await store.search(['memories'], { query, filter: { text: { $ne: texts.c } } }))[0]!.key).toBe('a');
    expect((await store.search(['memories'], { query, offset: 1, limit: 1 }))[0]!.key).toBe(results[1]!.key);
  });

  it('replaces an item\'s vectors when it is put again and removes them when it is deleted', async () => {
    const store = indexedStore(['text']);
    await store.put(['m'], 'k', { text: 'tea' });
    await store.put(['m'], 'k', { text: 'coffee' });
    const vectors = await readRecords<StoredVector>(store.dbName, 'vectors');
    expect(vectors.map(({ key, field, vector }) => ({ key, field, vector: [...vector] }))).toEqual([
      { key: 'k', field: 'text', vector: embeddings.vectorOf('coffee') },
    ]);
    const [found] = await store.search(['m'], { query: 'coffee' });
    expect(found!.score).toBeCloseTo(1, 6);
    await store.delete(['m'], 'k');
    expect(await readRecords(store.dbName, 'vectors')).toEqual([]);
  });

  it('embeds the fields a put names, one vector per text, or none with index false (ranked after the others)', async () => {
    const store = indexedStore(['text']);
    await store.put(['m'], 'tags', { text: 'ignored here', tags: ['tea', 'cake'] }, ['tags[*]']);
    await store.put(['m'], 'none', { text: 'tea' }, false);
    const vectors = await readRecords<StoredVector>(store.dbName, 'vectors');
    expect(vectors.map(({ key, field }) => `${key}:${field}`)).toEqual(['tags:tags[*].0', 'tags:tags[*].1']);
    const results = await store.search(['m'], { query: 'cake' });
    expect(results.map(({ key, score }) => [key, score === undefined ? undefined : Number(score.toFixed(6))])).toEqual([
      ['tags', 1],
      ['none', undefined],
    ]);
    // Putting the item again without index false gives it the store's fields back.
    await store.put(['m'], 'none', { text: 'tea' });
    expect((await readRecords<StoredVector>(store.dbName, 'vectors')).filter(({ key }) => key === 'none').map(({ field }) => field)).toEqual(['text']);
  });

  it('embeds the whole value as JSON by default, and nested, indexed and last-element paths', async () => {
    const store = indexedStore(['meta.title', 'chapters[0].body', 'notes[-1]']);
    const value = { meta: { title: 'Tea' }, chapters: [{ body: 'green' }, { body: 'black' }], notes: ['first', 'last'] };
    await store.put(['doc'], 'd', value);
    expect(embeddings.embedded.slice(-3)).toEqual(['Tea', 'green', 'last']);
    const whole = indexedStore();
    await whole.put(['doc'], 'd', { a: 1 });
    expect(embeddings.embedded.at(-1)).toBe(JSON.stringify({ a: 1 }, null, 2));
  });

  it('computes embeddings outside IndexedDB transactions, once per batch', async () => {
    class SlowEmbeddings extends WordCountEmbeddings {
      calls = 0;
      override async embedDocuments(texts: string[]) {
        this.calls += 1;
        // A real macrotask: a transaction open across it would have committed, and the store's writes would fail.
        await new Promise((resolve) => setTimeout(resolve, 30));
        return super.embedDocuments(texts);
      }
      override async embedQuery(text: string) {
        await new Promise((resolve) => setTimeout(resolve, 30));
        return super.embedQuery(text);
      }
    }
    const slow = new SlowEmbeddings(16);
    const store = freshStore({ index: { dims: 16, embeddings: slow, fields: ['text'] } });
    const results: unknown[] = await store.batch([
      { namespace: ['m'], key: 'a', value: { text: 'tea' } },
      { namespace: ['m'], key: 'b', value: { text: 'coffee' } },
      { namespacePrefix: ['m'], query: 'tea', limit: 10, offset: 0 },
    ]);
    expect(results[2]).toEqual([]);
    expect(slow.calls).toBe(1);
    expect((await store.search(['m'], { query: 'tea' })).map((item) => item.key)).toEqual(['a', 'b']);
  });

  it('refuses vectors of another length than dims, storing nothing', async () => {
    const store = freshStore({ index: { dims: 8, embeddings: new WordCountEmbeddings(16), fields: ['text'] } });
    const error = await store.put(['m'], 'k', { text: 'tea' }).catch((thrown: unknown) => thrown);
    expect(CheckpointError.is(error, 'INVALID_CONFIG')).toBe(true);
    expect((error as Error).message).toMatch(/a vector of 16 numbers; index.dims is 8/);
    expect(await store.get(['m'], 'k')).toBeNull();
  });
});
