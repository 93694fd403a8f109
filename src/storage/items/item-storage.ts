import type { IDBPDatabase, IDBPTransaction } from 'idb';
import { CheckpointError } from '../../errors.js';
import { ChangeBroadcaster } from '../changes.js';
import { LazyConnection } from '../connection.js';
import { deleteDatabase } from '../database.js';
import { prefixRange } from '../requests.js';
import { compileFilter, type ItemFilter } from './filter.js';
import { ITEM_LAYOUT, ITEM_STORE_NAMES, type ItemRecord, type ItemSchema } from './records.js';

/** An item as reads return it. */
export interface StoredItem {
  namespace: string[];
  key: string;
  value: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  /** When it expires (ms since the epoch), for items put with a TTL. */
  expiresAt?: number;
}

/** What a committed batch or sweep changed, posted on the database's change channel (see `subscribeToChanges`). */
export interface ItemChange {
  kind: 'put' | 'delete' | 'expire';
  namespace: string[];
  key: string;
}

/** A search result: `score` is the best cosine similarity of the item's vectors to the query's, when ranked. */
export interface ScoredItem extends StoredItem {
  score?: number;
}

/** `'*'` in a namespace pattern matches any one label. */
export const ANY_LABEL = '*';

export type ItemRead =
  | { kind: 'get'; namespace: string[]; key: string; refreshTtl: boolean }
  | {
      kind: 'search';
      prefix: string[];
      filter?: ItemFilter;
      limit: number;
      offset: number;
      /** Keeps items whose text holds every word of it (case-insensitive); results keep key order. */
      text?: string;
      /** Ranks items by the cosine similarity of their vectors to it; items without vectors come last. */
      vector?: number[];
      refreshTtl: boolean;
    }
  | { kind: 'namespaces'; prefix?: string[]; suffix?: string[]; maxDepth?: number; limit: number; offset: number };

export type ItemReadResult = StoredItem | null | ScoredItem[] | string[][];

/** Stores (`value` an object) or deletes (`value` null) one item; `vectors` replace all the item had. */
export interface ItemWrite {
  namespace: string[];
  key: string;
  value: Record<string, unknown> | null;
  /** Minutes until the item expires; absent: never. */
  ttlMinutes?: number;
  vectors: { field: string; vector: number[] }[];
}

/** Reads and writes run in one transaction: every read sees the state before the writes, which apply in order. */
export interface ItemBatch {
  reads: ItemRead[];
  writes: ItemWrite[];
}

/** Where items live: IndexedDB in this context, or a worker's. */
export interface ItemStorage {
  readonly dbName: string;
  execute(batch: ItemBatch): Promise<ItemReadResult[]>;
  /** Deletes every expired item and its vectors now; resolves with how many. */
  sweepExpired(): Promise<number>;
  close(): Promise<void>;
}

export type ItemDurability = 'default' | 'strict' | 'relaxed';

type ItemTransaction = IDBPTransaction<ItemSchema, ('items' | 'vectors' | 'namespaces')[], 'readonly' | 'readwrite'>;
type WriteTransaction = IDBPTransaction<ItemSchema, ('items' | 'vectors' | 'namespaces')[], 'readwrite'>;

/** Items read per request when walking a namespace range: enough to amortise a request, few enough to stop early. */
const CHUNK = 256;

/** Every `[namespace, key...]` key whose namespace starts with `prefix`: nested arrays sort after strings. */
function namespacePrefixRange(prefix: string[]): IDBKeyRange {
  return IDBKeyRange.bound([prefix], [[...prefix, []]], false, true);
}

function isExpired(record: ItemRecord, now: number): boolean {
  return record.expiresAt !== undefined && record.expiresAt <= now;
}

function publicItem({ namespace, key, value, createdAt, updatedAt, expiresAt }: ItemRecord): StoredItem {
  return { namespace, key, value, createdAt, updatedAt, ...(expiresAt === undefined ? {} : { expiresAt }) };
}

function sameLabels(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((label, i) => label === b[i]);
}

function matchesPattern(labels: readonly string[], pattern: readonly string[]): boolean {
  return pattern.every((label, i) => label === ANY_LABEL || label === labels[i]);
}

