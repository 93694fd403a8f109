/**
 * What a thread's recent checkpoints stored whole, so that what comes next need not serialize it again.
 *
 * Writes stored as a part of a value their checkpoint already stores. LangGraph's input task writes the input's
 * channels (`messages: [...]`) as the very objects that the input checkpoint stores as its `__start__` value
 * (`{ messages: [...] }`) one call before: such a write is stored as where to find it, not serialized again.
 *
 * Matched by identity, as lists match their items (`list-codec.ts`): the value is the object that was serialized
 * with the checkpoint, and nothing changes the input between the checkpoint's `put` and its task's writes.
 *
 * List items stored as slices (`ItemSlice`): a checkpoint's list holds the new messages that the values and writes
 * stored since the channel's value was last stored carried (the input's human message, a node's reply). For a
 * plain reducer that is the parent checkpoint and the writes against it; for a `DeltaChannel`, whose snapshot comes
 * every so many updates, every checkpoint back to the one that stored the last snapshot, and the writes against
 * them. Those read back to rebuild a value (`getTuple`'s pending writes, `getDeltaChannelHistory`'s writes) count
 * too: the value is then made of the objects they decoded. A reducer may have changed such a message since it was
 * serialized (`messagesStateReducer` gives a message without an id its id in place), so the item is serialized
 * again and stored as a slice of the bytes stored before plus what differs, only where those bytes make it
 * exactly (`sliceWithin`).
 *
 * Bounded: at most `MAX_CHECKPOINTS` checkpoints and `MAX_SOURCE_BYTES` of their sources' bytes are remembered, in
 * all threads; the least recently remembered go first, and an item held only by what was forgotten is stored whole.
 */
import { CheckpointError } from '../errors.js';
import { sliceSourceKey } from '../storage/lists.js';
import type { ChannelVersion, ItemSlice, TypedBytes, WriteSource } from '../storage/records.js';
import { RecentByScope } from './recent-by-scope.js';

/** Threads and namespaces whose latest put is remembered. */
const MAX_REMEMBERED = 64;
/** Checkpoints whose sources are remembered, in all threads. */
export const MAX_CHECKPOINTS = 1024;
/** Bytes of those sources remembered, in all threads. */
export const MAX_SOURCE_BYTES = 16 * 2 ** 20;

/** A value stored whole whose bytes list items may be slices of. */
export interface SliceSource {
  of: Pick<ItemSlice, 'write' | 'blob'>;
  /** The objects it is or holds: the value, and the items of an array (or of an object's property that is one). */
  held(): unknown[];
  /** Its bytes as stored; undefined when they were not. */
  bytes: Promise<TypedBytes | undefined>;
}

/** A value read back, decoded from bytes stored whole: a list item may be a slice of them. */
export interface ReadSource {
  of: Pick<ItemSlice, 'write' | 'blob'>;
  value: unknown;
  bytes: TypedBytes;
}

/** What is remembered of one checkpoint for the lists of the checkpoints after it. */
interface CheckpointSources {
  parentId?: string;
  /**
   * Channels that have a stored value at the checkpoint's version of them (stored by its put, or by an ancestor's
   * at the same version), with that version: new items of a later list came after it. Retention stops there too.
   */
  valued: Map<string, ChannelVersion>;
  /**
   * Channels whose value the checkpoint rebuilds from its ancestors' writes (its record's `delta_channels`): their
   * new items may have come before it. Retention keeps those ancestors as long as the checkpoint.
   */
  rebuilds: Set<string>;
  /** By `sliceSourceKey`. */
  sources: Map<string, SliceSource>;
}

interface PutValues {
  checkpointId: string;
  /** Values of plain objects this put stored, by channel. */
  channels: { channel: string; version: ChannelVersion; value: Record<string, unknown> }[];
}

/** The value, and the items of an array. */
const itself = (value: unknown): unknown[] => (Array.isArray(value) ? [value, ...value] : [value]);

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

export class WriteSources {
  readonly #puts = new RecentByScope<PutValues>(MAX_REMEMBERED);
  /**
   * Per thread, namespace and checkpoint, what its put and the writes against it stored whole. LangGraph may
   * store a task's writes before the put of the checkpoint they are written against.
   */
  readonly #checkpoints = new RecentByScope<CheckpointSources>(MAX_CHECKPOINTS, MAX_SOURCE_BYTES);
  /** Checkpoints read back by `getTuple`: those a graph builds on next. */
  readonly #read = new RecentByScope<true>(MAX_REMEMBERED);

