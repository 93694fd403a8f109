import { Embeddings } from '@langchain/core/embeddings';
import { BrowserStore, type BrowserStoreOptions } from '../../src/index.js';
import { freshDbName } from './fixtures.js';

/**
 * Deterministic embeddings: each word adds 1 to the dimension its letters hash to. Texts that share words
 * point the same way, and every component is a small integer, exact in the Float32Array the store keeps.
 */
export class WordCountEmbeddings extends Embeddings {
  readonly dims: number;
  /** Every text embedded so far, in order, so that tests see what was embedded and when. */
  readonly embedded: string[] = [];

  constructor(dims = 16) {
    super({});
    this.dims = dims;
  }

  vectorOf(text: string): number[] {
    const vector = new Array<number>(this.dims).fill(0);
    for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) {
      let hash = 7;
      for (const char of word) hash = (hash * 31 + char.charCodeAt(0)) % 1_000_003;
      vector[hash % this.dims]! += 1;
    }
    return vector;
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    this.embedded.push(...texts);
    return texts.map((text) => this.vectorOf(text));
  }

  async embedQuery(text: string): Promise<number[]> {
    this.embedded.push(text);
    return this.vectorOf(text);
  }
}

/** A small seeded generator (mulberry32), so that a failing random sequence can be replayed by its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Stores on fresh databases for the tests of one file; each is closed and its database deleted after each test. */
export function useFreshStores(label = 'store'): (options?: BrowserStoreOptions) => BrowserStore {
  const stores: BrowserStore[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) {
      await store.close().catch(() => undefined);
      await BrowserStore.deleteDatabase(store.dbName);
    }
  });
  return (options = {}) => {
    const store = new BrowserStore({ dbName: freshDbName(label), ...options });
    stores.push(store);
    return store;
  };
}

/** Key order of the store: namespaces label by label (a shorter one first), then keys, by code unit. */
export function compareKeys(a: { namespace: string[]; key: string }, b: { namespace: string[]; key: string }): number {
  return compareLabels([...a.namespace], [...b.namespace]) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

export function compareLabels(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length - b.length;
}
