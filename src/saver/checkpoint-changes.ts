/**
 * How the saver stores a checkpoint record. Not encrypted, a record holds its `ts`, `versions_seen` and metadata
 * entries in clear (`CheckpointRecord`), and is stored as a change against the record of its parent when the saver
 * stored that one last in the thread and namespace (a chat's next checkpoint, always): only the entries that differ
 * (see `storage/checkpoint-chains.ts`, which resolves them). It is stored whole when the saver does not know the parent
 * (a fork, the first put after a reload), every `WHOLE_EVERY` records, and always when encrypting: those fields
 * were encrypted with the rest of the checkpoint and stay so.
 */
import type { SerializerProtocol } from '@langchain/langgraph-checkpoint';
import type { ValueCipher } from '../encryption/cipher.js';
import { WHOLE_EVERY, storedTs, storedWhole } from '../storage/checkpoint-chains.js';
import { sameBytes, type ChannelVersion, type CheckpointRecord, type StoredCheckpointRecord, type TypedBytes } from '../storage/records.js';
import { decode, encode } from './codec.js';
import { RecentByScope } from './recent-by-scope.js';

/** Scopes (thread and namespace) whose last record is remembered, at most. */
const REMEMBERED_SCOPES = 1024;

type VersionsSeen = Record<string, Record<string, ChannelVersion>>;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;

const isVersion = (value: unknown): value is ChannelVersion => typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));

/** `versions_seen` as LangGraph writes it: nodes to channels to versions (no key that would set a prototype). */
function isVersionsSeen(value: unknown): value is VersionsSeen {
  return (
    isPlainObject(value) &&
    Object.entries(value).every(([node, seen]) => node !== '__proto__' && isPlainObject(seen) && Object.values(seen).every(isVersion) && !Object.hasOwn(seen, '__proto__'))
  );
}

/** The fields a record holds in clear, out of the serialized checkpoint and metadata. */
export interface ClearFields {
  ts: string;
  versions_seen: VersionsSeen;
  /** The checkpoint's serialized rest, without them. */
  checkpoint: Record<string, unknown>;
  /** The metadata's entries to serialize one by one (those with a value). */
  metadata: Record<string, unknown>;
}

/** The fields a record can hold in clear, or undefined when it holds everything serialized (an odd direct caller's). */
export function clearFieldsOf(checkpoint: Record<string, unknown>, metadata: unknown): ClearFields | undefined {
  const { ts, versions_seen, ...rest } = checkpoint;
  if (typeof ts !== 'string' || !isVersionsSeen(versions_seen) || !isPlainObject(metadata) || Object.hasOwn(metadata, '__proto__')) return undefined;
  const seen = Object.fromEntries(Object.entries(versions_seen).map(([node, channels]) => [node, { ...channels }]));
  return { ts, versions_seen: seen, checkpoint: rest, metadata: Object.fromEntries(Object.entries(metadata).filter(([, value]) => value !== undefined)) };
}

/** Serializes metadata entries one by one. */
export async function encodeEntries(serde: SerializerProtocol, entries: Record<string, unknown>, what: string): Promise<Record<string, TypedBytes>> {
  const encoded = await Promise.all(Object.entries(entries).map(async ([key, value]) => [key, await encode(serde, value, `entry "${key}" of ${what}`)] as const));
  return Object.fromEntries(encoded);
}

/** A record's metadata: its serialized part with the entries it holds one by one. */
export async function decodeMetadata(serde: SerializerProtocol, record: CheckpointRecord, what: string, cipher?: ValueCipher): Promise<unknown> {
  const metadata = await decode<unknown>(serde, record.metadata, what, cipher);
  const entries = Object.entries(record.metadata_entries ?? {});
  if (entries.length === 0 || !isPlainObject(metadata)) return metadata;
  const decoded = await Promise.all(entries.map(async ([key, typed]) => [key, await decode<unknown>(serde, typed, `entry "${key}" of ${what}`, cipher)] as const));
  return { ...metadata, ...Object.fromEntries(decoded.filter(([, value]) => value !== undefined)) };
}

