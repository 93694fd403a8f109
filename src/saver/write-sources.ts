/**
 * What a thread's latest checkpoint stored whole, so that what comes next need not serialize it again.
 *
 * Writes stored as a part of a value their checkpoint already stores. LangGraph's input task writes the input's
 * channels (`messages: [...]`) as the very objects that the input checkpoint stores as its `__start__` value
 * (`{ messages: [...] }`) one call before: such a write is stored as where to find it, not serialized again.
 *
 * Matched by identity, as lists match their items (`list-codec.ts`): the value is the object that was serialized
 * with the checkpoint, and nothing changes the input between the checkpoint's `put` and its task's writes.
 *
 * List items stored as slices (`ItemSlice`): the next checkpoint's list holds the new messages that those values
 * and the tasks' writes against the checkpoint carried (the input's human message, a node's reply). A reducer may
 * have changed such a message since it was serialized (`messagesStateReducer` gives a message without an id its
 * id in place), so the item is serialized again and stored as a slice of the bytes stored before plus what differs,
 * only where those bytes make it exactly (`sliceWithin`).
 */
import { CheckpointError } from '../errors.js';
import type { ItemSlice } from '../storage/lists.js';
import type { ChannelVersion, TypedBytes, WriteSource } from '../storage/records.js';
import { RecentByScope } from './recent-by-scope.js';

/** Threads and namespaces whose latest put is remembered. */
const MAX_REMEMBERED = 64;

/** A value stored whole whose bytes list items may be slices of. */
export interface SliceSource {
  of: Pick<ItemSlice, 'write' | 'blob'>;
  /** Whether the value is the item, or an array (or an object's property that is an array) that holds it. */
  holds(item: unknown): boolean;
  /** Its bytes as stored; undefined when they were not. */
  bytes: Promise<TypedBytes | undefined>;
}

interface PutValues {
  checkpointId: string;
  /** Values of plain objects this put stored, by channel. */
  channels: { channel: string; version: ChannelVersion; value: Record<string, unknown> }[];
}

const isOrHolds = (value: unknown, item: unknown) => value === item || (Array.isArray(value) && value.includes(item));

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

export class WriteSources {
  readonly #puts = new RecentByScope<PutValues>(MAX_REMEMBERED);
  /**
   * Per thread, namespace and checkpoint, what its put and the writes against it stored whole. LangGraph may
   * store a task's writes before the put of the checkpoint they are written against.
   */
  readonly #sliceSources = new RecentByScope<SliceSource[]>(MAX_REMEMBERED);

  #addSliceSources(thread_id: string, checkpoint_ns: string, checkpointId: string, sources: SliceSource[]): void {
    if (sources.length === 0) return;
    const scope = [thread_id, checkpoint_ns, checkpointId] as const;
    this.#sliceSources.set(scope, [...(this.#sliceSources.get(scope) ?? []), ...sources]);
  }

  /**
   * The values a put stores; only those of plain objects can hold a later write or list item. `bytesOf` gives
   * their bytes as stored, undefined when items must not be slices of them (encrypted values).
   */
  remember(
    thread_id: string,
    checkpoint_ns: string,
    checkpointId: string,
    stored: [channel: string, version: ChannelVersion, value: unknown][],
    bytesOf?: (channel: string) => Promise<TypedBytes | undefined>,
  ): void {
    const channels = stored.flatMap(([channel, version, value]) => (isPlainObject(value) ? [{ channel, version, value }] : []));
    if (bytesOf) {
      this.#addSliceSources(
        thread_id,
        checkpoint_ns,
        checkpointId,
        channels.map(({ channel, version, value }): SliceSource => ({
          of: { blob: [channel, version] },
          holds: (item) => Object.values(value).some((part) => isOrHolds(part, item)),
          bytes: bytesOf(channel),
        })),
      );
    }
    if (channels.length === 0) this.#puts.delete([thread_id, checkpoint_ns]);
    else this.#puts.set([thread_id, checkpoint_ns], { checkpointId, channels });
  }

  /** Writes against a checkpoint, stored whole: the list items of a checkpoint after it may be slices of them. */
  rememberWrites(thread_id: string, checkpoint_ns: string, checkpointId: string, writes: { task_id: string; idx: number; value: unknown; bytes: Promise<TypedBytes | undefined> }[]): void {
    this.#addSliceSources(
      thread_id,
      checkpoint_ns,
      checkpointId,
      writes.map(({ task_id, idx, value, bytes }): SliceSource => ({ of: { write: [checkpointId, task_id, idx] }, holds: (item) => isOrHolds(value, item), bytes })),
    );
  }

  /** The value stored with or against `parentId`, the parent of the checkpoint being put, that holds `item`. */
  sliceSourceOf(thread_id: string, checkpoint_ns: string, parentId: string | undefined, item: unknown): SliceSource | undefined {
    if (typeof item !== 'object' || item === null || parentId === undefined) return undefined;
    return this.#sliceSources.get([thread_id, checkpoint_ns, parentId])?.find((source) => source.holds(item));
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
    this.#sliceSources.forgetThread(thread_id);
  }
}

/** The part of a source value that a write is. */
export function partOf(source: unknown, key: unknown, what: string): unknown {
  if (typeof key !== 'string' || !isPlainObject(source) || !Object.prototype.hasOwnProperty.call(source, key)) {
    throw new CheckpointError('DESERIALIZE', `${what} is stored as a part of a value that does not hold it: the database is corrupt.`);
  }
  return source[key];
}
