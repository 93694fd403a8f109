import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import {
  BaseStore,
  type GetOperation,
  type Item,
  type ListNamespacesOperation,
  type MatchCondition,
  type Operation,
  type OperationResults,
  type PutOperation,
  type SearchItem,
  type SearchOperation,
} from '@langchain/langgraph-checkpoint';
import { cipherOf, isEncrypted, missingKeyError, type EncryptionOptions, type ValueCipher } from '../encryption/cipher.js';
import { CheckpointError } from '../errors.js';
import { subscribeToChanges } from '../storage/changes.js';
import type { TypedBytes } from '../storage/records.js';
import { compileFilter } from '../storage/items/filter.js';
import { ANY_LABEL, type ItemChange, type ItemRead, type ItemStorage, type ItemWrite, type StoredItem } from '../storage/items/item-storage.js';
import { parseFieldPath, textsToEmbed } from './fields.js';
import { checkCount, checkKey, checkNamespace, checkValue } from './validation.js';

/** Semantic search, as LangGraph's `IndexConfig` defines it: any LangChain embeddings class will do. */
export interface StoreIndexConfig {
  /** Length of the vectors `embeddings` returns; a vector of another length is refused. */
  dims: number;
  embeddings: Pick<EmbeddingsInterface, 'embedDocuments' | 'embedQuery'>;
  /** Paths of the fields to embed, one vector each; default `["$"]`, the whole value as JSON. */
  fields?: string[];
}

/** Expiry of items, in minutes. */
export interface StoreTtlConfig {
  /** TTL of items put without one; default: they never expire. */
  defaultTtl?: number;
  /** Whether `get` and `search` push an item's expiry on by its TTL; default true. */
  refreshOnRead?: boolean;
  /** How often an open store deletes expired items; default: only when it writes (expired items are never returned). */
  sweepIntervalMinutes?: number;
}

/** Encryption of item values: the key, and the top-level fields kept in clear so that filters can read them. */
export interface StoreEncryptionOptions extends EncryptionOptions {
  /** Fields of every value stored in clear beside the encrypted whole: the only ones a search `filter` may name. */
  clearFields?: string[];
}

export interface StoreOptions {
  index?: StoreIndexConfig;
  ttl?: StoreTtlConfig;
  /**
   * Encrypts each item's value on this side before storage sees it. Namespaces, keys, times, `clearFields` and the
   * vectors of `index` (computed from the values) stay in clear.
   */
  encryption?: StoreEncryptionOptions;
}

/** Where an encrypted value sits in the stored value, beside its clear fields. */
const ENCRYPTED_FIELD = '__juncture_encrypted';
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** A put that may carry a TTL in minutes (`null`: never expires, whatever the store's default). */
export type StorePutOperation = PutOperation & { ttl?: number | null };
/** A get or search that may say whether it refreshes the TTL of what it returns. */
export type StoreGetOperation = GetOperation & { refreshTtl?: boolean };
export type StoreSearchOperation = SearchOperation & { refreshTtl?: boolean };

interface PreparedPut {
  write: Omit<ItemWrite, 'vectors'>;
  texts: { field: string; text: string }[];
}

function positiveMinutes(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new CheckpointError('INVALID_CONFIG', `${what} must be a positive number of minutes, got ${JSON.stringify(value) ?? String(value)}.`);
  }
  return value;
}

/** Several namespace patterns that must all hold, as one: `'*'` gives way to a label; two labels must agree. */
function mergePatterns(patterns: string[][], fromEnd: boolean): string[] | undefined | 'none' {
  if (patterns.length === 0) return undefined;
  const length = Math.max(...patterns.map((pattern) => pattern.length));
  const merged = new Array<string>(length).fill(ANY_LABEL);
  for (const pattern of patterns) {
    for (let i = 0; i < pattern.length; i += 1) {
      const at = fromEnd ? length - pattern.length + i : i;
      const label = pattern[i]!;
      if (label === ANY_LABEL) continue;
      if (merged[at] !== ANY_LABEL && merged[at] !== label) return 'none';
      merged[at] = label;
    }
  }
  return merged;
}

