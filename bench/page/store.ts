// The store rows: BrowserStore and WorkerStore against raw IndexedDB doing the same records in the same database,
// and against InMemoryStore, over 10,000 items with vectors.
import { InMemoryStore, type BaseStore } from '@langchain/langgraph-checkpoint';
import { BrowserStore, WorkerStore } from '../../src/index.js';
import { requestResult } from '../../src/storage/requests.js';
import type { ItemRecord, NamespaceRecord, VectorRecord } from '../../src/storage/items/records.js';
import { WordCountEmbeddings } from '../../test/support/store-fixtures.js';
import { openRawDatabase } from './raw-indexeddb.js';

const STORE_DB_NAME = 'bench-store';
const DIMS = 64;
const COLOURS = ['red', 'green', 'blue'];
const WORDS = ['tea', 'coffee', 'green', 'black', 'milk', 'sugar', 'cake', 'lemon', 'toast', 'jam', 'honey', 'bread'];
/** The filtered search: about one item in six passes, so a page of 10 is found early but not at once. */
const FILTER = { colour: 'red', n: { $gte: 5_000 } };
const QUERY = 'green tea with honey';

const embeddings = new WordCountEmbeddings(DIMS);
const index = { dims: DIMS, embeddings, fields: ['text'] };
const stores: Record<StoreKind, BaseStore> = {
  browser: new BrowserStore({ dbName: STORE_DB_NAME, index }),
  worker: new WorkerStore({ dbName: STORE_DB_NAME, index }),
  memory: new InMemoryStore({ index }),
};
export type StoreKind = 'browser' | 'worker' | 'memory';

function itemValue(i: number): Record<string, unknown> {
  return { n: i, colour: COLOURS[i % COLOURS.length], text: `${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]} ${WORDS[(i * 13) % WORDS.length]}` };
}
const namespaceOf = (i: number) => ['bench', `user-${i % 100}`];

let rawDatabase: IDBDatabase | undefined;
async function raw(): Promise<IDBDatabase> {
  // Opened after the store created the database, so it has the store's object stores.
  rawDatabase ??= await openRawDatabase(STORE_DB_NAME);
  return rawDatabase;
}

function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
  });
}

function cosine(query: number[], vector: Float32Array, queryNorm: number, norm: number): number {
  let dot = 0;
  for (let d = 0; d < vector.length; d += 1) dot += vector[d]! * query[d]!;
  return queryNorm && norm ? dot / (queryNorm * norm) : 0;
}

const norm = (vector: ArrayLike<number>) => Math.sqrt(Array.from(vector).reduce((sum, x) => sum + x * x, 0));

/** Every item key (and vector key) whose namespace starts with `bench`. */
const benchRange = () => IDBKeyRange.bound([['bench']], [['bench', []]], false, true);

let runs = 0;

async function timePerOperation(operations: number, body: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await body();
  return (performance.now() - start) / operations;
}

