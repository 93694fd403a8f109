/**
 * The latest list read of each channel, so that the next read of that channel reads only the list records stored
 * since. Each message of a long conversation lives in the record of the version that added it: without this, a
 * read of the conversation reads every one of them (and the writes its items are sliced from) at every turn.
 *
 * Other contexts (tabs, a worker, sync) may delete or rewrite a thread at any time, and their notifications come
 * later than a read may run, so an entry is used only when the record it was resolved from is still stored as it
 * was, read in the same transaction as the records that build on it. Versions are random (`getNextVersion`): a
 * record stored again with the same key and the same contents holds the same history (a copy, an import or a
 * pull of it), and so the same list.
 */
import type { ItemRef, KnownList, ResolvedList } from './lists.js';
import type { BlobRecord, ChannelVersion, TypedBytes } from './records.js';

/** Channels remembered, in all threads. */
const MAX_CHANNELS = 64;
/** Item bytes remembered, in all threads. */
const MAX_BYTES = 32 * 1024 * 1024;

interface Entry {
  /** The record the list was resolved from, as stored. */
  record: BlobRecord;
  list: ResolvedList;
  /** The list's items, back to back in one buffer: what a read copies. */
  packed: Uint8Array;
  types: string[];
  ends: number[];
}

function scopeOf(thread_id: string, checkpoint_ns: string, channel: string): string {
  return JSON.stringify([thread_id, checkpoint_ns, channel]);
}

/** Whether two records, as IndexedDB gives them back, hold the same data. */
function sameStored(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.byteLength !== b.byteLength) return false;
    for (let i = 0; i < a.byteLength; i += 1) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => key in b && sameStored((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

export class ListCache {
  /** In order of use, the least recently used first. */
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;

  /**
   * The list remembered for `record`'s channel, when `record` is the one it was resolved from and is stored as
   * it was then: its items are fresh copies, the caller's to keep or hand over.
   */
  knownFor(record: BlobRecord): KnownList | undefined {
    const scope = scopeOf(record.thread_id, record.checkpoint_ns, record.channel);
    const entry = this.#entries.get(scope);
    if (!entry || entry.record.version !== record.version) return undefined;
    if (!sameStored(entry.record, record)) {
      this.#drop(scope);
      return undefined;
    }
    this.#entries.delete(scope);
    this.#entries.set(scope, entry);
    const packed = entry.packed.slice();
    const items: TypedBytes[] = entry.types.map((type, i) => ({ type, bytes: packed.subarray(i === 0 ? 0 : entry.ends[i - 1]!, entry.ends[i]!) }));
    const byRef = new Map<ChannelVersion, TypedBytes[]>();
    entry.list.refs.forEach(([at, index], i) => {
      let stored = byRef.get(at);
      if (!stored) byRef.set(at, (stored = []));
      stored[index] = items[i]!;
    });
    return { ...entry.list, items, version: record.version, itemAt: ([at, index]: ItemRef) => byRef.get(at)?.[index] };
  }

  /** The version of `channel` whose list is remembered, if any. */
  versionOf(thread_id: string, checkpoint_ns: string, channel: string): ChannelVersion | undefined {
    return this.#entries.get(scopeOf(thread_id, checkpoint_ns, channel))?.record.version;
  }

  /**
   * Remembers `list`, resolved from `record` (as stored), as its channel's latest; copies its items, and the record:
   * the read returns the record's own item bytes, which its caller may transfer (a worker hands them to the page),
   * and a record compared after that would never match again.
   */
  remember(record: BlobRecord, list: ResolvedList): void {
    const scope = scopeOf(record.thread_id, record.checkpoint_ns, record.channel);
    this.#drop(scope);
    const size = list.items.reduce((sum, item) => sum + item.bytes.byteLength, 0);
    if (size > MAX_BYTES) return;
    const packed = new Uint8Array(size);
    const ends: number[] = [];
    let end = 0;
    for (const item of list.items) {
      packed.set(item.bytes, end);
      end += item.bytes.byteLength;
      ends.push(end);
    }
    const { items: _items, ...shape } = list;
    const stored: ResolvedList = { ...shape, items: [] };
    this.#entries.set(scope, { record: structuredClone(record), list: stored, packed, types: list.items.map((item) => item.type), ends });
    this.#bytes += size;
    for (const [oldest] of this.#entries) {
      if (this.#entries.size <= MAX_CHANNELS && this.#bytes <= MAX_BYTES) break;
      this.#drop(oldest);
    }
  }

  /** Forgets the lists of these threads (deleted or pruned here). */
  forget(threadIds: Iterable<string>): void {
    const threads = new Set(threadIds);
    for (const [scope, entry] of this.#entries) if (threads.has(entry.record.thread_id)) this.#drop(scope);
  }

  #drop(scope: string): void {
    const entry = this.#entries.get(scope);
    if (!entry) return;
    this.#entries.delete(scope);
    this.#bytes -= entry.packed.byteLength;
  }
}
