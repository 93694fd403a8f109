/**
 * The read side of the storage, on the plain IndexedDB API. In Chromium every request costs the calling thread
 * about as much as a transaction does, so reads are shaped to need few requests: pages of checkpoints come in one
 * request, and the values and writes of a page in about one request per channel.
 */
import type { ChannelValue, CheckpointPage, CheckpointQuery, ListResume, StoredTuple } from './storage.js';
import { listClosure, resolveList, resolvesWith, sliceSourceKey, slicesOf, withSlicesSpliced, type KnownList } from './lists.js';
import type { ListCache } from './list-cache.js';
import { newestRecords, prefixRange, requestResult } from './requests.js';
import type { BlobRecord, ChannelVersion, CheckpointRecord, ItemSlice, StoredCheckpointRecord, StoredWriteRecord, TypedBytes, WriteRecord } from './records.js';
import { writesIn } from './task-writes.js';
import { ChainResolver } from './checkpoint-chains.js';

const TASKS_CHANNEL = '__pregel_tasks';

/**
 * A range read returns at most this many records per record wanted: checkpoints of other branches or outside
 * the page can lie between the wanted ones, and this bounds what is read for nothing before falling back to
 * reading each wanted key.
 */
const RANGE_SLACK = 4;

function inRange(step: number | undefined, range: CheckpointQuery['step']): boolean {
  if (!range) return true;
  if (step === undefined) return false;
  return (range.gte === undefined || step >= range.gte) && (range.lte === undefined || step <= range.lte);
}

/** The key range a query walks, on the store or on one of its indexes; undefined when it is empty. */
function queryRange(query: CheckpointQuery, resume: ListResume | undefined):
  | { source: 'store' | 'by_thread' | 'by_time'; range: IDBKeyRange | null }
  | undefined {
  const { thread_id, checkpoint_ns, before, after } = query;
  let source: 'store' | 'by_thread' | 'by_time';
  let lower: IDBValidKey[] | undefined;
  let upper: IDBValidKey[] | undefined;
  // Bounds are written so that every key with an id <= after sorts below `lower`
  // and every key with an id >= before sorts at or above `upper`.
  if (thread_id !== undefined && checkpoint_ns !== undefined) {
    source = 'store';
    lower = after !== undefined ? [thread_id, checkpoint_ns, after, []] : [thread_id, checkpoint_ns];
    upper = before !== undefined ? [thread_id, checkpoint_ns, before] : [thread_id, checkpoint_ns, []];
  } else if (thread_id !== undefined) {
    source = 'by_thread';
    lower = after !== undefined ? [thread_id, after, []] : [thread_id];
    upper = before !== undefined ? [thread_id, before] : [thread_id, []];
  } else {
    source = 'by_time';
    lower = after !== undefined ? [after, []] : undefined;
    upper = before !== undefined ? [before] : undefined;
  }
  // Pages walk newest first: the next page ends just below the last key the previous one read.
  const upperKey = resume ?? upper;
  if (lower !== undefined && upperKey !== undefined) {
    if (indexedDB.cmp(lower, upperKey) >= 0) return undefined;
    return { source, range: IDBKeyRange.bound(lower, upperKey, false, true) };
  }
  if (lower !== undefined) return { source, range: IDBKeyRange.lowerBound(lower) };
  if (upperKey !== undefined) return { source, range: IDBKeyRange.upperBound(upperKey, true) };
  return { source, range: null };
}

/**
 * The next page of a query, newest first: `pageSize` records read, of which those that match. A page may hold
 * fewer matches than `pageSize` and still have a `resume`.
 */
export async function readCheckpointPage(
  tx: IDBTransaction,
  query: CheckpointQuery,
  pageSize: number,
  resume: ListResume | undefined,
): Promise<CheckpointPage> {
  const walk = queryRange(query, resume);
  if (!walk) return { records: [] };
  const store = tx.objectStore('checkpoints');
  const source = walk.source === 'store' ? store : store.index(walk.source);
  const read = await newestRecords<StoredCheckpointRecord>(source, walk.range, pageSize);
  const matching = read
    .map((entry) => entry.value)
    .filter(
      (record) =>
        (query.checkpoint_ns === undefined || record.checkpoint_ns === query.checkpoint_ns) &&
        (query.checkpoint_id === undefined || record.checkpoint_id === query.checkpoint_id),
    );
  // The page's records serve as parents for each other: usually only its oldest needs more reads. A record stored as
  // a change may leave its step out: the range is checked on whole records.
  const resolved = await new ChainResolver(tx, read.map((entry) => entry.value)).resolveAll(matching);
  const records = resolved.filter((record) => inRange(record.step, query.step));
  const last = read.at(-1);
  return read.length === pageSize && last ? { records, resume: last.key } : { records };
}

