import type { RunnableConfig } from '@langchain/core/runnables';
import {
  BaseCheckpointSaver,
  TASKS,
  WRITES_IDX_MAP,
  compareWritesSortKeys,
  maxChannelVersion,
  writesSortKey,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointPendingWrite,
  type CheckpointTuple,
  type DeltaChannelHistory,
  type PendingWrite,
  type SerializerProtocol,
} from '@langchain/langgraph-checkpoint';
import { cipherOf, isEncrypted, type EncryptionOptions, type ValueCipher } from '../encryption/cipher.js';
import { CheckpointError, closedError } from '../errors.js';
import { withThreadLock } from '../runtime/thread-lock.js';
import { subscribeToChanges, type ChangeListener } from '../storage/changes.js';
import type { ChannelValue, CheckpointQuery, CheckpointStorage, SlicedItem, StoredTuple, WriteOperation } from '../storage/storage.js';
import { checkpointWithRecordFields, isInlineValue, metadataWithRecordFields, withoutCopiedFields, type BlobRecord, type ChannelVersion, type CheckpointRecord, type TypedBytes, type WriteRecord } from '../storage/records.js';
import { decode, encode } from './codec.js';
import { CheckpointChanges, clearFieldsOf, decodeMetadata, encodeEntries, ordinaryRecord } from './checkpoint-changes.js';
import { ListCodec, listOf, type PlannedList } from './list-codec.js';
import { namespaceOf, optionalId, requireId, requireString } from './config.js';
import { isPlainObject, partOf, WriteSources, type ReadSource } from './write-sources.js';

/** `list` options: LangGraph's, plus paging forward and a step range. */
export interface ListOptions extends CheckpointListOptions {
  /** Only checkpoints newer than this one (ids strictly greater): pages forward in time. */
  after?: RunnableConfig;
  /** Only checkpoints whose `metadata.step` lies in this inclusive range. */
  step?: { gte?: number; lte?: number };
}

/** How many checkpoint records one list transaction reads at most. */
const LIST_PAGE_SIZE = 64;

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  return (
    aKeys.length === bKeys.length &&
    aKeys.every((key) => deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
  );
}

function matchesFilter(metadata: Record<string, unknown>, filter: Record<string, unknown>): boolean {
  return Object.entries(filter).every(([key, value]) => deepEqual(metadata[key], value));
}

/** Values are rebuilt into plain objects keyed by channel: a channel named `__proto__` would replace a prototype. */
function checkChannelName(channel: string, action: string): void {
  if (channel === '__proto__') {
    throw new CheckpointError('INVALID_CONFIG', `${action}: the channel name "__proto__" is reserved; rename the channel.`);
  }
}

/**
 * The channels whose value at this checkpoint LangGraph rebuilds from its ancestors' writes (`DeltaChannel`):
 * those it counts since their last snapshot.
 */
function deltaChannelsOf(metadata: CheckpointMetadata | undefined): string[] {
  const counters = (metadata as { counters_since_delta_snapshot?: unknown } | undefined)?.counters_since_delta_snapshot;
  return typeof counters === 'object' && counters !== null ? Object.keys(counters) : [];
}

function checkStepRange(step: ListOptions['step']): void {
  if (step === undefined) return;
  for (const bound of ['gte', 'lte'] as const) {
    const value = step[bound];
    if (value !== undefined && (typeof value !== 'number' || Number.isNaN(value))) {
      throw new CheckpointError('INVALID_CONFIG', `list: options.step.${bound} must be a number, got ${typeof value}.`);
    }
  }
}

export interface SaverOptions {
  /** Serializer for checkpoints, metadata and writes; LangGraph's JSON-plus serializer by default. */
  serde?: SerializerProtocol;
  /**
   * Retention: keep at most this many of the newest checkpoints per namespace of each thread, deleting older ones
   * (every few puts, so a thread may briefly hold a few more). History older than that is gone for good.
   */
  maxCheckpointsPerThread?: number;
  /**
   * Encryption at rest: checkpoints, metadata, channel values (list items too) and pending writes are encrypted
   * with this AES-GCM key on this side, before storage sees them; ids, channel names and versions, step and
   * source stay in clear for the indexes. Records written in clear still read; encrypted ones need the key.
   */
  encryption?: EncryptionOptions;
}

/**
 * The LangGraph contract on top of a `CheckpointStorage`: configs are checked, values serialized with
 * `serde` on this side, and each call is one storage transaction. `BrowserSaver` and `WorkerSaver`
 * differ only in where their storage runs.
 */
export abstract class StoredCheckpointSaver extends BaseCheckpointSaver {
  protected readonly storage: CheckpointStorage;
  /** Settles once every write called so far has been handed to storage. */
  #handOffs: Promise<void> = Promise.resolve();
  /** Calls under way: `close()` waits for them. */
  readonly #calls = new Set<Promise<unknown>>();
  /** Set by the first `close()`. */
  #closing: Promise<void> | undefined;
  /** The IndexedDB database the checkpoints live in. */
  readonly dbName: string;