function euclideanNorm(vector: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < vector.length; i += 1) sum += vector[i]! * vector[i]!;
  return Math.sqrt(sum);
}

/** The words an item's text search looks in: its string, number and boolean leaves. */
function leafText(value: unknown, into: string[]): string[] {
  if (typeof value === 'string') into.push(value.toLowerCase());
  else if (typeof value === 'number' || typeof value === 'boolean') into.push(String(value));
  else if (Array.isArray(value)) for (const item of value) leafText(item, into);
  else if (typeof value === 'object' && value !== null) for (const item of Object.values(value)) leafText(item, into);
  return into;
}

function textMatcher(text: string | undefined): (value: Record<string, unknown>) => boolean {
  const words = text?.toLowerCase().split(/\s+/).filter((word) => word !== '') ?? [];
  if (words.length === 0) return () => true;
  return (value) => {
    const haystack = leafText(value, []).join('\n');
    return words.every((word) => haystack.includes(word));
  };
}

/** Walks the items under a namespace prefix in key order, a chunk per request. */
async function* itemsUnder(transaction: ItemTransaction, prefix: string[]): AsyncGenerator<ItemRecord> {
  const store = transaction.objectStore('items');
  const full = namespacePrefixRange(prefix);
  let range = full;
  for (;;) {
    const chunk = await store.getAll(range, CHUNK);
    yield* chunk;
    if (chunk.length < CHUNK) return;
    const last = chunk[chunk.length - 1]!;
    range = IDBKeyRange.bound([last.namespace, last.key], full.upper, true, true);
  }
}

/** `ItemStorage` on one IndexedDB database of its own, opened on first use. */
export class IndexedDBItemStorage implements ItemStorage {
  readonly dbName: string;
  readonly durability: ItemDurability;
  readonly #connection: LazyConnection<ItemSchema>;
  readonly #changes: ChangeBroadcaster<ItemChange>;

  constructor(options: { dbName: string; durability: ItemDurability }) {
    this.dbName = options.dbName;
    this.durability = options.durability;
    this.#connection = new LazyConnection(options.dbName, ITEM_LAYOUT, 'store');
    this.#changes = new ChangeBroadcaster<ItemChange>(options.dbName);
  }

  static deleteDatabase(dbName: string): Promise<void> {
    return deleteDatabase(dbName);
  }

