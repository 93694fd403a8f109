/**
 * Which channel values are stored as lists, and how (see `storage/lists.ts`). The codec remembers, per thread,
 * namespace and channel, the list it last wrote or read with where each of its items is stored, and the anchors
 * of its chain. When the next checkpoint of that thread builds on that one, its list is written as an edit of it
 * (or, every 256th, of an earlier anchor of its chain: see `baseDepthOf`): items found again (the same object, or
 * the same primitive value) are referred to, not serialized again; only new items are.
 *
 * An item is matched by identity: an object changed in place after it was stored is not serialized again.
 * LangGraph's reducers (`messagesStateReducer` replaces a message by id) never do that.
 *
 * A `DeltaChannel`'s snapshot (LangGraph stores the channel's whole array every so many updates) is stored as
 * the list it wraps, tagged so that a read wraps it again. Its items are looked up in the channel's last list
 * known, whichever checkpoint that was (the previous snapshot, or the seed its history was rebuilt from), and it
 * spells itself from the versions that store them: only the items new since are stored.
 */
import { DeltaSnapshot, isDeltaSnapshot, type SerializerProtocol } from '@langchain/langgraph-checkpoint';
import type { ValueCipher } from '../encryption/cipher.js';
import { CheckpointError } from '../errors.js';
import {
  baseDepthOf,
  EDITS_PER_ANCHOR,
  sliceWithin,
  type ItemRef,
  type ListAnchor,
  withoutImplied,
} from '../storage/lists.js';
import type { BaseRun, ChannelVersion, ListRun, OwnRun, StoredItem, StoredList, StoredRun, TypedBytes } from '../storage/records.js';
import type { ChannelValue } from '../storage/storage.js';
import { decode, decodeItems, encode, jsonText } from './codec.js';
import { ListTexts } from './list-texts.js';
import { RecentByScope } from './recent-by-scope.js';
import type { SliceSource } from './write-sources.js';

/** Scopes (thread, namespace, channel) whose latest list is remembered. */
const MAX_REMEMBERED = 64;

interface KnownList {
  checkpointId: string;
  version: ChannelVersion;
  /** The list's items as values, copied so that a caller's later changes to the array do not reach it. */
  elements: unknown[];
  refs: ItemRef[];
  depth: number;
  /** The anchors of its chain by depth, itself included when it is one: those the next anchor may build on. */
  anchors: Map<number, ListAnchor>;
}

/** The tag of a list stored from a `DeltaSnapshot`'s array. */
const DELTA_SNAPSHOT = 'delta_snapshot';

/** The array a channel value is stored as, with its tag, or undefined for a value stored whole. */
export function listOf(value: unknown): { elements: unknown[]; tag?: string } | undefined {
  if (isListable(value)) return { elements: value };
  if (isDeltaSnapshot(value) && value instanceof DeltaSnapshot && isListable(value.value)) return { elements: value.value, tag: DELTA_SNAPSHOT };
  return undefined;
}

/** The value a list read back stands for: its items as they are, or wrapped as its tag says. */
export function listValue(elements: unknown[], tag: string | undefined, what: string): unknown {
  if (tag === undefined) return elements;
  if (tag === DELTA_SNAPSHOT) return new DeltaSnapshot(elements);
  throw new CheckpointError('DESERIALIZE', `The stored list of ${what} has the unknown tag "${tag}": it was written by a newer release.`);
}

/** A list to store: its new items still to serialize. */
export interface PlannedList {
  newItems: unknown[];
  build(items: StoredItem[]): StoredList;
}

/** Arrays whose items serialize one by one exactly as the array does whole. */
export function isListable(value: unknown): value is unknown[] {
  if (!Array.isArray(value) || value.length === 0 || Object.getPrototypeOf(value) !== Array.prototype) return false;
  for (let i = 0; i < value.length; i += 1) {
    // A hole, undefined or a function turn into null or vanish inside an array, but not on their own.
    if (!(i in value)) return false;
    const item: unknown = value[i];
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') return false;
  }
  return true;
}

function scopeOf(thread_id: string, checkpoint_ns: string, channel: string): [string, string, string] {
  return [thread_id, checkpoint_ns, channel];
}