  /** Keep at most this many checkpoints per namespace of each thread; see `SaverOptions`. */
  readonly maxCheckpointsPerThread: number | undefined;
  /** Puts per thread since its last prune: pruning every few puts keeps its cost small per put. */
  readonly #putsSincePrune = new Map<string, number>();
  /** How array values are stored as lists of items, building on the list before. */
  readonly #lists = new ListCodec();
  /** The record of each thread's latest put, which the next one may be stored as a change against. */
  readonly #changes = new CheckpointChanges();
  /** The values of each thread's latest put, which its tasks' writes may be parts of. */
  readonly #writeSources = new WriteSources();
  /** Seals values before they are stored and opens them when read; absent without `encryption`. */
  readonly #cipher: ValueCipher | undefined;
  /** Threads whose newest stored checkpoint this saver's key opened (or that were empty): see `checkKey`. */
  readonly #keyCheckedThreads = new Set<string>();

  protected constructor(storage: CheckpointStorage, dbName: string, options: SaverOptions = {}) {
    super(options.serde);
    this.storage = storage;
    this.dbName = dbName;
    const max = options.maxCheckpointsPerThread;
    if (max !== undefined && !(Number.isInteger(max) && max >= 1)) {
      throw new CheckpointError('INVALID_CONFIG', `maxCheckpointsPerThread must be a whole number of at least 1, got ${JSON.stringify(max)}.`);
    }
    this.maxCheckpointsPerThread = max;
    this.#cipher = cipherOf(options.encryption);
  }

  /** Whether this saver encrypts what it stores. */
  get encrypted(): boolean {
    return this.#cipher !== undefined;
  }

  /**
   * Stored typed bytes in clear: opened with this saver's key when encrypted (`DECRYPT` when it has none, or
   * another), as they are otherwise. The devtools use it to show the values of an encrypted saver.
   */
  async decryptStored(stored: TypedBytes, what = 'a stored value'): Promise<TypedBytes> {
    if (!isEncrypted(stored)) return stored;
    if (!this.#cipher) throw new CheckpointError('DECRYPT', `${what[0]!.toUpperCase()}${what.slice(1)} is encrypted, and this saver has no key.`);
    return this.#cipher.open(stored, what);
  }

  /**
   * Typed bytes as this saver stores them: sealed with its key when it encrypts, as they are otherwise. Sync stores
   * pulled values with it, so that an encrypted database never holds them in clear.
   */
  async encryptForStorage(typed: TypedBytes): Promise<TypedBytes> {
    return this.#cipher && !isEncrypted(typed) ? this.#cipher.seal(typed) : typed;
  }

  /**
   * A record read from storage as records were stored before schema 5, everything serialized: what sync sends, so
   * that the server and other devices see ordinary checkpoints.
   */
  ordinaryRecord(record: CheckpointRecord): Promise<CheckpointRecord> {
    return ordinaryRecord(this.serde, record);
  }

  /**
   * Before its first write to a thread, an encrypting saver opens the thread's newest stored checkpoint: a saver
   * given the wrong key then fails with `DECRYPT` and stores nothing, instead of adding records to the thread that
   * its right key could not read. Sync checks so before it stores pulled records in a thread.
   */
  async checkKey(thread_id: string): Promise<void> {
    const cipher = this.#cipher;
    if (!cipher || this.#keyCheckedThreads.has(thread_id)) return;
    const [newest] = (await this.storage.listCheckpoints({ thread_id }, 1)).records;
    if (newest && isEncrypted(newest.metadata)) {
      await cipher.open(newest.metadata, `checkpoint ${newest.checkpoint_id} of thread "${thread_id}", the newest stored,`);
    }
    this.#keyCheckedThreads.add(thread_id);
  }

  /**
   * Deletes all but the newest `keepLatest` checkpoints of each namespace of the threads (every thread when
   * `threadIds` is absent), with their writes and the values no kept checkpoint names. By default the ancestors
   * of kept checkpoints stay too, so only abandoned branches go; `keepAncestors: false` cuts history to exactly
   * `keepLatest`. Resolves with how many checkpoints were deleted.
   *
   * A prune stays in this database. With `everywhere: true`, and once this database syncs (`startSync`), the
   * checkpoints it deleted are deleted on the server and on every other device too, and never come back; one kept
   * elsewhere that needs them to read back (a branch this database did not hold) keeps them there.
   */
  async prune(options: { threadIds?: string[]; keepLatest: number; keepAncestors?: boolean; everywhere?: boolean }): Promise<number> {
    const { threadIds, keepLatest, keepAncestors = true, everywhere = false } = options ?? {};
    if (!(Number.isInteger(keepLatest) && keepLatest >= 1)) {
      throw new CheckpointError('INVALID_CONFIG', `prune: keepLatest must be a whole number of at least 1, got ${JSON.stringify(keepLatest)} (deleteThread removes a whole thread).`);
    }
    if (threadIds !== undefined && !(Array.isArray(threadIds) && threadIds.every((id) => typeof id === 'string' && id !== ''))) {
      throw new CheckpointError('INVALID_CONFIG', 'prune: threadIds must be an array of non-empty strings.');
    }
    if (typeof everywhere !== 'boolean') throw new CheckpointError('INVALID_CONFIG', `prune: everywhere must be true or false, got ${JSON.stringify(everywhere)}.`);
    return this.#guard(async () => {
      await this.#handOffs;
      return this.storage.prune(threadIds, { keepLatest, keepAncestors, journal: everywhere });
    });
  }