/**
 * The record as one stored before schema 5 is: everything serialized, nothing in clear. What sync sends, so that
 * the server and other devices see ordinary checkpoints.
 */
export async function ordinaryRecord(serde: SerializerProtocol, record: CheckpointRecord): Promise<CheckpointRecord> {
  const { ts, versions_seen, metadata_entries, depth, ...rest } = record;
  if (ts === undefined && versions_seen === undefined && metadata_entries === undefined && depth === undefined) return record;
  const what = `checkpoint ${record.checkpoint_id}`;
  const [serialized, metadata] = await Promise.all([decode<unknown>(serde, record.checkpoint, what), decodeMetadata(serde, record, `the metadata of ${what}`)]);
  const checkpoint = isPlainObject(serialized)
    ? { ...(ts === undefined ? {} : { ts }), ...(versions_seen === undefined ? {} : { versions_seen }), ...serialized }
    : serialized;
  const [checkpointBytes, metadataBytes] = await Promise.all([encode(serde, checkpoint, what), encode(serde, metadata, `the metadata of ${what}`)]);
  return { ...rest, checkpoint: checkpointBytes, metadata: metadataBytes };
}

function changedEntries<T>(
  parent: Record<string, T>,
  record: Record<string, T>,
  same: (a: T, b: T) => boolean,
  field: string,
  removed: string[][],
): Record<string, T> {
  const changed: Record<string, T> = {};
  for (const [key, value] of Object.entries(record)) if (!Object.hasOwn(parent, key) || !same(parent[key]!, value)) changed[key] = value;
  for (const key of Object.keys(parent)) if (!Object.hasOwn(record, key)) removed.push([field, key]);
  return changed;
}

/** The record as a change against `parent`'s (both whole, holding their fields in clear), `depth` one more. */
function changeAgainst(parent: CheckpointRecord, record: CheckpointRecord): StoredCheckpointRecord {
  const { v, ts, channel_versions, versions_seen, metadata_entries, values = {}, checkpoint, metadata, step, source, delta_channels, ...rest } = record;
  const removed: string[][] = [];
  const seen: VersionsSeen = {};
  const parentSeen = parent.versions_seen!;
  for (const [node, channels] of Object.entries(versions_seen!)) {
    if (!Object.hasOwn(parentSeen, node)) {
      seen[node] = channels;
      continue;
    }
    const gone: string[][] = [];
    const changed = changedEntries(parentSeen[node]!, channels, Object.is, node, gone);
    for (const [, channel] of gone) removed.push(['versions_seen', node, channel!]);
    if (Object.keys(changed).length > 0) seen[node] = changed;
  }
  for (const node of Object.keys(parentSeen)) if (!Object.hasOwn(versions_seen!, node)) removed.push(['versions_seen', node]);
  const entries = changedEntries(parent.metadata_entries!, metadata_entries!, sameBytes, 'metadata_entries', removed);
  const changedValues = changedEntries(parent.values ?? {}, values, sameBytes, 'values', removed);
  const change: StoredCheckpointRecord = {
    ...rest,
    depth: parent.depth! + 1,
    ts: storedTs(ts!),
    channel_versions: changedEntries(parent.channel_versions, channel_versions, Object.is, 'channel_versions', removed),
  };
  if (v !== parent.v) change.v = v;
  // The step is its parent's next, and the source and the channels rebuilt from writes are its parent's, but where
  // they are not.
  if (step !== (parent.step === undefined ? undefined : parent.step + 1)) {
    if (step === undefined) removed.push(['step']);
    else change.step = step;
  }
  if (source !== parent.source) {
    if (source === undefined) removed.push(['source']);
    else change.source = source;
  }
  if (JSON.stringify(delta_channels) !== JSON.stringify(parent.delta_channels)) {
    if (delta_channels === undefined) removed.push(['delta_channels']);
    else change.delta_channels = delta_channels;
  }
  if (Object.keys(seen).length > 0) change.versions_seen = seen;
  if (Object.keys(entries).length > 0) change.metadata_entries = entries;
  if (Object.keys(changedValues).length > 0) change.values = changedValues;
  if (!sameBytes(checkpoint, parent.checkpoint)) change.checkpoint = checkpoint;
  if (!sameBytes(metadata, parent.metadata)) change.metadata = metadata;
  if (removed.length > 0) change.removed = removed;
  return change;
}