function pushRun<R extends OwnRun | BaseRun | StoredRun>(runs: ListRun[], run: R, continues: (last: ListRun) => boolean): void {
  const last = runs.at(-1);
  if (last && continues(last)) last.count += 1;
  else runs.push(run);
}

/** Per ref of `refs`, its position in `baseRefs`, when the base list holds that item. */
function positionsIn(baseRefs: ItemRef[], refs: ItemRef[]): (number | undefined)[] {
  const byRef = new Map<ChannelVersion, Map<number, number[]>>();
  baseRefs.forEach(([at, own], position) => {
    let byOwn = byRef.get(at);
    if (!byOwn) byRef.set(at, (byOwn = new Map()));
    const list = byOwn.get(own);
    if (list) list.push(position);
    else byOwn.set(own, [position]);
  });
  return refs.map(([at, own]) => byRef.get(at)?.get(own)?.shift());
}

/**
 * The anchors of the chain of the list at `depth` (`self` is that list): the depths a chain from it passes, from
 * itself or the last anchor before it down to the root, found in `inherited` (those of the list it builds on).
 */
function chainAnchors(depth: number, self: ListAnchor, inherited: ReadonlyMap<number, ListAnchor> | undefined): Map<number, ListAnchor> {
  const anchors = new Map<number, ListAnchor>();
  for (let at = depth - (depth % EDITS_PER_ANCHOR); ; at = baseDepthOf(at)) {
    const anchor = at === depth ? self : inherited?.get(at);
    if (anchor) anchors.set(at, anchor);
    if (at === 0) return anchors;
  }
}

export class ListCodec {
  readonly #known = new RecentByScope<KnownList>(MAX_REMEMBERED);
  readonly #texts = new ListTexts();

  /**
   * Plans how to store `value` as the list of channel `channel` at `version` in checkpoint `checkpointId`, whose
   * parent is `parentId`. Synchronous, so that a put called right after builds on this one.
   */
  plan(
    scope: { thread_id: string; checkpoint_ns: string; channel: string },
    parentId: string | undefined,
    checkpointId: string,
    version: ChannelVersion,
    { elements: value, tag }: { elements: unknown[]; tag?: string },
  ): PlannedList {
    const key = scopeOf(scope.thread_id, scope.checkpoint_ns, scope.channel);
    const previous = this.#known.get(key);
    // The same version written again (a put without newVersions) replaces that very record: nothing to build on.
    // A snapshot builds on the channel's last list known, many checkpoints back; a plain list on its parent's.
    const builds = previous !== undefined && previous.version !== version && (tag !== undefined || (parentId !== undefined && previous.checkpointId === parentId));
    const known = builds ? previous : undefined;
    // Positions of the known list's items, by identity for objects and by value for primitives.
    const positions = new Map<unknown, number[]>();
    known?.elements.forEach((element, position) => {
      const list = positions.get(element);
      if (list) list.push(position);
      else positions.set(element, [position]);
    });
    const newItems: unknown[] = [];
    const refs: ItemRef[] = [];
    /** Per item, its position in the known list, or undefined for a new item. */
    const knownPositions: (number | undefined)[] = [];
    for (const element of value) {
      const position = positions.get(element)?.shift();
      knownPositions.push(position);
      refs.push(position === undefined ? [version, newItems.push(element) - 1] : known!.refs[position]!);
    }
    // A plain list builds on the list of its chain that `baseDepthOf` names: the known one for an edit, an
    // earlier anchor for an anchor. A snapshot (whose known list may be on another branch of the thread), or a
    // list whose anchor is not known, spells itself, still referring to the items already stored.
    const next = known !== undefined && tag === undefined ? known.depth + 1 : 0;
    const base = next === 0 ? undefined : baseDepthOf(next) === known!.depth ? known : known!.anchors.get(baseDepthOf(next));
    const depth = base ? next : 0;
    const inBase = base === undefined ? [] : base === known ? knownPositions : positionsIn(base.refs, refs);
    const runs: ListRun[] = [];
    refs.forEach(([at, own], i) => {
      const position = inBase[i];
      if (position !== undefined) pushRun(runs, { base: position, count: 1 }, (last) => 'base' in last && last.base + last.count === position);
      else if (knownPositions[i] === undefined) pushRun(runs, { own, count: 1 }, (last) => 'own' in last && !('at' in last) && last.own + last.count === own);
      else pushRun(runs, { at, own, count: 1 }, (last) => 'at' in last && last.at === at && last.own + last.count === own);
    });
    const anchors = chainAnchors(depth, { version, depth, refs }, known?.anchors);
    this.#known.set(key, { checkpointId, version, elements: [...value], refs, depth, anchors });
    return {
      newItems,
      build: (items) => {
        const list = { items, ...(base ? { base: base.version } : {}), ...(tag === undefined ? {} : { tag }), depth, runs };
        return withoutImplied(list, base && { depth: base.depth, length: base.refs.length });
      },
    };
  }

