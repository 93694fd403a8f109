/**
 * Lists stored as items: a channel whose value is an array (a conversation's messages) is stored per version as
 * the items new at that version plus how the whole list is made, mostly by reference to the list of an earlier
 * version of the same channel. A long conversation then stores each message once, not once per turn.
 *
 * A list record either builds on the list of its `base` version (runs of the base's positions, of its own items
 * and of items stored at other versions) or spells its whole list (a root: runs of its own items and of items
 * stored at any version). A chain of lists from a root is numbered by `depth`: most lists edit the one before,
 * and every EDITS_PER_ANCHOR-th (an anchor) builds on an earlier anchor instead (`baseDepthOf`), so a read follows
 * a short chain and an anchor refers to only the items added since the one it builds on: the records of a chain
 * grow with what it adds, not with the length of its list at every anchor. Everything here is records and bytes:
 * which values become lists, and how items are serialized, is the saver's business.
 */
import { CheckpointError } from '../errors.js';
import type { BlobRecord, ChannelVersion, ItemSlice, ListRun, StoredItem, StoredList, TypedBytes } from './records.js';

export function isItemSlice(item: StoredItem): item is ItemSlice {
  return 'span' in item;
}

/** The item a slice stands for, from its source's typed bytes. */
export function spliceItem(slice: ItemSlice, source: TypedBytes, what: string): TypedBytes {
  const [start, at, end] = slice.span;
  const { bytes } = source;
  if (!(Number.isInteger(start) && Number.isInteger(at) && Number.isInteger(end) && 0 <= start && start <= at && at <= end && end <= bytes.byteLength)) {
    throw new CheckpointError('DESERIALIZE', `${what} is stored as bytes ${start}..${end} of a value ${bytes.byteLength} bytes long: the database is corrupt.`);
  }
  const item = new Uint8Array(end - start + slice.insert.byteLength);
  item.set(bytes.subarray(start, at));
  item.set(slice.insert, at - start);
  item.set(bytes.subarray(at, end), at - start + slice.insert.byteLength);
  return { type: source.type, bytes: item };
}

/** Items shorter than this are stored whole: a slice would not be much smaller. */
const MIN_SLICED_BYTES = 64;

/**
 * Where `item` lies in `source`: the span and the bytes to put in that make it, or undefined when it does not
 * lie there with at most a quarter of it put in. The longest prefix of the item found in the source starts the
 * span; the longest run of the source after it that ends the item ends it.
 */
export function sliceWithin(source: Uint8Array, item: Uint8Array): Pick<ItemSlice, 'span' | 'insert'> | undefined {
  if (item.byteLength < MIN_SLICED_BYTES) return undefined;
  let start = -1;
  let prefix = 0;
  for (let p = source.indexOf(item[0]!); p !== -1 && source.byteLength - p > prefix && prefix < item.byteLength; p = source.indexOf(item[0]!, p + 1)) {
    let n = 0;
    while (n < item.byteLength && p + n < source.byteLength && source[p + n] === item[n]) n += 1;
    if (n > prefix) [start, prefix] = [p, n];
  }
  if (start < 0) return undefined;
  const at = start + prefix;
  let tail = 0;
  for (let length = Math.min(source.byteLength - at, item.byteLength - prefix); length > 0 && tail === 0; length -= 1) {
    let n = 0;
    while (n < length && source[at + n] === item[item.byteLength - length + n]) n += 1;
    if (n === length) tail = length;
  }
  const insert = item.slice(prefix, item.byteLength - tail);
  if (insert.byteLength * 4 > item.byteLength) return undefined;
  return { span: [start, at, at + tail], insert };
}

/** Lists of a chain that edit the one before, in a row, before an anchor (a depth that is a multiple of this). */
export const EDITS_PER_ANCHOR = 256;
/** Anchors of one level that build on the one before, in a row, before one of the next level. */
export const ANCHORS_PER_LEVEL = 16;

/**
 * The depth of the list that the list at `depth` (≥ 1) builds on. An edit builds on the list before it. An anchor
 * builds on the anchor of its level before it: depth − 256 for the first level, depth − 4,096 for the second (a
 * multiple of 4,096), and so on. A chain from any list down to its root then has fewer than EDITS_PER_ANCHOR edits
 * and fewer than ANCHORS_PER_LEVEL anchors of each level (at most 300 lists up to a million edits), and each item is
 * referred to by about one anchor per level.
 */
export function baseDepthOf(depth: number): number {
  if (depth % EDITS_PER_ANCHOR !== 0) return depth - 1;
  let span = EDITS_PER_ANCHOR;
  while (span * ANCHORS_PER_LEVEL <= depth && depth % (span * ANCHORS_PER_LEVEL) === 0) span *= ANCHORS_PER_LEVEL;
  return depth - span;
}