/**
 * Reads the records of `wanted` keys, which share `prefix` and differ in their last part, in one range request
 * (one `get` when there is one key). `keyOf` gives a record's last key part, `sameKeys` says which it is.
 * When the range holds more than `RANGE_SLACK` records per wanted key, the keys it did not reach are read
 * by `readOne` in a second round.
 */
export async function readRange<K extends IDBValidKey, R>(
  store: IDBObjectStore,
  prefix: IDBValidKey[],
  wanted: K[],
  keyOf: (record: R) => K,
  readOne: (key: K) => Promise<R[]>,
): Promise<R[]> {
  if (wanted.length === 1) return readOne(wanted[0]!);
  const sorted = [...wanted].sort((a, b) => indexedDB.cmp(a, b));
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  const limit = wanted.length * RANGE_SLACK;
  const range = IDBKeyRange.bound([...prefix, first], [...prefix, last, []]);
  const records = (await requestResult(store.getAll(range, limit))) as R[];
  const reached = records.at(-1);
  if (records.length < limit || reached === undefined) return records;
  // Cut short: the last key reached may be incomplete (several writes share it), so read it again too.
  const reachedKey = keyOf(reached);
  const complete = records.filter((record) => indexedDB.cmp(keyOf(record), reachedKey) < 0);
  const rest = await Promise.all(sorted.filter((key) => indexedDB.cmp(key, reachedKey) >= 0).map(readOne));
  return [...complete, ...rest.flat()];
}

/** The writes against checkpoints of one (thread, namespace), in key order: one range request, or one per checkpoint. */
export async function readWrites(store: IDBObjectStore, prefix: [thread_id: string, checkpoint_ns: string], checkpointIds: string[]): Promise<WriteRecord[]> {
  const records = await readRange<string, StoredWriteRecord>(
    store,
    prefix,
    checkpointIds,
    (record) => record.checkpoint_id,
    async (id) => (await requestResult(store.getAll(prefixRange([...prefix, id])))) as StoredWriteRecord[],
  );
  return writesIn(records);
}

/** What a page of checkpoints wants from one (thread, namespace): versions of each channel, writes of checkpoints. */
interface Wanted {
  prefix: [thread_id: string, checkpoint_ns: string];
  versions: Map<string, Set<ChannelVersion>>;
  checkpointIds: Set<string>;
}

function wantedOf(records: CheckpointRecord[]): Map<string, Wanted> {
  const groups = new Map<string, Wanted>();
  for (const record of records) {
    const groupKey = JSON.stringify([record.thread_id, record.checkpoint_ns]);
    let group = groups.get(groupKey);
    if (!group) {
      group = { prefix: [record.thread_id, record.checkpoint_ns], versions: new Map(), checkpointIds: new Set() };
      groups.set(groupKey, group);
    }
    for (const [channel, version] of Object.entries(record.channel_versions)) {
      if (record.values?.[channel] !== undefined) continue;
      let versions = group.versions.get(channel);
      if (!versions) group.versions.set(channel, (versions = new Set()));
      versions.add(version);
    }
    group.checkpointIds.add(record.checkpoint_id);
    // Checkpoints before format 4 take their pending sends from their parent's writes.
    if (record.v < 4 && record.parent_checkpoint_id !== undefined) group.checkpointIds.add(record.parent_checkpoint_id);
  }
  return groups;
}

interface Found {
  blobs: Map<string, ChannelBlobs>;
  writes: Map<string, WriteRecord[]>;
}

/**
 * The bytes that list items stored as slices take (`ItemSlice`), by `sliceSourceKey`: the writes in one range
 * request over their checkpoints, the values in one per channel. Those not stored are missing from the map.
 */