  async execute(batch: ItemBatch): Promise<ItemReadResult[]> {
    // Filters fail before any transaction opens.
    const filters = batch.reads.map((read) => (read.kind === 'search' ? compileFilter(read.filter) : undefined));
    for (const { ttlMinutes } of batch.writes) {
      if (ttlMinutes !== undefined && !(typeof ttlMinutes === 'number' && ttlMinutes > 0)) {
        throw new CheckpointError('INVALID_CONFIG', `ttl must be a positive number of minutes, got ${String(ttlMinutes)}.`);
      }
    }
    const writing = batch.writes.length > 0 || batch.reads.some((read) => read.kind === 'namespaces' || ('refreshTtl' in read && read.refreshTtl));
    return await this.#connection.run('Running a store batch', async (db) => {
      const now = Date.now();
      if (!writing) {
        const transaction = db.transaction(['items', 'vectors'], 'readonly') as unknown as ItemTransaction;
        const results = await this.#read(transaction, batch.reads, filters, now, []);
        await transaction.done;
        return results;
      }
      const transaction = this.#writeTransaction(db);
      return abortOnError(transaction, async () => {
        const counts = new NamespaceCounts();
        // A listing needs the sweep (and the counts it changed) before it reads; otherwise the sweep goes with
        // the writes' own reads. Other reads skip expired items either way.
        const listing = batch.reads.some((read) => read.kind === 'namespaces');
        const expired = listing ? await sweep(transaction, now, counts) : [];
        if (listing) await counts.store(transaction);
        const refreshed: ItemRecord[] = [];
        const results = await this.#read(transaction, batch.reads, filters, now, refreshed);
        const itemStore = transaction.objectStore('items');
        for (const record of refreshed) queue(itemStore.put({ ...record, expiresAt: now + record.ttlMinutes! * 60_000 }));
        expired.push(...(await applyWrites(transaction, batch.writes, now, counts, !listing)));
        await counts.store(transaction);
        await transaction.done;
        this.#changes.post([
          ...expired,
          ...batch.writes.map(({ namespace, key, value }): ItemChange => ({ kind: value === null ? 'delete' : 'put', namespace, key })),
        ]);
        return results;
      });
    });
  }

  sweepExpired(): Promise<number> {
    return this.#connection.run('Sweeping expired items', async (db) => {
      const transaction = this.#writeTransaction(db);
      return abortOnError(transaction, async () => {
        const counts = new NamespaceCounts();
        const expired = await sweep(transaction, Date.now(), counts);
        await counts.store(transaction);
        await transaction.done;
        this.#changes.post(expired);
        return expired.length;
      });
    });
  }

  close(): Promise<void> {
    this.#changes.close();
    return this.#connection.close();
  }

  #writeTransaction(db: IDBPDatabase<ItemSchema>): WriteTransaction {
    return db.transaction([...ITEM_STORE_NAMES], 'readwrite', { durability: this.durability });
  }

  async #read(
    transaction: ItemTransaction,
    reads: ItemRead[],
    filters: (((value: Record<string, unknown>) => boolean) | undefined)[],
    now: number,
    refreshed: ItemRecord[],
  ): Promise<ItemReadResult[]> {
    const results: ItemReadResult[] = [];
    for (const [i, read] of reads.entries()) {
      if (read.kind === 'get') {
        const record = await transaction.objectStore('items').get([read.namespace, read.key]);
        const live = record && !isExpired(record, now) ? record : undefined;
        if (live?.ttlMinutes !== undefined && read.refreshTtl) refreshed.push(live);
        results.push(live ? publicItem(live) : null);
      } else if (read.kind === 'search') {
        const found = await search(transaction, read, filters[i]!, now);
        if (read.refreshTtl) refreshed.push(...found.records.filter((record) => record.ttlMinutes !== undefined));
        results.push(found.items);
      } else {
        results.push(await listNamespaces(transaction as WriteTransaction, read));
      }
    }
    return results;
  }
}

/** Runs `body` in `transaction`, which it aborts if `body` fails, so that nothing of a failed batch is stored. */
async function abortOnError<T>(transaction: WriteTransaction, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    try {
      transaction.abort();
    } catch {
      // Already finished or aborted by the failure itself.
    }
    transaction.done.catch(() => undefined);
    throw error;
  }
}

async function search(
  transaction: ItemTransaction,
  read: Extract<ItemRead, { kind: 'search' }>,
  filter: (value: Record<string, unknown>) => boolean,
  now: number,
): Promise<{ items: ScoredItem[]; records: ItemRecord[] }> {
  const matchesText = textMatcher(read.text);
  const accepts = (record: ItemRecord) => !isExpired(record, now) && filter(record.value) && matchesText(record.value);
  const entries = read.vector ? ranked(transaction, read, read.vector, accepts) : unranked(transaction, read.prefix, accepts);
  const page: { record: ItemRecord; score?: number }[] = [];
  let skipped = 0;
  if (read.limit > 0) {
    for await (const entry of entries) {
      if (skipped < read.offset) skipped += 1;
      else if (page.push(entry) >= read.limit) break;
    }
  }
  return {
    items: page.map(({ record, score }) => ({ ...publicItem(record), ...(score === undefined ? {} : { score }) })),
    records: page.map(({ record }) => record),
  };
}

async function* unranked(transaction: ItemTransaction, prefix: string[], accepts: (record: ItemRecord) => boolean) {
  for await (const record of itemsUnder(transaction, prefix)) if (accepts(record)) yield { record };
}

const idOf = ({ namespace, key }: { namespace: string[]; key: string }) => JSON.stringify([namespace, key]);

/**
 * Accepted items by the best cosine similarity of their vectors to `query`, equal scores in key order, then the
 * items without vectors in key order. Without a filter or text to check, items are read only as far as the page
 * needs them, best first; otherwise every item under the prefix is read once to check them.
 */