/** Where an item is stored: the version whose own `items` hold it, and its index there. */
export type ItemRef = [version: ChannelVersion, index: number];

/** A slice's source, as a key of the map `readSliceSources` answers. */
export function sliceSourceKey(slice: Pick<ItemSlice, 'write' | 'blob'>): string {
  return JSON.stringify(slice.write ? ['write', ...slice.write] : ['blob', ...(slice.blob ?? [])]);
}

/** The slices among the items of a blob's list. */
export function slicesOf(blob: BlobRecord | undefined): ItemSlice[] {
  return blob?.list?.items.filter(isItemSlice) ?? [];
}

/**
 * The blob with its list's slices replaced by the items they stand for; `sourceOf` gives a slice's source
 * bytes, read in the same transaction. A source that is missing can only be a corrupt database: writers check
 * it is stored, and pruning writes an item whole before it deletes its source.
 */
export function withSlicesSpliced(blob: BlobRecord, sourceOf: (slice: ItemSlice) => TypedBytes | undefined): BlobRecord {
  if (slicesOf(blob).length === 0) return blob;
  const items = blob.list!.items.map((item, i) => {
    if (!isItemSlice(item)) return item;
    const what = `Item ${i} of the list of channel "${blob.channel}" at version ${String(blob.version)}`;
    const source = sourceOf(item);
    if (!source) throw new CheckpointError('DESERIALIZE', `${what} is stored as a slice of a value that is not stored: the database is corrupt.`);
    return spliceItem(item, source, what);
  });
  return { ...blob, list: { ...blob.list!, items } };
}

/** A list of a chain that later lists of the chain may build on: see `baseDepthOf`. */
export interface ListAnchor {
  version: ChannelVersion;
  depth: number;
  refs: ItemRef[];
}

/** A list as read: its items in order, and where each is stored. */
export interface ResolvedList {
  items: TypedBytes[];
  refs: ItemRef[];
  /** The stored list's `depth`: a list that edits this one is one deeper. */
  depth: number;
  /** The anchors of its chain (its lists at multiples of EDITS_PER_ANCHOR), which the next anchor may build on. */
  anchors: ListAnchor[];
  /** The stored list's `tag`, when it has one. */
  tag?: string;
}

/** The versions a list record needs besides itself: its base and the versions its items are stored at. */
export function listDependencies(list: StoredList): ChannelVersion[] {
  const versions = new Set<ChannelVersion>(list.base === undefined ? [] : [list.base]);
  for (const run of list.runs ?? []) if ('at' in run) versions.add(run.at);
  return [...versions];
}

/** The list's runs, spelled out when the record leaves them out (its base's whole list, then its own items). */
function runsOf(list: StoredList, baseLength: number): ListRun[] {
  if (list.runs) return list.runs;
  const runs: ListRun[] = baseLength === 0 ? [] : [{ base: 0, count: baseLength }];
  return list.items.length === 0 ? runs : [...runs, { own: 0, count: list.items.length }];
}

/**
 * `list` as stored: without its `depth` and `runs` where they are what a read takes for them when they are absent.
 * `base` is the list it builds on (its depth and length), if any.
 */
export function withoutImplied(list: StoredList & { depth: number; runs: ListRun[] }, base: { depth: number; length: number } | undefined): StoredList {
  const { depth, runs, ...stored } = list;
  const implied: StoredList = stored;
  if (depth !== (base ? base.depth + 1 : 0)) implied.depth = depth;
  if (JSON.stringify(runs) !== JSON.stringify(runsOf(stored, base?.length ?? 0))) implied.runs = runs;
  return implied;
}

/**
 * The item references and depth of the list stored at `version`, following its chain from its root up; its
 * anchors go to `anchors`.
 */