export async function readSliceSources(tx: IDBTransaction, prefix: [thread_id: string, checkpoint_ns: string], slices: ItemSlice[]): Promise<Map<string, TypedBytes>> {
  const sources = new Map<string, TypedBytes>();
  const checkpointIds = new Set<string>();
  const versions = new Map<string, Set<ChannelVersion>>();
  for (const { write, blob } of slices) {
    if (write) checkpointIds.add(write[0]);
    else if (blob) versions.set(blob[0], (versions.get(blob[0]) ?? new Set()).add(blob[1]));
  }
  const writeStore = tx.objectStore('writes');
  const blobStore = tx.objectStore('blobs');
  const [writes, blobs] = await Promise.all([
    checkpointIds.size === 0
      ? []
      : readWrites(writeStore, prefix, [...checkpointIds]),
    Promise.all(
      [...versions].map(([channel, wanted]) =>
        readRange<ChannelVersion, BlobRecord>(blobStore, [...prefix, channel], [...wanted], (blob) => blob.version, async (version) => {
          const blob = (await requestResult(blobStore.get([...prefix, channel, version]))) as BlobRecord | undefined;
          return blob ? [blob] : [];
        }),
      ),
    ),
  ]);
  for (const write of writes) sources.set(sliceSourceKey({ write: [write.checkpoint_id, write.task_id, write.idx] }), write.value);
  for (const blob of blobs.flat()) if (blob.value) sources.set(sliceSourceKey({ blob: [blob.channel, blob.version] }), blob.value);
  return sources;
}

/** The blobs with their lists' slices spliced, from sources read in the caller's transaction. */
export async function spliceSlices(tx: IDBTransaction, prefix: [thread_id: string, checkpoint_ns: string], blobs: Map<ChannelVersion, BlobRecord>): Promise<Map<ChannelVersion, BlobRecord>> {
  const slices = [...blobs.values()].flatMap(slicesOf);
  if (slices.length === 0) return blobs;
  const sources = await readSliceSources(tx, prefix, slices);
  return new Map([...blobs].map(([version, blob]) => [version, withSlicesSpliced(blob, (slice) => sources.get(sliceSourceKey(slice)))]));
}

/** A channel's blobs as `readChannelBlobs` read them. */
export interface ChannelBlobs {
  /** By version, with their lists' slices spliced. */
  blobs: Map<ChannelVersion, BlobRecord>;
  /** As stored, slices and all: what `ListCache.remember` compares later reads with. */
  stored: ReadonlyMap<ChannelVersion, BlobRecord>;
  /** The remembered list that lists of `blobs` build on, when they do. */
  known?: KnownList;
}

/**
 * The blobs of one channel at `versions` (those that exist), with every version their lists build on. When
 * `lists` remembers a list of the channel older than every version wanted, the records from its version on come in
 * one range request, and if they build on it (it is still stored as it was) that is all. Otherwise: a range
 * request, and when lists need versions outside it, one more for the channel's versions whole (with lists, each
 * version holds little more than what it added). Items stored as slices come spliced.
 */
export async function readChannelBlobs(
  tx: IDBTransaction,
  prefix: [thread_id: string, checkpoint_ns: string],
  channel: string,
  versions: ChannelVersion[],
  lists?: ListCache,
): Promise<ChannelBlobs> {
  const store = tx.objectStore('blobs');
  const readOne = async (version: ChannelVersion) => {
    const blob = (await requestResult(store.get([...prefix, channel, version]))) as BlobRecord | undefined;
    return blob ? [blob] : [];
  };
  const knownAt = lists?.versionOf(...prefix, channel);
  if (knownAt !== undefined && versions.every((version) => indexedDB.cmp(version, knownAt) >= 0)) {
    const read = await readRange<ChannelVersion, BlobRecord>(store, [...prefix, channel], [...new Set([knownAt, ...versions])], (blob) => blob.version, readOne);
    const stored = new Map(read.map((blob) => [blob.version, blob]));
    const base = stored.get(knownAt);
    const known = base && lists!.knownFor(base);
    if (known && versions.every((version) => !stored.get(version)?.list || resolvesWith(version, stored, known))) {
      // The remembered list's own slices are spliced already: only the records above it need their sources.
      const above = new Map([...stored].filter(([version]) => version !== knownAt));
      const blobs = await spliceSlices(tx, prefix, above);
      return { blobs: blobs.set(knownAt, base), stored, known };
    }
  }
  const blobs = await readRange<ChannelVersion, BlobRecord>(store, [...prefix, channel], versions, (blob) => blob.version, readOne);
  let stored = new Map(blobs.map((blob) => [blob.version, blob]));
  if (![...listClosure(stored.keys(), stored)].every((version) => stored.has(version))) {
    const all = (await requestResult(store.getAll(prefixRange([...prefix, channel])))) as BlobRecord[];
    stored = new Map(all.map((blob) => [blob.version, blob]));
  }
  return { blobs: await spliceSlices(tx, prefix, stored), stored };
}