async function* ranked(
  transaction: ItemTransaction,
  read: Extract<ItemRead, { kind: 'search' }>,
  query: number[],
  accepts: (record: ItemRecord) => boolean,
): AsyncGenerator<{ record: ItemRecord; score?: number }> {
  const queryNorm = euclideanNorm(query);
  const scores = new Map<string, { namespace: string[]; key: string; score: number }>();
  for (const { namespace, key, vector, norm } of await transaction.objectStore('vectors').getAll(namespacePrefixRange(read.prefix))) {
    let dot = 0;
    for (let d = 0; d < vector.length; d += 1) dot += vector[d]! * query[d]!;
    const score = queryNorm && norm ? dot / (queryNorm * norm) : 0;
    const id = idOf({ namespace, key });
    const best = scores.get(id);
    if (!best) scores.set(id, { namespace, key, score });
    else if (score > best.score) best.score = score;
  }
  // Stable: vectors come in key order, so equal scores keep it.
  const order = [...scores.values()].sort((a, b) => b.score - a.score);
  if (read.filter === undefined && !read.text) {
    const items = transaction.objectStore('items');
    const slice = Math.max(16, read.offset + read.limit);
    for (let start = 0; start < order.length; start += slice) {
      const next = order.slice(start, start + slice);
      const records = await Promise.all(next.map(({ namespace, key }) => items.get([namespace, key])));
      for (const [i, record] of records.entries()) if (record && accepts(record)) yield { record, score: next[i]!.score };
    }
    for await (const record of itemsUnder(transaction, read.prefix)) if (!scores.has(idOf(record)) && accepts(record)) yield { record };
    return;
  }
  const accepted = new Map<string, ItemRecord>();
  for await (const record of itemsUnder(transaction, read.prefix)) if (accepts(record)) accepted.set(idOf(record), record);
  for (const { namespace, key, score } of order) {
    const record = accepted.get(idOf({ namespace, key }));
    if (record) yield { record, score };
  }
  for (const [id, record] of accepted) if (!scores.has(id)) yield { record };
}

async function listNamespaces(
  transaction: WriteTransaction,
  read: Extract<ItemRead, { kind: 'namespaces' }>,
): Promise<string[][]> {
  const prefix = read.prefix ?? [];
  const wildcard = prefix.indexOf(ANY_LABEL);
  const literal = wildcard === -1 ? prefix : prefix.slice(0, wildcard);
  const records = await transaction.objectStore('namespaces').getAll(prefixRange(literal));
  const listed: string[][] = [];
  for (const { namespace, items } of records) {
    if (items <= 0 || namespace.length < prefix.length || !matchesPattern(namespace, prefix)) continue;
    const suffix = read.suffix ?? [];
    if (namespace.length < suffix.length || !matchesPattern(namespace.slice(namespace.length - suffix.length), suffix)) continue;
    const shown = read.maxDepth === undefined ? namespace : namespace.slice(0, read.maxDepth);
    // Namespaces come in key order, so the ones a depth limit makes equal are neighbours.
    const previous = listed[listed.length - 1];
    if (!previous || !sameLabels(previous, shown)) listed.push(shown);
  }
  return listed.slice(read.offset, read.offset + read.limit);
}

/**
 * Queues a request of the transaction without waiting for its answer: requests run in the order they were made,
 * and a failure aborts the transaction, which `transaction.done` reports. Waiting for each answer would cost a
 * round trip per request.
 */
function queue(request: Promise<unknown>): void {
  request.catch(() => undefined);
}

/** Changes to the item count of each namespace within one transaction, stored in one round trip. */
class NamespaceCounts {
  readonly #deltas = new Map<string, { namespace: string[]; delta: number }>();
  /** Counts already read in this transaction, so that storing needs no second read. */
  readonly #known = new Map<string, number>();

  add(namespace: string[], delta: number): void {
    const id = JSON.stringify(namespace);
    const entry = this.#deltas.get(id) ?? { namespace, delta: 0 };
    entry.delta += delta;
    this.#deltas.set(id, entry);
  }

