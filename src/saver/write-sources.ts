/**
 * Writes stored as a part of a value their checkpoint already stores. LangGraph's input task writes the input's
 * channels (`messages: [...]`) as the very objects that the input checkpoint stores as its `__start__` value
 * (`{ messages: [...] }`) one call before: such a write is stored as where to find it, not serialized again.
 *
 * Matched by identity, as lists match their items (`list-codec.ts`): the value is the object that was serialized
 * with the checkpoint, and nothing changes the input between the checkpoint's `put` and its task's writes.
 */
import { CheckpointError } from '../errors.js';
import type { ChannelVersion, WriteSource } from '../storage/records.js';
import { RecentByScope } from './recent-by-scope.js';

/** Threads and namespaces whose latest put is remembered. */
const MAX_REMEMBERED = 64;

interface PutValues {
  checkpointId: string;
  /** Values of plain objects this put stored, by channel. */
  channels: { channel: string; version: ChannelVersion; value: Record<string, unknown> }[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

export class WriteSources {
  readonly #puts = new RecentByScope<PutValues>(MAX_REMEMBERED);

  /** The values a put stores; only those of plain objects can hold a later write. */
  remember(thread_id: string, checkpoint_ns: string, checkpointId: string, stored: [channel: string, version: ChannelVersion, value: unknown][]): void {
    const channels = stored.flatMap(([channel, version, value]) => (isPlainObject(value) ? [{ channel, version, value }] : []));
    if (channels.length === 0) this.#puts.delete([thread_id, checkpoint_ns]);
    else this.#puts.set([thread_id, checkpoint_ns], { checkpointId, channels });
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
  }
}

/** The part of a source value that a write is. */
export function partOf(source: unknown, key: unknown, what: string): unknown {
  if (typeof key !== 'string' || !isPlainObject(source) || !Object.prototype.hasOwnProperty.call(source, key)) {
    throw new CheckpointError('DESERIALIZE', `${what} is stored as a part of a value that does not hold it: the database is corrupt.`);
  }
  return source[key];
}