/** The value a record holds itself for a channel (`CheckpointRecord.values`), at the record's version of it. */
export function inlineValueOf(record: CheckpointRecord, channel: string): ChannelValue | undefined {
  const value = record.values?.[channel];
  const version = record.channel_versions[channel];
  return value === undefined || version === undefined ? undefined : { channel, version, value };
}

/** The value a channel has at `version`, from blobs read by `readChannelBlobs`; undefined when it has none. */
export function channelValueOf(channel: string, version: ChannelVersion, read: ChannelBlobs | undefined): ChannelValue | undefined {
  const blob = read?.blobs.get(version);
  if (blob?.list) return { channel, version, ...resolveList(channel, version, read!.blobs, read!.known) };
  return blob?.value ? { channel, version, value: blob.value } : undefined;
}

/** Remembers the lists among `values` (read by `readChannelBlobs` into `read`, by channel) in `lists`. */
export function rememberLists(lists: ListCache, values: ChannelValue[], read: ReadonlyMap<string, ChannelBlobs>): void {
  for (const value of values) {
    if ('value' in value) continue;
    const record = read.get(value.channel)?.stored.get(value.version);
    if (record) lists.remember(record, value);
  }
}

/** Issues every read of one group at once: a range request per channel, and one for the writes. */
async function readWanted(tx: IDBTransaction, { prefix, versions, checkpointIds }: Wanted, lists: ListCache | undefined): Promise<Found> {
  const writeStore = tx.objectStore('writes');
  const [channels, writeList] = await Promise.all([
    Promise.all([...versions].map(async ([channel, wanted]) => [channel, await readChannelBlobs(tx, prefix, channel, [...wanted], lists)] as const)),
    readWrites(writeStore, prefix, [...checkpointIds]),
  ]);
  const found: Found = { blobs: new Map(channels), writes: new Map() };
  for (const write of writeList) {
    let writes = found.writes.get(write.checkpoint_id);
    if (!writes) found.writes.set(write.checkpoint_id, (writes = []));
    writes.push(write);
  }
  return found;
}

/**
 * Blobs and writes for checkpoint records, in the caller's transaction: a few requests for a whole page. With
 * `lists`, a list value builds on the channel's list remembered there, and is remembered in its place: for the
 * reads that follow a conversation as it grows (a graph's `getTuple` of its thread's latest checkpoint).
 */
export async function readTuples(tx: IDBTransaction, records: CheckpointRecord[], lists?: ListCache): Promise<StoredTuple[]> {
  const reads = new Map([...wantedOf(records)].map(([groupKey, wanted]) => [groupKey, readWanted(tx, wanted, lists)]));
  return Promise.all(
    records.map(async (checkpoint): Promise<StoredTuple> => {
      const { thread_id, checkpoint_ns, checkpoint_id, channel_versions, v, parent_checkpoint_id } = checkpoint;
      const found = await reads.get(JSON.stringify([thread_id, checkpoint_ns]))!;
      const tuple: StoredTuple = {
        checkpoint,
        values: Object.entries(channel_versions).flatMap(
          ([channel, version]) => inlineValueOf(checkpoint, channel) ?? channelValueOf(channel, version, found.blobs.get(channel)) ?? [],
        ),
        writes: found.writes.get(checkpoint_id) ?? [],
      };
      if (lists) rememberLists(lists, tuple.values, found.blobs);
      if (v < 4 && parent_checkpoint_id !== undefined) {
        tuple.parentSends = (found.writes.get(parent_checkpoint_id) ?? []).filter((write) => write.channel === TASKS_CHANNEL);
      }
      return tuple;
    }),
  );
}