function toItem({ namespace, key, value, createdAt, updatedAt }: StoredItem): Item {
  return { namespace, key, value, createdAt: new Date(createdAt), updatedAt: new Date(updatedAt) };
}

/**
 * LangGraph's `BaseStore` over an `ItemStorage`. A batch is checked whole first; embeddings are computed
 * before storage is touched; then its reads and writes run in one transaction, reads first, so that they
 * see the state before the batch's writes, and the last put of a key wins.
 */
export abstract class StoredItemStore extends BaseStore {
  readonly dbName: string;
  readonly #storage: ItemStorage;
  readonly #index: (StoreIndexConfig & { fields: string[] }) | undefined;
  readonly #defaultTtl: number | undefined;
  readonly #refreshOnRead: boolean;
  readonly #sweepEvery: number | undefined;
  readonly #cipher: ValueCipher | undefined;
  readonly #clearFields: ReadonlySet<string>;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  protected constructor(storage: ItemStorage, options: StoreOptions) {
    super();
    this.#storage = storage;
    this.dbName = storage.dbName;
    const { index, ttl } = options;
    if (index !== undefined) {
      if (!Number.isInteger(index.dims) || index.dims <= 0) {
        throw new CheckpointError('INVALID_CONFIG', `index.dims must be a positive integer, got ${JSON.stringify(index.dims)}.`);
      }
      if (typeof index.embeddings?.embedDocuments !== 'function' || typeof index.embeddings.embedQuery !== 'function') {
        throw new CheckpointError('INVALID_CONFIG', 'index.embeddings must have embedDocuments and embedQuery (a LangChain Embeddings).');
      }
      const fields = index.fields ?? ['$'];
      fields.forEach(parseFieldPath);
      this.#index = { ...index, fields };
    }
    this.#defaultTtl = positiveMinutes(ttl?.defaultTtl, 'ttl.defaultTtl');
    this.#sweepEvery = positiveMinutes(ttl?.sweepIntervalMinutes, 'ttl.sweepIntervalMinutes');
    this.#refreshOnRead = ttl ? ttl.refreshOnRead ?? true : false;
    this.#cipher = cipherOf(options.encryption);
    const clearFields = options.encryption?.clearFields ?? [];
    if (!Array.isArray(clearFields) || !clearFields.every((field) => typeof field === 'string' && field !== '' && field !== ENCRYPTED_FIELD)) {
      throw new CheckpointError('INVALID_CONFIG', 'encryption.clearFields must be an array of field names.');
    }
    this.#clearFields = new Set(clearFields);
  }

  /** A value as stored: with a key, its clear fields and the whole value encrypted beside them. */
  async #seal(value: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (!this.#cipher) return value;
    const sealed = await this.#cipher.seal({ type: 'json', bytes: utf8Encoder.encode(JSON.stringify(value)) });
    const clear = Object.fromEntries(Object.entries(value).filter(([field]) => this.#clearFields.has(field)));
    return { ...clear, [ENCRYPTED_FIELD]: sealed };
  }

  /** A stored value in clear: an encrypted one opened (`DECRYPT` without the key it was written with). */
  async #open(item: StoredItem): Promise<StoredItem> {
    const sealed = item.value[ENCRYPTED_FIELD] as TypedBytes | undefined;
    if (!isEncrypted(sealed)) return item;
    const what = `the value of item "${item.key}" in namespace ${JSON.stringify(item.namespace)}`;
    if (!this.#cipher) throw missingKeyError(what);
    const opened = await this.#cipher.open(sealed!, what);
    return { ...item, value: JSON.parse(utf8Decoder.decode(opened.bytes)) as Record<string, unknown> };
  }

  /**
   * Calls `listener` for every item put, deleted or expired on this database, by this store or any other tab,
   * worker or store of the origin. Returns the function that stops listening.
   */
  subscribe(listener: (change: ItemChange) => void): () => void {
    return subscribeToChanges<ItemChange>(this.dbName, listener);
  }

  /** The semantic search configuration, if any. */
  get indexConfig(): StoreIndexConfig | undefined {
    return this.#index;
  }

  async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    if (!Array.isArray(operations)) throw new CheckpointError('INVALID_CONFIG', 'batch takes an array of operations.');
    this.start();
    const results: unknown[] = new Array(operations.length).fill(null);
    const reads: { at: number; read: ItemRead; query?: string }[] = [];
    const puts = new Map<string, PreparedPut>();
    for (const [at, operation] of operations.entries()) {
      if (typeof operation !== 'object' || operation === null) {
        throw new CheckpointError('INVALID_CONFIG', `Operation ${at} of the batch is not an object.`);
      }
      if ('namespacePrefix' in operation) reads.push({ at, ...this.#search(operation) });
      else if ('value' in operation) {
        const put = this.#put(operation);
        puts.set(JSON.stringify([put.write.namespace, put.write.key]), put);
      } else if ('key' in operation) reads.push({ at, read: this.#get(operation) });
      else if ('limit' in operation || 'matchConditions' in operation) reads.push({ at, read: this.#listNamespaces(operation) });
      else throw new CheckpointError('INVALID_CONFIG', `Operation ${at} of the batch is neither a get, a search, a put nor a namespace listing.`);
    }
    const embedded = await this.#embedPuts([...puts.values()]);
    const writes = await Promise.all(embedded.map(async (write) => (write.value === null ? write : { ...write, value: await this.#seal(write.value) })));
    await this.#embedQueries(reads);
    const answers = await this.#storage.execute({ reads: reads.map(({ read }) => read), writes });
    await Promise.all(
      reads.map(async ({ at, read }, i) => {
        const answer = answers[i];
        if (read.kind === 'get') results[at] = answer ? toItem(await this.#open(answer as StoredItem)) : null;
        else if (read.kind === 'search') {
          results[at] = await Promise.all(
            (answer as (StoredItem & { score?: number })[]).map(async ({ score, ...item }): Promise<SearchItem> => ({
              ...toItem(await this.#open(item)),
              ...(score === undefined ? {} : { score }),
            })),
          );
        } else results[at] = answer;
      }),
    );
    return results as OperationResults<Op>;
  }

  #get(operation: StoreGetOperation): ItemRead {
    return {
      kind: 'get',
      namespace: checkNamespace(operation.namespace, 'namespace', { allowReservedRoot: true }),
      key: checkKey(operation.key),
      refreshTtl: operation.refreshTtl ?? this.#refreshOnRead,
    };
  }

  #search(operation: StoreSearchOperation): { read: ItemRead; query?: string } {
    const { query } = operation;
    if (query !== undefined && query !== null && typeof query !== 'string') {
      throw new CheckpointError('INVALID_CONFIG', `A search query must be a string, got ${typeof query}.`);
    }
    compileFilter(operation.filter);
    if (this.#cipher) this.#checkEncryptedSearch(operation, query);
    const read: ItemRead = {
      kind: 'search',
      prefix: checkNamespace(operation.namespacePrefix, 'namespace prefix', { allowEmpty: true, allowReservedRoot: true }),
      ...(operation.filter === undefined || operation.filter === null ? {} : { filter: operation.filter }),
      limit: checkCount(operation.limit, 'limit', 10),
      offset: checkCount(operation.offset, 'offset', 0),
      refreshTtl: operation.refreshTtl ?? this.#refreshOnRead,
    };
    // Without an index a query still narrows the results, by plain text, rather than being ignored.
    if (query && !this.#index) return { read: { ...read, text: query } };
    return query ? { read, query } : { read };
  }

  /** With encryption, storage sees only the clear fields: a search may filter on those alone. */
  #checkEncryptedSearch(operation: StoreSearchOperation, query: string | null | undefined): void {
    const hidden = Object.keys(operation.filter ?? {}).filter((field) => !this.#clearFields.has(field));
    if (hidden.length > 0) {
      throw new CheckpointError(
        'INVALID_CONFIG',
        `search: the filter names ${hidden.map((field) => JSON.stringify(field)).join(', ')}, which the store encrypts; ` +
          'list such fields in encryption.clearFields to filter on them.',
      );
    }
    if (query && !this.#index) {
      throw new CheckpointError('INVALID_CONFIG', 'search: a text query without an index cannot look into encrypted values; give the store an index.');
    }
  }

  #put(operation: StorePutOperation): PreparedPut {
    const namespace = checkNamespace(operation.namespace, 'namespace', { allowReservedRoot: true });
    const key = checkKey(operation.key);
    if (operation.value === null) return { write: { namespace, key, value: null }, texts: [] };
    const value = checkValue(operation.value);
    const { index } = operation;
    if (index !== undefined && index !== null && index !== false && !(Array.isArray(index) && index.every((path) => typeof path === 'string'))) {
      throw new CheckpointError('INVALID_CONFIG', 'A put\'s index must be false or an array of field paths.');
    }
    const ttl = operation.ttl === null ? undefined : positiveMinutes(operation.ttl, 'ttl') ?? this.#defaultTtl;
    const paths = !this.#index || index === false ? [] : index ?? this.#index.fields;
    return {
      write: { namespace, key, value, ...(ttl === undefined ? {} : { ttlMinutes: ttl }) },
      texts: textsToEmbed(value, paths),
    };
  }

  #listNamespaces(operation: ListNamespacesOperation): ItemRead {
    const conditions: MatchCondition[] = operation.matchConditions ?? [];
    const patterns = (type: string) =>
      conditions
        .filter(({ matchType }) => matchType === type)
        .map(({ path }) => checkNamespace(path, `namespace ${type}`, { allowEmpty: true, allowReservedRoot: true }));
    for (const { matchType } of conditions) {
      if (matchType !== 'prefix' && matchType !== 'suffix') {
        throw new CheckpointError('INVALID_CONFIG', `A namespace match type is "prefix" or "suffix", got ${JSON.stringify(matchType)}.`);
      }
    }
    const prefix = mergePatterns(patterns('prefix'), false);
    const suffix = mergePatterns(patterns('suffix'), true);
    const maxDepth = operation.maxDepth === undefined ? undefined : checkCount(operation.maxDepth, 'maxDepth', 0, 1);
    const limit = checkCount(operation.limit, 'limit', Number.MAX_SAFE_INTEGER);
    const offset = checkCount(operation.offset, 'offset', 0);
    // Patterns that contradict each other match nothing: a limit of 0 says so without a special case.
    const none = prefix === 'none' || suffix === 'none';
    return {
      kind: 'namespaces',
      ...(prefix && prefix !== 'none' ? { prefix } : {}),
      ...(suffix && suffix !== 'none' ? { suffix } : {}),
      ...(maxDepth === undefined ? {} : { maxDepth }),
      limit: none ? 0 : limit,
      offset,
    };
  }

  /** Embeds every text of the batch's puts in one call, before any transaction. */
  async #embedPuts(puts: PreparedPut[]): Promise<ItemWrite[]> {
    const texts = [...new Set(puts.flatMap((put) => put.texts.map(({ text }) => text)))];
    const vectors = new Map<string, number[]>();
    if (texts.length > 0) {
      const embedded = await this.#index!.embeddings.embedDocuments(texts);
      texts.forEach((text, i) => vectors.set(text, this.#checkVector(embedded[i], 'embedDocuments')));
    }
    return puts.map(({ write, texts: fields }) => ({
      ...write,
      vectors: fields.map(({ field, text }) => ({ field, vector: vectors.get(text)! })),
    }));
  }

  async #embedQueries(reads: { read: ItemRead; query?: string }[]): Promise<void> {
    const queries = [...new Set(reads.flatMap(({ query }) => (query ? [query] : [])))];
    if (queries.length === 0) return;
    const embedded = await Promise.all(queries.map((query) => this.#index!.embeddings.embedQuery(query)));
    const vectors = new Map(queries.map((query, i) => [query, this.#checkVector(embedded[i], 'embedQuery')]));
    for (const entry of reads) {
      if (entry.query && entry.read.kind === 'search') entry.read = { ...entry.read, vector: vectors.get(entry.query)! };
    }
  }

  #checkVector(vector: unknown, source: string): number[] {
    const dims = this.#index!.dims;
    if (!Array.isArray(vector) || vector.length !== dims || !vector.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw new CheckpointError(
        'INVALID_CONFIG',
        `The embeddings' ${source} returned ${Array.isArray(vector) ? `a vector of ${vector.length} numbers` : typeof vector}; index.dims is ${dims}.`,
      );
    }
    return vector;
  }

  override get(namespace: string[], key: string, options: { refreshTtl?: boolean } = {}): Promise<Item | null> {
    return this.#one<Item | null>({ namespace, key, ...options });
  }

  override search(
    namespacePrefix: string[],
    options: { filter?: Record<string, unknown>; limit?: number; offset?: number; query?: string; refreshTtl?: boolean } = {},
  ): Promise<SearchItem[]> {
    return this.#one<SearchItem[]>({ namespacePrefix, ...options });
  }

  /** Stores `value` under `key`; `options.ttl` in minutes (`null`: never expires), default the store's. */
  override async put(
    namespace: string[],
    key: string,
    value: Record<string, unknown>,
    index?: false | string[],
    options: { ttl?: number | null } = {},
  ): Promise<void> {
    checkNamespace(namespace, 'namespace');
    await this.#one({ namespace, key, value, index, ...options });
  }

  override async delete(namespace: string[], key: string): Promise<void> {
    await this.#one({ namespace, key, value: null });
  }

  override listNamespaces(options: { prefix?: string[]; suffix?: string[]; maxDepth?: number; limit?: number; offset?: number } = {}): Promise<string[][]> {
    const { prefix, suffix, maxDepth, limit = 100, offset = 0 } = options;
    const matchConditions: MatchCondition[] = [
      ...(prefix ? [{ matchType: 'prefix' as const, path: prefix }] : []),
      ...(suffix ? [{ matchType: 'suffix' as const, path: suffix }] : []),
    ];
    return this.#one<string[][]>({ matchConditions, maxDepth, limit, offset });
  }

  async #one<T>(operation: Operation): Promise<T> {
    const [result] = await this.batch([operation]);
    return result as T;
  }

  /** Deletes expired items now; resolves with how many. Expired items are never returned, swept or not. */
  sweepExpiredItems(): Promise<number> {
    return this.#storage.sweepExpired();
  }

  /** Starts the periodic sweep if `ttl.sweepIntervalMinutes` asks for one (the first batch starts it too). */
  override start(): void {
    if (this.#sweepEvery === undefined || this.#sweeper !== undefined || this.#closed) return;
    this.#sweeper = setInterval(() => {
      this.sweepExpiredItems().catch((error: unknown) => console.error('juncture-browser: sweeping expired store items failed', error));
    }, this.#sweepEvery * 60_000);
  }

  /** Stops the periodic sweep; the store stays usable. */
  override stop(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /** Stops the sweep and closes the database connection; calls after it fail with `CLOSED`. */
  async close(): Promise<void> {
    this.#closed = true;
    this.stop();
    await this.#storage.close();
  }
}