  know(namespace: string[], items: number): void {
    this.#known.set(JSON.stringify(namespace), items);
  }

  async store(transaction: WriteTransaction): Promise<void> {
    const namespaces = transaction.objectStore('namespaces');
    const changed = [...this.#deltas.entries()].filter(([, { delta }]) => delta !== 0);
    this.#deltas.clear();
    const current = await Promise.all(
      changed.map(async ([id, { namespace }]) => this.#known.get(id) ?? (await namespaces.get(namespace))?.items ?? 0),
    );
    changed.forEach(([id, { namespace, delta }], i) => {
      const items = current[i]! + delta;
      this.#known.set(id, items);
      queue(items > 0 ? namespaces.put({ namespace, items }) : namespaces.delete(namespace));
    });
  }
}

function expiredBy(transaction: WriteTransaction, now: number): Promise<ItemRecord[]> {
  return transaction.objectStore('items').index('by_expiry').getAll(IDBKeyRange.upperBound(now));
}

/** Queues the deletion of expired items and their vectors; returns what it deletes. */
function deleteExpired(transaction: WriteTransaction, expired: ItemRecord[], counts: NamespaceCounts): ItemChange[] {
  for (const record of expired) {
    queue(transaction.objectStore('items').delete([record.namespace, record.key]));
    queue(transaction.objectStore('vectors').delete(prefixRange([record.namespace, record.key])));
    counts.add(record.namespace, -1);
  }
  return expired.map(({ namespace, key }) => ({ kind: 'expire', namespace, key }));
}

/** Deletes every item expired by `now`, with its vectors; resolves with what it deleted. */
async function sweep(transaction: WriteTransaction, now: number, counts: NamespaceCounts): Promise<ItemChange[]> {
  return deleteExpired(transaction, await expiredBy(transaction, now), counts);
}

/**
 * Applies the last write of each key. One round trip reads what they replace and their namespaces' counts (and,
 * with `sweepToo`, the expired items, deleted first); then every request is queued. An expired item a write
 * replaces counts as absent: the sweep of this transaction, now or earlier, deletes it.
 */
async function applyWrites(
  transaction: WriteTransaction,
  allWrites: ItemWrite[],
  now: number,
  counts: NamespaceCounts,
  sweepToo: boolean,
): Promise<ItemChange[]> {
  const writes = [...new Map(allWrites.map((write) => [JSON.stringify([write.namespace, write.key]), write])).values()];
  const items = transaction.objectStore('items');
  const vectors = transaction.objectStore('vectors');
  const namespaces = [...new Map(writes.map(({ namespace }) => [JSON.stringify(namespace), namespace])).values()];
  const [expired, existing, known] = await Promise.all([
    sweepToo ? expiredBy(transaction, now) : [],
    Promise.all(writes.map((write) => items.get([write.namespace, write.key]))),
    Promise.all(namespaces.map((namespace) => transaction.objectStore('namespaces').get(namespace))),
  ]);
  namespaces.forEach((namespace, i) => counts.know(namespace, known[i]?.items ?? 0));
  const swept = deleteExpired(transaction, expired, counts);
  writes.forEach((write, i) => {
    const previous = existing[i];
    const live = previous && !isExpired(previous, now) ? previous : undefined;
    queue(vectors.delete(prefixRange([write.namespace, write.key])));
    if (write.value === null) {
      if (!live) return;
      queue(items.delete([write.namespace, write.key]));
      counts.add(write.namespace, -1);
      return;
    }
    const record: ItemRecord = {
      namespace: write.namespace,
      key: write.key,
      value: write.value,
      createdAt: live ? live.createdAt : now,
      updatedAt: now,
      ...(write.ttlMinutes === undefined ? {} : { expiresAt: now + write.ttlMinutes * 60_000, ttlMinutes: write.ttlMinutes }),
    };
    queue(items.put(record));
    if (!live) counts.add(write.namespace, 1);
    for (const { field, vector } of write.vectors) {
      const stored = Float32Array.from(vector);
      queue(vectors.put({ namespace: write.namespace, key: write.key, field, vector: stored, norm: euclideanNorm(stored) }));
    }
  });
  return swept;
}
