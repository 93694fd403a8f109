/**
 * BrowserStore against LangGraph's InMemoryStore on random batches of operations, seeded so that a failure
 * replays. Each batch goes to both; the results must agree, except where BrowserStore deliberately differs:
 *
 * 1. Order. Unranked search results and namespace lists come in key order (namespace label by label, then
 *    key, by code unit), which IndexedDB serves by index; InMemoryStore uses insertion order and
 *    `localeCompare`. Equal scores of a ranked search also keep key order. The reference is InMemoryStore's
 *    complete answer put in that order, then paged by the same offset and limit.
 * 2. Namespaces without items. InMemoryStore still lists a namespace whose items were all deleted; ours
 *    does not. The reference for a listing is InMemoryStore rebuilt from the items alive before the batch.
 * 3. Stale vectors. InMemoryStore keeps the vectors of deleted items and of fields no longer indexed, so they
 *    can still score; ours replaces an item's vectors on each put and removes them on delete. The reference
 *    for a ranked search is InMemoryStore rebuilt from the live items, each put with its last `index`.
 * 4. Unranked pages of a ranked search. InMemoryStore adds items without vectors after the scored ones but
 *    ignores `offset` for them; ours pages the whole ranked list (in the rebuilt reference, offset is 0).
 * 5. A get in a batch that also puts the same key returns, from InMemoryStore, its item object, which the put
 *    then changes in place; ours returns the item as it was before the batch. The model's reads run first here.
 * Filters here use only what both define the same way; `$exists`, string comparisons and the other
 * differences have their own tests (store-filters.test.ts).
 */
import { InMemoryStore, type Item, type Operation, type SearchItem } from '@langchain/langgraph-checkpoint';
import { compareKeys, compareLabels, seededRandom, useFreshStores, WordCountEmbeddings } from '../support/store-fixtures.js';

const NAMESPACES = [['u'], ['u', 'a'], ['u', 'b'], ['u', 'a', 'x'], ['v'], ['v', 'a']];
const KEYS = ['k0', 'k1', 'k2', 'k3'];
const WORDS = ['tea', 'coffee', 'green', 'black', 'milk', 'sugar', 'cake', 'lemon'];
const COLOURS = ['red', 'green', 'blue'];
const UNLIMITED = 1_000_000;

