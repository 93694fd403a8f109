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
  type PendingWrite,
  type SerializerProtocol,
} from '@langchain/langgraph-checkpoint';
import { CheckpointError } from '../errors.js';
import { withThreadLock } from '../runtime/thread-lock.js';
import { subscribeToChanges, type ChangeListener } from '../storage/changes.js';
import type { CheckpointQuery, CheckpointStorage, StoredTuple, WriteOperation } from '../storage/checkpoint-store.js';
import type { BlobRecord, CheckpointRecord, WriteRecord } from '../storage/records.js';
import { decode, encode } from './codec.js';
import { namespaceOf, optionalId, requireId, requireString } from './config.js';

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
  /** The IndexedDB database the checkpoints live in. */
  readonly dbName: string;

  /** Keep at most this many checkpoints per namespace of each thread; see `SaverOptions`. */
  readonly maxCheckpointsPerThread: number | undefined;
  /** Puts per thread since its last prune: pruning every few puts keeps its cost small per put. */
  readonly #putsSincePrune = new Map<string, number>();

  protected constructor(storage: CheckpointStorage, dbName: string, options: SaverOptions = {}) {
    super(options.serde);
    this.storage = storage;
    this.dbName = dbName;
    const max = options.maxCheckpointsPerThread;
    if (max !== undefined && !(Number.isInteger(max) && max >= 1)) {
      throw new CheckpointError('INVALID_CONFIG', `maxCheckpointsPerThread must be a whole number of at least 1, got ${JSON.stringify(max)}.`);
    }
    this.maxCheckpointsPerThread = max;
  }

  /**
   * Deletes all but the newest `keepLatest` checkpoints of each namespace of the threads (every thread when
   * `threadIds` is absent), with their writes and the values no kept checkpoint names. By default the ancestors
   * of kept checkpoints stay too, so only abandoned branches go; `keepAncestors: false` cuts history to exactly
   * `keepLatest`. Resolves with how many checkpoints were deleted.
   */
  async prune(options: { threadIds?: string[]; keepLatest: number; keepAncestors?: boolean }): Promise<number> {
    const { threadIds, keepLatest, keepAncestors = true } = options ?? {};
    if (!(Number.isInteger(keepLatest) && keepLatest >= 1)) {
      throw new CheckpointError('INVALID_CONFIG', `prune: keepLatest must be a whole number of at least 1, got ${JSON.stringify(keepLatest)} (deleteThread removes a whole thread).`);
    }
    if (threadIds !== undefined && !(Array.isArray(threadIds) && threadIds.every((id) => typeof id === 'string' && id !== ''))) {
      throw new CheckpointError('INVALID_CONFIG', 'prune: threadIds must be an array of non-empty strings.');
    }
    await this.#handOffs;
    return this.storage.prune(threadIds, { keepLatest, keepAncestors });
  }

  /** Copies every checkpoint, value and pending write of a thread under a new, unused thread id. */
  async copyThread(fromThreadId: string, toThreadId: string): Promise<number> {
    const from = requireString(fromThreadId, 'fromThreadId', 'copyThread');
    const to = requireString(toThreadId, 'toThreadId', 'copyThread');
    if (from === to) throw new CheckpointError('INVALID_CONFIG', 'copyThread: the source and target thread ids are the same.');
    await this.#handOffs;
    return this.storage.copyThread(from, to);
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
    await this.#handOffs;
    const stored = await this.storage.getTuple(thread_id, checkpoint_ns, checkpoint_id);
    return stored ? this.#toTuple(stored) : undefined;
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

    await this.#handOffs;
    let resume: IDBValidKey | undefined;
    do {
      if (remaining !== undefined && remaining <= 0) return;
      const pageSize = filter || remaining === undefined ? LIST_PAGE_SIZE : Math.min(remaining, LIST_PAGE_SIZE);
      let tuples: StoredTuple[];
      let metadata: (Record<string, unknown> | undefined)[] = [];
      if (filter) {
        // Metadata is decoded here, so the page's records are filtered before their values are read.
        const page = await this.storage.listCheckpoints(query, pageSize, resume);
        resume = page.resume;
        const decoded = await Promise.all(page.records.map((record) => this.#metadataOf(record)));
        const keep = decoded.map((entry) => matchesFilter(entry, filter));
        metadata = decoded.filter((_, i) => keep[i]);
        tuples = await this.storage.loadTuples(page.records.filter((_, i) => keep[i]).slice(0, remaining));
      } else {
        // Without a filter, one transaction reads the page with its values and writes.
        const page = await this.storage.listTuples(query, pageSize, resume);
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
    const { channel_values: values = {}, channel_versions: versions = {}, ...rest } = checkpoint;
    for (const [channel, version] of Object.entries({ ...versions, ...newVersions })) {
      checkChannelName(channel, action);
      if (!(typeof version === 'string' || (typeof version === 'number' && Number.isFinite(version)))) {
        throw new CheckpointError(
          'INVALID_CONFIG',
          `put: the version of channel "${channel}" must be a finite number or a string, got ${typeof version}.`,
        );
      }
    }
    await this.#submit(async () => {
      const [checkpointBytes, metadataBytes, blobs] = await Promise.all([
        encode(this.serde, rest, `checkpoint ${checkpoint_id}`),
        encode(this.serde, metadata, `the metadata of checkpoint ${checkpoint_id}`),
        Promise.all(
          Object.entries(newVersions ?? {}).map(
            async ([channel, version]): Promise<BlobRecord> => ({
              thread_id,
              checkpoint_ns,
              channel,
              version,
              value: Object.prototype.hasOwnProperty.call(values, channel)
                ? await encode(this.serde, values[channel], `channel "${channel}" of checkpoint ${checkpoint_id}`)
                : null,
            }),
          ),
        ),
      ]);
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
      if (typeof metadata?.step === 'number') record.step = metadata.step;
      if (typeof metadata?.source === 'string') record.source = metadata.source;
      return { kind: 'checkpoint', checkpoint: record, blobs };
    });
    await this.#retain(thread_id, checkpoint_id);
    return { configurable: { thread_id, checkpoint_ns, checkpoint_id } };
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
    await this.#submit(async () => {
      const records = await Promise.all(
        writes.map(async ([channel, value], position): Promise<WriteRecord> => {
          return {
            thread_id,
            checkpoint_ns,
            checkpoint_id,
            task_id,
            idx: WRITES_IDX_MAP[channel] ?? position,
            channel,
            value: await encode(this.serde, value, `the write to "${channel}" of task ${task_id}`),
            task_path: taskPath,
          };
        }),
      );
      return { kind: 'writes', writes: records };
    });
  }

  async deleteThread(threadId: string): Promise<void> {
    const thread_id = requireString(threadId, 'threadId', 'deleteThread');
    await this.#submit(async () => ({ kind: 'delete', thread_id }));
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

  /** Closes the database connection; later calls reject with code `CLOSED`. */
  async close(): Promise<void> {
    await this.storage.close();
  }

  #metadataOf(record: CheckpointRecord): Promise<Record<string, unknown>> {
    return decode(this.serde, record.metadata, `the metadata of checkpoint ${record.checkpoint_id}`);
  }

  async #toTuple(stored: StoredTuple, metadata?: Record<string, unknown>): Promise<CheckpointTuple> {
    const { checkpoint: record } = stored;
    const { thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id } = record;
    const label = `checkpoint ${checkpoint_id}`;
    const channel_values: Record<string, unknown> = {};
    const [rest, decodedMetadata, pendingWrites] = await Promise.all([
      decode<Omit<Checkpoint, 'channel_values' | 'channel_versions'>>(this.serde, record.checkpoint, label),
      metadata ?? this.#metadataOf(record),
      this.#decodeWrites(stored.writes),
      ...stored.blobs.map(async (blob) => {
        if (blob.value) channel_values[blob.channel] = await decode(this.serde, blob.value, `channel "${blob.channel}" of ${label}`);
      }),
    ]);
    const checkpoint: Checkpoint = { ...rest, channel_values, channel_versions: { ...record.channel_versions } };
    if (stored.parentSends) {
      // Checkpoints before format 4 kept pending sends as writes of their parent.
      const sends = await this.#decodeWrites(stored.parentSends, (a, b) =>
        compareWritesSortKeys(writesSortKey('', a.task_id, a.idx), writesSortKey('', b.task_id, b.idx)),
      );
      checkpoint.channel_values[TASKS] = sends.map(([, , value]) => value);
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

  /** Pending writes in the order live execution applies them: (task path, task id, idx). */
  #decodeWrites(
    writes: WriteRecord[],
    order: (a: WriteRecord, b: WriteRecord) => number = (a, b) =>
      compareWritesSortKeys(writesSortKey(a.task_path, a.task_id, a.idx), writesSortKey(b.task_path, b.task_id, b.idx)),
  ): Promise<CheckpointPendingWrite[]> {
    return Promise.all(
      [...writes].sort(order).map(
        async (write): Promise<CheckpointPendingWrite> => [
          write.task_id,
          write.channel,
          await decode(this.serde, write.value, `the write to "${write.channel}" of task ${write.task_id}`),
        ],
      ),
    );
  }
}