function refsOf(
  channel: string,
  version: ChannelVersion,
  blobs: ReadonlyMap<ChannelVersion, BlobRecord>,
  anchors: ListAnchor[],
  known: KnownList | undefined,
): { refs: ItemRef[]; depth: number } {
  const chain: [ChannelVersion, StoredList][] = [];
  let base: { refs: ItemRef[]; depth: number } = { refs: [], depth: -1 };
  for (let at: ChannelVersion | undefined = version; at !== undefined; at = chain.at(-1)![1].base) {
    if (known && at === known.version) {
      anchors.push(...known.anchors);
      base = known;
      break;
    }
    const list = blobs.get(at)?.list;
    if (!list) throw missing(channel, at);
    // A chain passes each stored version at most once; a longer one can only be a cycle in a corrupt database.
    if (chain.length >= blobs.size) throw new CheckpointError('DESERIALIZE', `The stored list of channel "${channel}" refers to itself: the database is corrupt.`);
    chain.push([at, list]);
  }
  for (const [at, list] of chain.reverse()) {
    const depth = list.depth ?? base.depth + 1;
    const refs: ItemRef[] = [];
    for (const run of runsOf(list, base.refs.length)) {
      if (!(Number.isSafeInteger(run.count) && run.count >= 0)) throw corrupt(channel, at, `has a run of ${String(run.count)} items`);
      if ('base' in run) {
        if (!(Number.isSafeInteger(run.base) && run.base >= 0 && run.base + run.count <= base.refs.length)) {
          throw corrupt(channel, at, `refers to positions ${run.base}..${run.base + run.count - 1} of a list of ${base.refs.length} items at version ${String(list.base)}`);
        }
        for (let i = run.base; i < run.base + run.count; i += 1) refs.push(base.refs[i]!);
        continue;
      }
      for (let i = 0; i < run.count; i += 1) refs.push('at' in run ? [run.at, run.own + i] : [at, run.own + i]);
    }
    if (depth % EDITS_PER_ANCHOR === 0) anchors.push({ version: at, depth, refs });
    base = { refs, depth };
  }
  return base;
}

function corrupt(channel: string, version: ChannelVersion, what: string): CheckpointError {
  return new CheckpointError('DESERIALIZE', `The stored list of channel "${channel}" at version ${String(version)} ${what}: the database is corrupt.`);
}

function missing(channel: string, version: ChannelVersion): CheckpointError {
  return new CheckpointError(
    'DESERIALIZE',
    `The stored list of channel "${channel}" refers to its version ${String(version)}, which is not stored: the database is corrupt.`,
  );
}

/**
 * A list resolved before, at `version` (see `list-cache.ts`): a chain that reaches that version builds on it
 * rather than reading on, and its items are found by where they are stored.
 */
export interface KnownList extends ResolvedList {
  version: ChannelVersion;
  itemAt(ref: ItemRef): TypedBytes | undefined;
}

/** Whether the list at `version` resolves from `blobs` and `known` alone: its chain reaches `known` or a root among them. */
export function resolvesWith(version: ChannelVersion, blobs: ReadonlyMap<ChannelVersion, BlobRecord>, known: KnownList): boolean {
  const visited = new Set<ChannelVersion>();
  for (let at: ChannelVersion | undefined = version; at !== undefined && at !== known.version; at = blobs.get(at)!.list!.base) {
    const list = blobs.get(at)?.list;
    if (!list || visited.has(at)) return false;
    visited.add(at);
    for (const run of list.runs ?? []) {
      if (!('at' in run) || blobs.has(run.at)) continue;
      for (let i = 0; i < run.count; i += 1) if (!known.itemAt([run.at, run.own + i])) return false;
    }
  }
  return true;
}

/**
 * Rebuilds the list stored at `version` of `channel` from that channel's blobs, which must hold all it needs
 * besides what `known` holds.
 */
export function resolveList(channel: string, version: ChannelVersion, blobs: ReadonlyMap<ChannelVersion, BlobRecord>, known?: KnownList): ResolvedList {
  if (known && version === known.version) {
    const { items, refs, depth, anchors, tag } = known;
    return tag === undefined ? { items, refs, depth, anchors } : { items, refs, depth, anchors, tag };
  }
  const anchors: ListAnchor[] = [];
  const { refs, depth } = refsOf(channel, version, blobs, anchors, known);
  const { tag } = blobs.get(version)!.list!;
  const items = refs.map((ref) => {
    const remembered = known?.itemAt(ref);
    if (remembered) return remembered;
    const [at, index] = ref;
    const list = blobs.get(at)?.list;
    if (!list) throw missing(channel, at);
    const item = list.items[index];
    if (!item) throw corrupt(channel, at, `holds ${list.items.length} items, and a list refers to its item ${index}`);
    // Slices are spliced as they are read (`withSlicesSpliced`), in the transaction that reads their sources.
    if (isItemSlice(item)) throw new CheckpointError('DESERIALIZE', `An item of the list of channel "${channel}" at version ${String(at)} was read without its source.`);
    return item;
  });
  return tag === undefined ? { items, refs, depth, anchors } : { items, refs, depth, anchors, tag };
}

/** Every version that the blobs at `versions` need, themselves included, found among `blobs`. */
export function listClosure(versions: Iterable<ChannelVersion>, blobs: ReadonlyMap<ChannelVersion, BlobRecord>): Set<ChannelVersion> {
  const needed = new Set<ChannelVersion>();
  const toVisit = [...versions];
  for (let version = toVisit.pop(); version !== undefined; version = toVisit.pop()) {
    if (needed.has(version)) continue;
    needed.add(version);
    const list = blobs.get(version)?.list;
    if (list) toVisit.push(...listDependencies(list));
  }
  return needed;
}