type Random = () => number;
const pick = <T,>(random: Random, list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
const chance = (random: Random, p: number) => random() < p;
const words = (random: Random, count: number) => Array.from({ length: count }, () => pick(random, WORDS));

function randomValue(random: Random): Record<string, unknown> {
  return {
    ...(chance(random, 0.85) ? { n: Math.floor(random() * 10) } : {}),
    ...(chance(random, 0.8) ? { colour: pick(random, COLOURS) } : {}),
    ...(chance(random, 0.5) ? { done: chance(random, 0.5) } : {}),
    ...(chance(random, 0.9) ? { text: words(random, 1 + Math.floor(random() * 3)).join(' ') } : {}),
    tags: words(random, Math.floor(random() * 3)),
  };
}

function randomFilter(random: Random): Record<string, unknown> | undefined {
  if (chance(random, 0.4)) return undefined;
  const filter: Record<string, unknown> = {};
  const conditions = 1 + Math.floor(random() * 2);
  for (let i = 0; i < conditions; i += 1) {
    const bound = Math.floor(random() * 10);
    switch (Math.floor(random() * 8)) {
      case 0: filter['colour'] = pick(random, COLOURS); break;
      case 1: filter['done'] = chance(random, 0.5); break;
      case 2: filter['n'] = { $gt: bound }; break;
      case 3: filter['n'] = { $gte: bound, $lt: bound + 4 }; break;
      case 4: filter['n'] = { $lte: bound }; break;
      case 5: filter['colour'] = { $ne: pick(random, COLOURS) }; break;
      case 6: filter['colour'] = { $in: [pick(random, COLOURS), pick(random, COLOURS)] }; break;
      default: filter['colour'] = { $nin: [pick(random, COLOURS)] }; break;
    }
  }
  return filter;
}

function randomOperation(random: Random, withQueries: boolean): Operation {
  const namespace = pick(random, NAMESPACES);
  const key = pick(random, KEYS);
  const roll = random();
  if (roll < 0.4) {
    const index = chance(random, 0.7) ? undefined : chance(random, 0.5) ? (false as const) : ['tags[*]'];
    return { namespace, key, value: randomValue(random), ...(index === undefined ? {} : { index }) };
  }
  if (roll < 0.5) return { namespace, key, value: null };
  if (roll < 0.65) return { namespace, key };
  if (roll < 0.9) {
    const prefix = chance(random, 0.2) ? [] : namespace.slice(0, 1 + Math.floor(random() * namespace.length));
    const query = withQueries && chance(random, 0.5) ? words(random, 1 + Math.floor(random() * 2)).join(' ') : undefined;
    return {
      namespacePrefix: prefix,
      filter: randomFilter(random),
      limit: 1 + Math.floor(random() * 5),
      offset: chance(random, 0.6) ? 0 : Math.floor(random() * 3),
      ...(query ? { query } : {}),
    };
  }
  const matchConditions = [];
  if (chance(random, 0.4)) matchConditions.push({ matchType: 'prefix' as const, path: chance(random, 0.3) ? ['*', 'a'] : namespace.slice(0, 1) });
  if (chance(random, 0.3)) matchConditions.push({ matchType: 'suffix' as const, path: [pick(random, ['a', 'b', 'x', '*'])] });
  return {
    matchConditions: matchConditions.length > 0 ? matchConditions : undefined,
    ...(chance(random, 0.4) ? { maxDepth: 1 + Math.floor(random() * 2) } : {}),
    limit: 1 + Math.floor(random() * 6),
    offset: chance(random, 0.7) ? 0 : Math.floor(random() * 2),
  };
}

const identity = (item: { namespace: string[]; key: string }) => JSON.stringify([item.namespace, item.key]);
const plain = (item: Item) => ({ namespace: [...item.namespace], key: item.key, value: item.value, createdAt: item.createdAt, updatedAt: item.updatedAt });

/** Rebuilds an InMemoryStore from live items, each put with its last `index` (no stale vectors, no dead namespaces). */
async function rebuild(live: Item[], indexes: Map<string, false | string[] | undefined>, embeddings?: WordCountEmbeddings) {
  const rebuilt = new InMemoryStore(embeddings ? { index: { dims: embeddings.dims, embeddings, fields: ['text'] } } : undefined);
  const index = (item: Item) => indexes.get(identity(item));
  await rebuilt.batch(live.map((item) => ({ namespace: item.namespace, key: item.key, value: item.value, ...(index(item) === undefined ? {} : { index: index(item) }) })));
  return rebuilt;
}

async function runSequence(seed: number, store: ReturnType<ReturnType<typeof useFreshStores>>, withIndex: boolean, embeddings?: WordCountEmbeddings) {
  const random = seededRandom(seed);
  const model = new InMemoryStore(embeddings ? { index: { dims: embeddings.dims, embeddings, fields: ['text'] } } : undefined);
  const indexes = new Map<string, false | string[] | undefined>();
  let compared = 0;
  for (let step = 0; step < 40; step += 1) {
    vi.setSystemTime(Date.UTC(2026, 0, 1) + step * 1000);
    const batch = Array.from({ length: 1 + Math.floor(random() * 4) }, () => randomOperation(random, withIndex));
    const where = `seed ${seed}, step ${step}: ${JSON.stringify(batch)}`;
    // The model answers complete lists (offset 0, no limit) from the state before the batch, plus every live item.
    // Its reads run on their own and are copied at once: a get hands out InMemoryStore's own item, which a put
    // later in the same batch would change in place (difference 5).
    const reads = batch.filter((operation) => !('value' in operation));
    const complete = reads.map((operation) => ('limit' in operation ? { ...operation, limit: UNLIMITED, offset: 0 } : operation));
    const answers: unknown[] = structuredClone(await model.batch([...complete, { namespacePrefix: [], limit: UNLIMITED, offset: 0 }]));
    const live = answers.pop() as SearchItem[];
    const modelResults = batch.map((operation) => ('value' in operation ? null : answers.shift()));
    await model.batch(batch.filter((operation) => 'value' in operation));
    const ours: unknown[] = await store.batch(batch);
    let rebuilt: InMemoryStore | undefined;
    for (const [i, operation] of batch.entries()) {
      const actual = ours[i];
      if ('value' in operation) {
        expect(actual, where).toBeNull();
        indexes.set(identity(operation), operation.index);
      } else if ('namespacePrefix' in operation) {
        const { offset = 0, limit = 10 } = operation;
        let expected: SearchItem[];
        if (operation.query) {
          rebuilt ??= await rebuild(live, indexes, embeddings);
          const ranked = (await rebuilt.batch([{ ...operation, limit: UNLIMITED, offset: 0 }]))[0] as SearchItem[];
          const createdAt = new Map(live.map((item) => [identity(item), item]));
          expected = ranked
            .map((item) => ({ ...plain(createdAt.get(identity(item))!), ...(item.score === undefined ? {} : { score: item.score }) }))
            .sort((a, b) => (b.score ?? -Infinity) - (a.score ?? -Infinity) || compareKeys(a, b));
        } else {
          expected = (modelResults[i] as SearchItem[]).map(plain).sort(compareKeys);
        }
        expect((actual as SearchItem[]).map((item) => ({ ...plain(item), ...(item.score === undefined ? {} : { score: item.score }) })), where).toEqual(
          expected.slice(offset, offset + limit),
        );
      } else if ('key' in operation) {
        const expected = modelResults[i] as Item | null;
        expect(actual === null ? null : plain(actual as Item), where).toEqual(expected === null ? null : plain(expected));
      } else {
        rebuilt ??= await rebuild(live, indexes, embeddings);
        const [namespaces] = await rebuilt.batch([{ ...operation, limit: UNLIMITED, offset: 0 }]);
        const { offset = 0, limit } = operation;
        expect(actual, where).toEqual((namespaces as string[][]).sort(compareLabels).slice(offset, offset + limit));
      }
      compared += 1;
    }
  }
  return compared;
}

describe('BrowserStore against InMemoryStore on random batches', () => {
  const freshStore = useFreshStores('differential');
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each([1, 2, 3, 4])('agrees without an index (seed %i)', async (seed) => {
    const compared = await runSequence(seed, freshStore(), false);
    expect(compared).toBeGreaterThan(60);
  });

  it.each([11, 12, 13, 14])('agrees with an index and ranked queries (seed %i)', async (seed) => {
    const embeddings = new WordCountEmbeddings(8);
    const store = freshStore({ index: { dims: 8, embeddings, fields: ['text'] } });
    const compared = await runSequence(seed, store, true, embeddings);
    expect(compared).toBeGreaterThan(60);
  });
});