  /** Copies every checkpoint, value and pending write of a thread under a new, unused thread id. */
  async copyThread(fromThreadId: string, toThreadId: string): Promise<number> {
    const from = requireString(fromThreadId, 'fromThreadId', 'copyThread');
    const to = requireString(toThreadId, 'toThreadId', 'copyThread');
    if (from === to) throw new CheckpointError('INVALID_CONFIG', 'copyThread: the source and target thread ids are the same.');
    return this.#guard(async () => {
      await this.#handOffs;
      return this.storage.copyThread(from, to);
    });
  }

  /**
   * Runs `body` holding the lock of one thread of this database, across every tab and worker of the origin
   * (Web Locks): two tabs that run the same conversation take turns instead of interleaving their checkpoints.
   */
  withThreadLock<T>(threadId: string, body: () => Promise<T> | T): Promise<T> {
    return withThreadLock(this.dbName, requireString(threadId, 'threadId', 'withThreadLock'), body);
  }

  /** After a put: prunes the thread every few puts, when `maxCheckpointsPerThread` is set. */
  async #retain(thread_id: string, checkpoint_id: string): Promise<void> {
    const max = this.maxCheckpointsPerThread;
    if (max === undefined) return;
    const puts = (this.#putsSincePrune.get(thread_id) ?? 0) + 1;
    if (puts < Math.max(1, Math.ceil(max / 4))) {
      this.#putsSincePrune.set(thread_id, puts);
      return;
    }
    this.#putsSincePrune.delete(thread_id);
    try {
      await this.storage.prune([thread_id], { keepLatest: max, keepAncestors: false });
    } catch (error) {
      const cause = error instanceof CheckpointError ? error : undefined;
      throw new CheckpointError(cause?.code ?? 'STORAGE', `Checkpoint ${checkpoint_id} was stored, but pruning thread "${thread_id}" to ${max} checkpoints failed: ${String((error as Error)?.message ?? error)}`, { cause: error });
    }
  }

  /**
   * Calls `listener` after every commit to this database, by this saver or by any other tab, worker or saver of
   * the origin. Returns the function that stops listening.
   */
  subscribe(listener: ChangeListener): () => void {
    return subscribeToChanges(this.dbName, listener);
  }

  /**
   * Channel versions are numbers as LangGraph expects, with a random fraction: blobs are keyed by
   * (channel, version), and two branches forked from one checkpoint would otherwise both write version n + 1
   * of a channel, and the later would overwrite the other's value.
   */
  override getNextVersion(current: number | undefined): number {
    const whole = typeof current === 'number' && Number.isFinite(current) ? Math.floor(current) : 0;
    return whole + 1 + Math.random();
  }

  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const action = 'getTuple';
    const threadId = config.configurable?.['thread_id'];
    if (threadId === undefined) return undefined;
    const thread_id = requireId(config, 'thread_id', action);
    const checkpoint_ns = namespaceOf(config, action);
    const checkpoint_id = optionalId(config, 'checkpoint_id', action);
    return this.#guard(async () => {
      await this.#handOffs;
      const stored = await this.storage.getTuple(thread_id, checkpoint_ns, checkpoint_id);
      // The checkpoint a graph loads is the one its next checkpoint builds on: its lists are remembered.
      return stored ? this.#toTuple(stored, undefined, true) : undefined;
    });
  }

  /**
   * The writes and seed that rebuild `DeltaChannel` values at a checkpoint, read in one storage transaction that
   * walks the parent chain through checkpoint records and decodes only the writes of the channels asked for.
   * Returns what the base class's walk (one `getTuple` per ancestor) returns.
   */
  override async getDeltaChannelHistory(options: { config: RunnableConfig; channels: string[] }): Promise<Record<string, DeltaChannelHistory>> {
    const action = 'getDeltaChannelHistory';
    const { config, channels } = options ?? {};
    if (!Array.isArray(channels) || !channels.every((channel) => typeof channel === 'string')) {
      throw new CheckpointError('INVALID_CONFIG', `${action}: channels must be an array of channel names.`);
    }
    const empty = () => Object.fromEntries(channels.map((channel): [string, DeltaChannelHistory] => [channel, { writes: [] }]));
    if (channels.length === 0) return {};
    if (config?.configurable?.['thread_id'] === undefined) return empty();
    const thread_id = requireId(config, 'thread_id', action);
    const checkpoint_ns = namespaceOf(config, action);
    const checkpoint_id = optionalId(config, 'checkpoint_id', action);
    return this.#guard(async () => {
      await this.#handOffs;
      const history = await this.storage.deltaHistory(thread_id, checkpoint_ns, checkpoint_id, channels);
      const result: Record<string, DeltaChannelHistory> = {};
      await Promise.all(
        channels.map(async (channel) => {
          const seed = history.seeds[channel];
          const oldest = seed ? seed.ancestor : history.ancestors.length - 1;
          // Oldest ancestor first; within one, in the order live execution applied them.
          const ancestors = history.ancestors.slice(0, oldest + 1);
          const blocks = await Promise.all(ancestors.map((ancestor) => this.#decodeWrites(ancestor.writes.filter((write) => write.channel === channel), undefined, ancestor.sources)));
          const entry: DeltaChannelHistory = { writes: [...blocks].reverse().flatMap((block) => block.map(({ pending }) => pending)) };
          // The channel's next snapshot holds these very objects: its items may be slices of their bytes.
          if (!this.#cipher) {
            const read = ancestors.map(({ checkpoint_id }, i) => ({ checkpoint_id, writes: blocks[i]!.map(({ read: source }) => source) }));
            this.#writeSources.rememberHistory(thread_id, checkpoint_ns, checkpoint_id, channel, read, seed?.value.version);
          }
          if (seed) {
            const { checkpoint_id: at } = history.ancestors[seed.ancestor]!;
            // Remembered: the channel's next snapshot refers to the seed's items rather than storing them again.
            entry.seed = await this.#lists.decode(this.serde, { thread_id, checkpoint_ns }, at, seed.value, `channel "${channel}" of checkpoint ${at}`, true, this.#cipher);
          }
          result[channel] = entry;
        }),
      );
      return result;
    });
  }

  async *list(config: RunnableConfig, options: ListOptions = {}): AsyncGenerator<CheckpointTuple> {
    const action = 'list';
    const { filter, step } = options;
    let remaining = options.limit;
    if (remaining !== undefined && (typeof remaining !== 'number' || Number.isNaN(remaining))) {
      throw new CheckpointError('INVALID_CONFIG', `list: options.limit must be a number, got ${typeof remaining}.`);
    }
    checkStepRange(step);
    const query: CheckpointQuery = {};
    const threadId = optionalId(config, 'thread_id', action);
    if (threadId !== undefined) query.thread_id = threadId;
    if (config.configurable?.['checkpoint_ns'] !== undefined) query.checkpoint_ns = namespaceOf(config, action);
    const checkpointId = optionalId(config, 'checkpoint_id', action);
    if (checkpointId !== undefined) query.checkpoint_id = checkpointId;
    const before = optionalId(options.before, 'checkpoint_id', 'list (options.before)');
    if (before !== undefined) query.before = before;
    const after = optionalId(options.after, 'checkpoint_id', 'list (options.after)');
    if (after !== undefined) query.after = after;
    if (step !== undefined) query.step = step;

    await this.#guard(() => this.#handOffs);
    let resume: IDBValidKey | undefined;
    do {
      if (remaining !== undefined && remaining <= 0) return;
      const pageSize = filter || remaining === undefined ? LIST_PAGE_SIZE : Math.min(remaining, LIST_PAGE_SIZE);
      let tuples: StoredTuple[];
      let metadata: (Record<string, unknown> | undefined)[] = [];
      if (filter) {
        // Metadata is decoded here, so the page's records are filtered before their values are read.
        const page = await this.#guard(() => this.storage.listCheckpoints(query, pageSize, resume));
        resume = page.resume;
        const decoded = await Promise.all(page.records.map((record) => this.#metadataOf(record)));
        const kept = page.records.filter((_, i) => matchesFilter(decoded[i]!, filter)).slice(0, remaining);
        // Read again with their values: one deleted in between (a prune, a deleteThread) is left out.
        tuples = await this.#guard(() => this.storage.loadTuples(kept));
        const metadataById = new Map(page.records.map((record, i) => [record.checkpoint_id + '\u0000' + record.checkpoint_ns, decoded[i]]));
        metadata = tuples.map(({ checkpoint: record }) => metadataById.get(record.checkpoint_id + '\u0000' + record.checkpoint_ns));
      } else {
        // Without a filter, one transaction reads the page with its values and writes.
        const page = await this.#guard(() => this.storage.listTuples(query, pageSize, resume));
        resume = page.resume;
        tuples = page.tuples.slice(0, remaining);
      }
      if (remaining !== undefined) remaining -= tuples.length;
      for (const [i, tuple] of tuples.entries()) {
        yield await this.#toTuple(tuple, metadata[i]);
      }
    } while (resume !== undefined);
  }

  async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    const action = 'put';
    const thread_id = requireId(config, 'thread_id', action);
    const checkpoint_ns = namespaceOf(config, action);
    const parent = optionalId(config, 'checkpoint_id', action);
    if (typeof checkpoint !== 'object' || checkpoint === null) {
      throw new CheckpointError('INVALID_CONFIG', 'put: the checkpoint must be an object.');
    }
    const checkpoint_id = requireString(checkpoint.id, 'checkpoint.id', action);
    const versions = checkpoint.channel_versions ?? {};
    if (newVersions !== undefined && (typeof newVersions !== 'object' || newVersions === null || Array.isArray(newVersions))) {
      throw new CheckpointError('INVALID_CONFIG', `put: newVersions must be an object of channel versions, got ${typeof newVersions}.`);
    }
    // Without newVersions (a direct caller, a wrapper, a migration script) every versioned channel is stored, as
    // MemorySaver stores them; LangGraph's loop passes only the channels that changed.
    const stored = newVersions ?? versions;
    for (const [channel, version] of Object.entries({ ...versions, ...newVersions })) {
      checkChannelName(channel, action);
      if (!(typeof version === 'string' || (typeof version === 'number' && Number.isFinite(version)))) {
        throw new CheckpointError(
          'INVALID_CONFIG',
          `put: the version of channel "${channel}" must be a finite number or a string, got ${typeof version}.`,
        );
      }
    }
    return this.#guard(async () => {
      try {
        await this.#put(thread_id, checkpoint_ns, checkpoint_id, parent, checkpoint, metadata, stored);
      } catch (error) {
        this.#lists.forgetThread(thread_id);
        this.#writeSources.forgetThread(thread_id);
        this.#changes.forgetThread(thread_id);
        throw error;
      }
      await this.#retain(thread_id, checkpoint_id);
      return { configurable: { thread_id, checkpoint_ns, checkpoint_id } };
    });
  }

  /** Serializes a checkpoint and the values of the channels in `stored`, and hands them to storage. */
  #put(
    thread_id: string,
    checkpoint_ns: string,
    checkpoint_id: string,
    parent: string | undefined,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    stored: ChannelVersions,
  ): Promise<void> {
    const { channel_values: values = {}, channel_versions: versions = {}, ...rest } = checkpoint;
    const deltaChannels = deltaChannelsOf(metadata);
    // Lists are planned now, in call order, so that the next put can build on this one before it is stored.
    const planned = new Map<string, PlannedList>();
    for (const channel of Object.keys(versions)) {
      const scope = { thread_id, checkpoint_ns, channel };
      const list = listOf(values[channel]);
      if (!Object.prototype.hasOwnProperty.call(stored, channel)) this.#lists.carry(scope, parent, checkpoint_id);
      else if (list) planned.set(channel, this.#lists.plan(scope, parent, checkpoint_id, stored[channel]!, list));
      // A channel rebuilt from writes (no value at this version) keeps its last list for its next snapshot.
      else if (Object.prototype.hasOwnProperty.call(values, channel)) this.#lists.forget(scope);
    }
    const cipher = this.#cipher;
    // In call order too: the next put may be stored as a change against this one. A parent it did not store last is
    // read once every write called before is handed to storage.
    const handedOff = this.#handOffs;
    const change = this.#changes.begin(thread_id, checkpoint_ns, checkpoint_id, parent, async () => {
      await handedOff;
      return (await this.storage.getTuple(thread_id, checkpoint_ns, parent))?.checkpoint;
    });
    // Found now, in call order, among what was stored since each channel's value was last stored; encrypted items
    // are never slices, whose spans and inserted bytes would be in clear.
    const sliceSources = new Map(
      cipher
        ? []
        : [...planned].map(([channel, list]) => {
            const sourceOf = list.newItems.length > 0 ? this.#writeSources.sliceSourcesFor(thread_id, checkpoint_ns, parent, channel) : undefined;
            return [channel, list.newItems.map((item) => sourceOf?.(item))] as const;
          }),
    );
    // The bytes of the values stored whole, once serialized: the next checkpoint's list items may be slices of them.
    const wholeBytes = new Map<string, TypedBytes>();
    let settleValues!: () => void;
    const valuesSerialized = new Promise<void>((resolve) => (settleValues = resolve));
    this.#writeSources.remember(
      thread_id,
      checkpoint_ns,
      { id: checkpoint_id, parentId: parent, versions, rebuilds: deltaChannels },
      Object.entries(stored).flatMap(([channel, version]) => (Object.prototype.hasOwnProperty.call(values, channel) ? [[channel, version, values[channel]] as [string, ChannelVersion, unknown]] : [])),
      cipher ? undefined : (channel) => valuesSerialized.then(() => wholeBytes.get(channel)),
    );
    const prepare = async (): Promise<WriteOperation> => {
      await this.checkKey(thread_id);
      const copied = { checkpoint_id, v: checkpoint.v, ...(typeof metadata?.step === 'number' ? { step: metadata.step } : {}), ...(typeof metadata?.source === 'string' ? { source: metadata.source } : {}) };
      // Metadata that is no object (a direct caller's) is stored as it is.
      const isObject = typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata);
      const serialized = withoutCopiedFields(rest, isObject ? metadata : {}, copied);
      // Not encrypted, `ts`, `versions_seen` and the metadata's entries are held in clear, which changes are made of.
      const clear = cipher ? undefined : clearFieldsOf(serialized.checkpoint, isObject ? serialized.metadata : metadata);
      const slicedItems: SlicedItem[] = [];
      const [checkpointBytes, metadataBytes, metadataEntries, changed, unchanged] = await Promise.all([
        encode(this.serde, clear ? clear.checkpoint : serialized.checkpoint, `checkpoint ${checkpoint_id}`, cipher),
        encode(this.serde, clear ? {} : isObject ? serialized.metadata : metadata, `the metadata of checkpoint ${checkpoint_id}`, cipher),
        clear && encodeEntries(this.serde, clear.metadata, `the metadata of checkpoint ${checkpoint_id}`),
        // A channel without a value at its new version gets no blob: reads find none and leave it out.
        Promise.all(
          Object.entries(stored)
            .filter(([channel]) => Object.prototype.hasOwnProperty.call(values, channel))
            .map(async ([channel, version]): Promise<{ blob: BlobRecord; sliced?: { item: number; bytes: TypedBytes }[] }> => {
              const what = `channel "${channel}" of checkpoint ${checkpoint_id}`;
              const list = planned.get(channel);
              if (list) {
                const encoded = await this.#lists.encode(this.serde, list, what, cipher, sliceSources.get(channel));
                return { blob: { thread_id, checkpoint_ns, channel, version, value: null, list: encoded.list }, sliced: encoded.sliced };
              }
              const value = await encode(this.serde, values[channel], what, cipher);
              // A copy: the WorkerSaver transfers the stored bytes to its worker.
              if (!cipher && isPlainObject(values[channel])) wholeBytes.set(channel, { type: value.type, bytes: value.bytes.slice() });
              return { blob: { thread_id, checkpoint_ns, channel, version, value } };
            }),
        ),
        // The small values the parent's record holds for channels this put did not change: this record holds them too.
        change.kept(versions),
      ]);
      const inline: Record<string, TypedBytes> = {};
      const blobs: BlobRecord[] = [];
      for (const [channel, value] of Object.entries(unchanged)) {
        // Encrypted records hold no values: those of a parent stored in clear become values of their own, sealed.
        if (cipher) blobs.push({ thread_id, checkpoint_ns, channel, version: versions[channel]!, value: await cipher.seal(value) });
        else inline[channel] = value;
      }
      for (const { blob, sliced = [] } of changed) {
        if (!cipher && blob.value !== null && isInlineValue(blob.value)) inline[blob.channel] = blob.value;
        else {
          for (const { item, bytes } of sliced) slicedItems.push({ blob: blobs.length, item, bytes });
          blobs.push(blob);
        }
      }
      const record: CheckpointRecord = {
        thread_id,
        checkpoint_ns,
        checkpoint_id,
        v: checkpoint.v,
        channel_versions: { ...versions },
        checkpoint: checkpointBytes,
        metadata: metadataBytes,
      };
      if (parent !== undefined) record.parent_checkpoint_id = parent;
      if (copied.step !== undefined) record.step = copied.step;
      if (copied.source !== undefined) record.source = copied.source;
      if (deltaChannels.length > 0) record.delta_channels = deltaChannels;
      if (clear && metadataEntries) Object.assign(record, { ts: clear.ts, versions_seen: clear.versions_seen, metadata_entries: metadataEntries, depth: 0 });
      if (Object.keys(inline).length > 0) record.values = inline;
      const storedRecord = await change.store(record);
      return slicedItems.length > 0 ? { kind: 'checkpoint', checkpoint: storedRecord, blobs, slicedItems } : { kind: 'checkpoint', checkpoint: storedRecord, blobs };
    };
    return this.#submit(async () => {
      try {
        return await prepare();
      } finally {
        settleValues();
        change.fail();
      }
    });
  }

  async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath = ''): Promise<void> {
    const action = 'putWrites';
    const thread_id = requireId(config, 'thread_id', action);
    const checkpoint_id = requireId(config, 'checkpoint_id', action);
    const checkpoint_ns = namespaceOf(config, action);
    const task_id = requireString(taskId, 'taskId', action);
    if (typeof taskPath !== 'string') {
      throw new CheckpointError('INVALID_CONFIG', `putWrites: taskPath must be a string, got ${typeof taskPath}.`);
    }
    if (!Array.isArray(writes)) {
      throw new CheckpointError('INVALID_CONFIG', 'putWrites: writes must be an array of [channel, value] pairs.');
    }
    for (const [position, write] of writes.entries()) {
      if (!Array.isArray(write) || typeof write[0] !== 'string') {
        throw new CheckpointError('INVALID_CONFIG', `putWrites: write ${position} is not a [channel, value] pair.`);
      }
      checkChannelName(write[0], action);
    }
    if (writes.length === 0) return;
    // Found now, while the values are the objects that were put.
    const sources = writes.map(([channel, value]) => (channel === TASKS ? undefined : this.#writeSources.find(thread_id, checkpoint_ns, checkpoint_id, value)));
    const idxOf = (channel: string, position: number) =>
      // Own keys only: a channel named like an Object.prototype member ("constructor") is a regular write.
      Object.prototype.hasOwnProperty.call(WRITES_IDX_MAP, channel) ? WRITES_IDX_MAP[channel]! : position;
    const cipher = this.#cipher;
    const prepared = new Map<number, TypedBytes>();
    let settleWrites!: () => void;
    const writesSerialized = new Promise<void>((resolve) => (settleWrites = resolve));
    // Regular writes stored whole (not parts of a value) may hold the next checkpoint's new list items.
    if (!cipher) {
      this.#writeSources.rememberWrites(
        thread_id,
        checkpoint_ns,
        checkpoint_id,
        writes.flatMap(([channel, value], position) =>
          channel === TASKS || sources[position] || idxOf(channel, position) < 0
            ? []
            : [{ task_id, idx: idxOf(channel, position), value, bytes: writesSerialized.then(() => prepared.get(position)) }],
        ),
      );
    }
    const prepare = async (): Promise<WriteOperation> => {
      await this.checkKey(thread_id);
      const records = await Promise.all(
        writes.map(async ([channel, value], position): Promise<WriteRecord> => {
          const what = `the write to "${channel}" of task ${task_id}`;
          const source = sources[position];
          const record: WriteRecord = {
            thread_id,
            checkpoint_ns,
            checkpoint_id,
            task_id,
            idx: idxOf(channel, position),
            channel,
            value: await encode(this.serde, source ? source.key : value, what, cipher),
            task_path: taskPath,
          };
          if (source) record.of = source.of;
          // A copy: the WorkerSaver transfers the stored bytes to its worker.
          else if (!cipher) prepared.set(position, { type: record.value.type, bytes: record.value.bytes.slice() });
          return record;
        }),
      );
      return { kind: 'writes', writes: records };
    };
    await this.#guard(() =>
      this.#submit(async () => {
        try {
          return await prepare();
        } finally {
          settleWrites();
        }
      }).catch((error: unknown) => {
        // What the next checkpoint's list items would be slices of may not be stored.
        this.#writeSources.forgetThread(thread_id);
        throw error;
      }),
    );
  }

  async deleteThread(threadId: string): Promise<void> {
    const thread_id = requireString(threadId, 'threadId', 'deleteThread');
    // A later write of the thread is stored whole: the values and records it could build on are gone.
    this.#writeSources.forgetThread(thread_id);
    this.#changes.forgetThread(thread_id);
    await this.#guard(() => this.#submit(async () => ({ kind: 'delete', thread_id })));
  }

  /**
   * Hands write operations to storage in the order they were called, while their values serialize in
   * parallel; reads wait for the hand-offs before them. So a call sees every write made before it, even one
   * not awaited, and a later write never overtakes an earlier one.
   */
  #submit(prepare: () => Promise<WriteOperation>): Promise<void> {
    const prepared = prepare();
    let committed: Promise<void> | undefined;
    const handedOff = this.#handOffs.then(async () => {
      committed = this.storage.write(await prepared);
    });
    this.#handOffs = handedOff.catch(() => undefined);
    return handedOff.then(() => committed);
  }

  /** Runs a call so that `close()` waits for it; once closing, rejects with `CLOSED` instead. */
  #guard<T>(call: () => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(closedError(this.dbName));
    const running = call();
    this.#calls.add(running);
    const done = () => this.#calls.delete(running);
    running.then(done, done);
    return running;
  }

  /**
   * Resolves once every write called before it (awaited or not) is committed. With `WorkerSaver`'s ack
   * `'queued'` it rejects with the queued writes that failed and were not reported yet.
   */
  flush(): Promise<void> {
    return this.#guard(async () => {
      await this.#handOffs;
      await this.storage.flush();
    });
  }

  /**
   * Waits for every call made before it (writes committed, reads answered), then closes the database
   * connection; calls made from now on reject with code `CLOSED`.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#calls]);
      await this.storage.close();
    })();
    return this.#closing;
  }

  async #metadataOf(record: CheckpointRecord): Promise<Record<string, unknown>> {
    return metadataWithRecordFields(record, (await decodeMetadata(this.serde, record, `the metadata of checkpoint ${record.checkpoint_id}`, this.#cipher)) as Record<string, unknown>);
  }

  async #toTuple(stored: StoredTuple, metadata?: Record<string, unknown>, rememberLists = false): Promise<CheckpointTuple> {
    const { checkpoint: record } = stored;
    const { thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id } = record;
    const label = `checkpoint ${checkpoint_id}`;
    const channel_values: Record<string, unknown> = {};
    const [rest, decodedMetadata, pendingWrites] = await Promise.all([
      decode<Omit<Checkpoint, 'channel_values' | 'channel_versions'>>(this.serde, record.checkpoint, label, this.#cipher).then((decoded) => checkpointWithRecordFields(record, decoded)),
      metadata ?? this.#metadataOf(record),
      this.#decodeWrites(stored.writes, undefined, stored.values).then((decoded) => {
        // The checkpoint a graph builds on next: its pending writes and values make the next checkpoint's lists.
        if (rememberLists && !this.#cipher) {
          this.#writeSources.rememberRead(
            thread_id,
            checkpoint_ns,
            { id: checkpoint_id, parentId: parent_checkpoint_id, valued: stored.values.map(({ channel, version }) => [channel, version]), rebuilds: record.delta_channels ?? [] },
            decoded.flatMap(({ pending: [, channel], read }) => (channel === TASKS || (read.of.write && read.of.write[2] < 0) ? [] : [read])),
          );
        }
        return decoded.map(({ pending }) => pending);
      }),
      ...stored.values.map(async (value) => {
        channel_values[value.channel] = await this.#lists.decode(
          this.serde,
          record,
          checkpoint_id,
          value,
          `channel "${value.channel}" of ${label}`,
          rememberLists,
          this.#cipher,
        );
      }),
    ]);
    const checkpoint: Checkpoint = { ...rest, channel_values, channel_versions: { ...record.channel_versions } };
    if (stored.parentSends) {
      // Checkpoints before format 4 kept pending sends as writes of their parent.
      const sends = await this.#decodeWrites(stored.parentSends, (a, b) =>
        compareWritesSortKeys(writesSortKey('', a.task_id, a.idx), writesSortKey('', b.task_id, b.idx)),
      );
      checkpoint.channel_values[TASKS] = sends.map(({ pending: [, , value] }) => value);
      const versions = Object.values(checkpoint.channel_versions);
      checkpoint.channel_versions[TASKS] = versions.length > 0 ? maxChannelVersion(...versions) : this.getNextVersion(undefined);
    }
    const tuple: CheckpointTuple = {
      config: { configurable: { thread_id, checkpoint_ns, checkpoint_id } },
      checkpoint,
      metadata: decodedMetadata as CheckpointMetadata,
      pendingWrites,
    };
    if (parent_checkpoint_id !== undefined) {
      tuple.parentConfig = { configurable: { thread_id, checkpoint_ns, checkpoint_id: parent_checkpoint_id } };
    }
    return tuple;
  }

  /**
   * Pending writes in the order live execution applies them: (task path, task id, idx), each with the stored bytes
   * it was decoded from. A write stored as a part of a value of its checkpoint takes it from `sources`, decoded
   * again for each write.
   */
  #decodeWrites(
    writes: WriteRecord[],
    order: (a: WriteRecord, b: WriteRecord) => number = (a, b) =>
      compareWritesSortKeys(writesSortKey(a.task_path, a.task_id, a.idx), writesSortKey(b.task_path, b.task_id, b.idx)),
    sources: ChannelValue[] = [],
  ): Promise<{ pending: CheckpointPendingWrite; read: ReadSource }[]> {
    return Promise.all(
      [...writes].sort(order).map(async (write) => {
        const what = `the write to "${write.channel}" of task ${write.task_id}`;
        const value = await decode(this.serde, write.value, what, this.#cipher);
        if (!write.of) {
          const read: ReadSource = { of: { write: [write.checkpoint_id, write.task_id, write.idx] }, value, bytes: write.value };
          return { pending: [write.task_id, write.channel, value] as CheckpointPendingWrite, read };
        }
        const { channel, version } = write.of;
        const source = sources.find((stored) => stored.channel === channel && stored.version === version);
        if (!source || !('value' in source)) {
          throw new CheckpointError('DESERIALIZE', `${what} is stored as a part of channel "${channel}" at version ${String(version)}, which is not stored: the database is corrupt.`);
        }
        const part = partOf(await decode(this.serde, source.value, what, this.#cipher), value, what);
        return { pending: [write.task_id, write.channel, part] as CheckpointPendingWrite, read: { of: { blob: [channel, version] }, value: part, bytes: source.value } };
      }),
    );
  }
}