  /** A checkpoint that keeps a channel's version unchanged keeps its list too. */
  carry(scope: { thread_id: string; checkpoint_ns: string; channel: string }, parentId: string | undefined, checkpointId: string): void {
    const key = scopeOf(scope.thread_id, scope.checkpoint_ns, scope.channel);
    const known = this.#known.get(key);
    if (known && parentId !== undefined && known.checkpointId === parentId) this.#known.set(key, { ...known, checkpointId });
  }

  /** The channel's value is no list at this checkpoint. */
  forget(scope: { thread_id: string; checkpoint_ns: string; channel: string }): void {
    this.#known.delete(scopeOf(scope.thread_id, scope.checkpoint_ns, scope.channel));
  }

  /** A write of the thread failed: its later lists must not build on what may not be stored. */
  forgetThread(thread_id: string): void {
    this.#known.forgetThread(thread_id);
  }

  /**
   * Serializes (and encrypts, with `cipher`) a planned list's new items and builds its record. An item that
   * `sources[i]` holds is stored as a slice of its bytes where they make the item's own (see `sliceWithin`);
   * `sliced` gives those items' own bytes, which the commit checks the slices against.
   */
  async encode(
    serde: SerializerProtocol,
    planned: PlannedList,
    what: string,
    cipher?: ValueCipher,
    sources: (SliceSource | undefined)[] = [],
  ): Promise<{ list: StoredList; sliced: { item: number; bytes: TypedBytes }[] }> {
    const sliced: { item: number; bytes: TypedBytes }[] = [];
    const items = await Promise.all(
      planned.newItems.map(async (item, i): Promise<StoredItem> => {
        const bytes = await encode(serde, item, `item ${i} of ${what}`, cipher);
        const source = sources[i];
        const stored = source && (await source.bytes);
        const slice = stored?.type === bytes.type ? sliceWithin(stored.bytes, bytes.bytes) : undefined;
        if (!source || !slice) return bytes;
        sliced.push({ item: i, bytes });
        return { ...source.of, ...slice };
      }),
    );
    return { list: planned.build(items), sliced };
  }

  /**
   * Decodes a channel value; a list read by `getTuple` (`remember`) becomes the base of the next checkpoint
   * built on `checkpointId`.
   */
  async decode(
    serde: SerializerProtocol,
    scope: { thread_id: string; checkpoint_ns: string },
    checkpointId: string,
    stored: ChannelValue,
    what: string,
    remember: boolean,
    cipher?: ValueCipher,
  ): Promise<unknown> {
    if ('value' in stored) return decode(serde, stored.value, what, cipher);
    const listScope = scopeOf(scope.thread_id, scope.checkpoint_ns, stored.channel);
    const text = await this.#texts.arrayText(listScope, stored.refs, stored.items, (item, i) => jsonText(item, `item ${i} of ${what}`, cipher));
    const elements = await decodeItems(serde, stored.items, what, cipher, text);
    const value = listValue(elements, stored.tag, what);
    if (remember) {
      this.#known.set(listScope, {
        checkpointId,
        version: stored.version,
        elements: [...elements],
        refs: stored.refs,
        depth: stored.depth,
        anchors: new Map(stored.anchors.map((anchor) => [anchor.depth, anchor])),
      });
    }
    return value;
  }
}