  /** The checkpoint's entry, made the most recent; `describe` sets what its record says. */
  #entry(thread_id: string, checkpoint_ns: string, checkpointId: string, describe?: Omit<CheckpointSources, 'sources'>): CheckpointSources {
    const scope = [thread_id, checkpoint_ns, checkpointId] as const;
    const entry = this.#checkpoints.get(scope) ?? { valued: new Map(), rebuilds: new Set(), sources: new Map() };
    if (describe) Object.assign(entry, describe);
    this.#checkpoints.set(scope, entry);
    return entry;
  }

  /**
   * Adds sources to a checkpoint's entry. One already there (the same stored record) takes the new one's objects,
   * which a value read back again is made of, and keeps its bytes.
   */
  #addSources(thread_id: string, checkpoint_ns: string, checkpointId: string, sources: SliceSource[], describe?: Omit<CheckpointSources, 'sources'>): void {
    const entry = this.#entry(thread_id, checkpoint_ns, checkpointId, describe);
    const scope = [thread_id, checkpoint_ns, checkpointId] as const;
    for (const source of sources) {
      const key = sliceSourceKey(source.of);
      const known = entry.sources.get(key);
      if (known) {
        entry.sources.set(key, { ...known, held: source.held });
        continue;
      }
      entry.sources.set(key, source);
      void source.bytes.then((bytes) => this.#checkpoints.addWeight(scope, bytes?.bytes.byteLength ?? 0));
    }
  }

  /**
   * The values a put stores; only those of plain objects can hold a later write or list item. `bytesOf` gives
   * their bytes as stored, undefined when items must not be slices of them (encrypted values): nothing is then
   * remembered for slices. `versions` are the checkpoint's channel versions, `rebuilds` the channels it rebuilds
   * from its ancestors' writes.
   */
  remember(
    thread_id: string,
    checkpoint_ns: string,
    checkpoint: { id: string; parentId: string | undefined; versions: Record<string, ChannelVersion>; rebuilds: string[] },
    stored: [channel: string, version: ChannelVersion, value: unknown][],
    bytesOf?: (channel: string) => Promise<TypedBytes | undefined>,
  ): void {
    const channels = stored.flatMap(([channel, version, value]) => (isPlainObject(value) ? [{ channel, version, value }] : []));
    if (bytesOf) {
      // A channel this put does not store keeps the parent's value when it keeps its version. Without the parent
      // known, every channel counts as valued: a walk stops here, which only stores more items whole.
      const parent = checkpoint.parentId === undefined ? undefined : this.#checkpoints.get([thread_id, checkpoint_ns, checkpoint.parentId]);
      const valued = new Map(
        Object.entries(checkpoint.versions).filter(([channel, version]) => parent === undefined || parent.valued.get(channel) === version),
      );
      for (const [channel, version] of stored) valued.set(channel, version);
      const describe = { valued, rebuilds: new Set(checkpoint.rebuilds) };
      this.#addSources(
        thread_id,
        checkpoint_ns,
        checkpoint.id,
        channels.map(({ channel, version, value }): SliceSource => ({
          of: { blob: [channel, version] },
          held: () => Object.values(value).flatMap(itself),
          bytes: bytesOf(channel),
        })),
        checkpoint.parentId === undefined ? describe : { ...describe, parentId: checkpoint.parentId },
      );
    }
    if (channels.length === 0) this.#puts.delete([thread_id, checkpoint_ns]);
    else this.#puts.set([thread_id, checkpoint_ns], { checkpointId: checkpoint.id, channels });
  }

  /** Writes against a checkpoint, stored whole: the list items of a checkpoint after it may be slices of them. */
  rememberWrites(thread_id: string, checkpoint_ns: string, checkpointId: string, writes: { task_id: string; idx: number; value: unknown; bytes: Promise<TypedBytes | undefined> }[]): void {
    if (writes.length === 0) return;
    this.#addSources(
      thread_id,
      checkpoint_ns,
      checkpointId,
      writes.map(({ task_id, idx, value, bytes }): SliceSource => ({ of: { write: [checkpointId, task_id, idx] }, held: () => itself(value), bytes })),
    );
  }

  /**
   * A checkpoint read back to build on (`getTuple`): what its record says, and its pending writes, which the
   * next checkpoint's values are made of.
   */
  rememberRead(
    thread_id: string,
    checkpoint_ns: string,
    checkpoint: { id: string; parentId: string | undefined; valued: [channel: string, version: ChannelVersion][]; rebuilds: string[] },
    writes: ReadSource[],
  ): void {
    const describe = { valued: new Map(checkpoint.valued), rebuilds: new Set(checkpoint.rebuilds) };
    this.#read.set([thread_id, checkpoint_ns, checkpoint.id], true);
    this.#addSources(thread_id, checkpoint_ns, checkpoint.id, writes.map(readSource), checkpoint.parentId === undefined ? describe : { ...describe, parentId: checkpoint.parentId });
  }

  /**
   * The ancestors whose writes rebuild `channel` at a checkpoint (`getDeltaChannelHistory`), nearest first, with
   * those writes as decoded; the last has the channel's value at version `seed` when that is given. A snapshot of
   * the channel after the checkpoint holds those objects. Only for a checkpoint `getTuple` read back: a graph builds
   * on that one, where a history of every checkpoint (`getStateHistory`) builds on none.
   */
  rememberHistory(
    thread_id: string,
    checkpoint_ns: string,
    checkpointId: string | undefined,
    channel: string,
    ancestors: { checkpoint_id: string; writes: ReadSource[] }[],
    seed: ChannelVersion | undefined,
  ): void {
    if (checkpointId === undefined || !this.#read.get([thread_id, checkpoint_ns, checkpointId])) return;
    // Oldest first, so that the nearest are the most recent, forgotten last.
    for (let i = ancestors.length - 1; i >= 0; i -= 1) {
      const { checkpoint_id, writes } = ancestors[i]!;
      const entry = this.#entry(thread_id, checkpoint_ns, checkpoint_id);
      const parentId = ancestors[i + 1]?.checkpoint_id;
      if (parentId !== undefined) entry.parentId ??= parentId;
      // Between the checkpoint and its seed, every ancestor is kept as long as the checkpoint is (retention).
      if (seed !== undefined && i === ancestors.length - 1) entry.valued.set(channel, seed);
      else entry.rebuilds.add(channel);
      this.#addSources(thread_id, checkpoint_ns, checkpoint_id, writes.map(readSource));
    }
    const nearest = ancestors[0];
    if (nearest) this.#entry(thread_id, checkpoint_ns, checkpointId).parentId ??= nearest.checkpoint_id;
  }

  /**
   * Where the items of `channel`'s list in a checkpoint whose parent is `parentId` may already be stored: among
   * the sources of the parent and, while a checkpoint rebuilds the channel and has no stored value of it, of its
   * ancestors, the nearest first: the checkpoints that retention keeps as long as the parent.
   */
  sliceSourcesFor(thread_id: string, checkpoint_ns: string, parentId: string | undefined, channel: string): (item: unknown) => SliceSource | undefined {
    const byItem = new Map<unknown, SliceSource>();
    const visited = new Set<string>();
    for (let id = parentId; id !== undefined && !visited.has(id); ) {
      visited.add(id);
      const entry = this.#checkpoints.get([thread_id, checkpoint_ns, id]);
      if (!entry) break;
      for (const source of entry.sources.values()) {
        for (const held of source.held()) if (typeof held === 'object' && held !== null && !byItem.has(held)) byItem.set(held, source);
      }
      if (entry.valued.has(channel) || !entry.rebuilds.has(channel)) break;
      id = entry.parentId;
    }
    return (item) => byItem.get(item);
  }

  /** Where a write's object value is already stored by the checkpoint it is written against, if it is. */
  find(thread_id: string, checkpoint_ns: string, checkpointId: string, value: unknown): { of: WriteSource; key: string } | undefined {
    if (typeof value !== 'object' || value === null) return undefined;
    const put = this.#puts.get([thread_id, checkpoint_ns]);
    if (put?.checkpointId !== checkpointId) return undefined;
    for (const { channel, version, value: stored } of put.channels) {
      for (const key of Object.keys(stored)) if (stored[key] === value) return { of: { channel, version }, key };
    }
    return undefined;
  }

  /** A write of the thread failed: what it stored may be missing. */
  forgetThread(thread_id: string): void {
    this.#puts.forgetThread(thread_id);
    this.#checkpoints.forgetThread(thread_id);
    this.#read.forgetThread(thread_id);
  }
}

function readSource({ of, value, bytes }: ReadSource): SliceSource {
  return { of, held: () => itself(value), bytes: Promise.resolve(bytes) };
}

/** The part of a source value that a write is. */
export function partOf(source: unknown, key: unknown, what: string): unknown {
  if (typeof key !== 'string' || !isPlainObject(source) || !Object.prototype.hasOwnProperty.call(source, key)) {
    throw new CheckpointError('DESERIALIZE', `${what} is stored as a part of a value that does not hold it: the database is corrupt.`);
  }
  return source[key];
}