/** Whether a record holds its fields in clear, so that a change can build on it or be made of it. */
const inClear = (record: CheckpointRecord) =>
  record.depth !== undefined && record.ts !== undefined && record.versions_seen !== undefined && record.metadata_entries !== undefined;

/** A record with bytes of its own, which no transfer to a worker empties. */
function ownCopy(record: CheckpointRecord): CheckpointRecord {
  const copy = (typed: TypedBytes): TypedBytes => ({ type: typed.type, bytes: typed.bytes.slice() });
  const owned: CheckpointRecord = { ...record, checkpoint: copy(record.checkpoint), metadata: copy(record.metadata) };
  if (record.metadata_entries) owned.metadata_entries = Object.fromEntries(Object.entries(record.metadata_entries).map(([key, typed]) => [key, copy(typed)]));
  if (record.values) owned.values = Object.fromEntries(Object.entries(record.values).map(([channel, typed]) => [channel, copy(typed)]));
  return owned;
}

/**
 * The last record the saver stored per thread and namespace, which the next one stores a change against when it is
 * its parent, and whose small values (`CheckpointRecord.values`) the next one keeps for the channels it did not
 * change. Records are remembered in call order, before they are serialized: the next put waits for its parent's.
 */
export class CheckpointChanges {
  readonly #last = new RecentByScope<{ checkpoint_id: string; record: Promise<CheckpointRecord | undefined> }>(REMEMBERED_SCOPES);

  /**
   * Called in call order by a put: `store` turns the put's whole record into the form to store (a change against
   * the parent's when known), and must be called once the record is made, or `fail` when it is not. `kept` gives the
   * parent's small values of the channels whose version the put keeps: from the remembered parent, or from
   * `readParent` when the saver did not store the parent last (a fork, the first put after a reload).
   */
  begin(
    thread_id: string,
    checkpoint_ns: string,
    checkpoint_id: string,
    parentId: string | undefined,
    readParent: () => Promise<CheckpointRecord | undefined>,
  ): { kept(versions: Record<string, ChannelVersion>): Promise<Record<string, TypedBytes>>; store(record: CheckpointRecord): Promise<StoredCheckpointRecord>; fail(): void } {
    const scope = [thread_id, checkpoint_ns] as const;
    const last = this.#last.get(scope);
    const parent = last !== undefined && parentId !== undefined && last.checkpoint_id === parentId ? last.record : undefined;
    let settle!: (record: CheckpointRecord | undefined) => void;
    this.#last.set(scope, { checkpoint_id, record: new Promise((resolve) => (settle = resolve)) });
    return {
      kept: async (versions) => {
        const source = (await parent) ?? (parentId === undefined ? undefined : await readParent());
        const kept: Record<string, TypedBytes> = {};
        for (const [channel, value] of Object.entries(source?.values ?? {})) {
          if (versions[channel] !== undefined && versions[channel] === source!.channel_versions[channel]) kept[channel] = value;
        }
        return kept;
      },
      store: async (record) => {
        const known = await parent;
        const stored =
          inClear(record) && known !== undefined && inClear(known) && known.depth! + 1 < WHOLE_EVERY ? changeAgainst(known, record) : storedWhole(record);
        // Encrypted records are remembered too: their children then know there are no small values to keep.
        settle(ownCopy(inClear(record) ? { ...record, depth: stored.depth ?? 0 } : record));
        return stored;
      },
      fail: () => settle(undefined),
    };
  }

  forgetThread(thread_id: string): void {
    this.#last.forgetThread(thread_id);
  }
}