export const storeHarness = {
  /** Puts `count` items into the stores that keep them (the worker's store shares the page's database). */
  async fillStores(count: number): Promise<number> {
    const puts = Array.from({ length: count }, (_, i) => ({ namespace: namespaceOf(i), key: `item-${i}`, value: itemValue(i) }));
    await stores.browser.batch(puts);
    await stores.memory.batch(puts);
    return (await stores.browser.search(['bench'], { limit: count + 1 })).length;
  },

  /** `count` puts, each awaited, of new items with their vectors. */
  async storePut(kind: StoreKind, count: number): Promise<number> {
    const run = (runs += 1);
    return timePerOperation(count, async () => {
      for (let i = 0; i < count; i += 1) await stores[kind].put(['put', `run-${run}`], `item-${i}`, itemValue(i));
    });
  },

  /** The records a store put writes (the item, its vector, its namespace's count), one transaction each, embedding first. */
  async rawPut(count: number): Promise<number> {
    const db = await raw();
    const run = (runs += 1);
    const namespace = ['put-raw', `run-${run}`];
    return timePerOperation(count, async () => {
      for (let i = 0; i < count; i += 1) {
        const value = itemValue(i);
        const [vector] = await embeddings.embedDocuments([value['text'] as string]);
        const stored = Float32Array.from(vector!);
        const now = Date.now();
        const tx = db.transaction(['items', 'vectors', 'namespaces'], 'readwrite');
        const item: ItemRecord = { namespace, key: `item-${i}`, value, createdAt: now, updatedAt: now };
        tx.objectStore('items').put(item);
        const record: VectorRecord = { namespace, key: `item-${i}`, field: 'text', vector: stored, norm: norm(stored) };
        tx.objectStore('vectors').put(record);
        const counted: NamespaceRecord = { namespace, items: i + 1 };
        tx.objectStore('namespaces').put(counted);
        tx.commit();
        await committed(tx);
      }
    });
  },

  async storeGet(kind: StoreKind, count: number): Promise<number> {
    return timePerOperation(count, async () => {
      for (let i = 0; i < count; i += 1) {
        const n = (i * 97) % 10_000;
        await stores[kind].get(namespaceOf(n), `item-${n}`);
      }
    });
  },

  async rawGet(count: number): Promise<number> {
    const db = await raw();
    return timePerOperation(count, async () => {
      for (let i = 0; i < count; i += 1) {
        const n = (i * 97) % 10_000;
        await requestResult(db.transaction('items', 'readonly').objectStore('items').get([namespaceOf(n), `item-${n}`]));
      }
    });
  },

  /** A filtered search over all 10,000 items, first page of 10. */
  async storeFilteredSearch(kind: StoreKind, count: number): Promise<number> {
    return timePerOperation(count, async () => {
      for (let i = 0; i < count; i += 1) await stores[kind].search(['bench'], { filter: FILTER, limit: 10 });
    });
  },

  /** The same with a cursor over the prefix's key range, stopping at the tenth match. */
  async rawFilteredSearch(count: number): Promise<number> {
    const db = await raw();
    const range = benchRange();
    return timePerOperation(count, async () => {
      for (let i = 0; i < count; i += 1) {
        await new Promise<void>((resolve, reject) => {
          const found: ItemRecord[] = [];
          const request = db.transaction('items', 'readonly').objectStore('items').openCursor(range);
          request.onerror = () => reject(request.error);
          request.onsuccess = () => {
            const cursor = request.result;
            if (!cursor) return resolve();
            const item = cursor.value as ItemRecord;
            if (item.value['colour'] === 'red' && (item.value['n'] as number) >= 5_000 && found.push(item) >= 10) return resolve();
            cursor.continue();
          };
        });
      }
    });
  },

  /** A ranked search over all 10,000 items' vectors, first page of 10. */
  async storeVectorSearch(kind: StoreKind, count: number): Promise<number> {
    return timePerOperation(count, async () => {
      for (let i = 0; i < count; i += 1) await stores[kind].search(['bench'], { query: QUERY, limit: 10 });
    });
  },

  /** The same by hand: embed the query, read every vector under the prefix, rank, read the 10 best items. */
  async rawVectorSearch(count: number): Promise<number> {
    const db = await raw();
    return timePerOperation(count, async () => {
      for (let i = 0; i < count; i += 1) {
        const query = await embeddings.embedQuery(QUERY);
        const queryNorm = norm(query);
        const tx = db.transaction(['items', 'vectors'], 'readonly');
        const vectors = (await requestResult(tx.objectStore('vectors').getAll(benchRange()))) as VectorRecord[];
        const best = vectors
          .map((record) => ({ record, score: cosine(query, record.vector, queryNorm, record.norm) }))
          .sort((a, b) => b.score - a.score)
          .slice(0, 10);
        await Promise.all(best.map(({ record }) => requestResult(tx.objectStore('items').get([record.namespace, record.key]))));
      }
    });
  },
};
