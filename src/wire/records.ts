/**
 * Records on the wire: the stored records of `storage/records.ts` as JSON, bytes in base64, each tagged with its
 * kind. Both ends of sync speak it; `readWireRecord` checks everything that arrives from the other side, so what
 * it returns has the exact shape the storage writes. Pure: no LangGraph, no transport.
 */
import { CheckpointError } from '../errors.js';
import { isItemSlice } from '../storage/lists.js';
import type { BlobRecord, ChannelVersion, CheckpointRecord, ListRun, StoredItem, StoredList, TypedBytes, WriteRecord } from '../storage/records.js';

/** Serialized bytes with their type tag; `bytes` is standard base64 with padding. */
export interface WireBytes {
  type: string;
  bytes: string;
}

export interface WireList {
  items: WireBytes[];
  base?: ChannelVersion;
  depth?: number;
  runs?: ListRun[];
  tag?: string;
}

export type WireCheckpoint = Omit<CheckpointRecord, 'checkpoint' | 'metadata'> & {
  kind: 'checkpoint';
  checkpoint: WireBytes;
  metadata: WireBytes;
};
export type WireBlob = Omit<BlobRecord, 'value' | 'list'> & { kind: 'blob'; value: WireBytes | null; list?: WireList };
export type WireWrite = Omit<WriteRecord, 'value'> & { kind: 'write'; value: WireBytes };
/** `deleteThread`: the thread and everything in it is gone, on every device, for good. */
export interface WireTombstone {
  kind: 'delete';
  thread_id: string;
}
/**
 * A checkpoint pruned with `everywhere`: it, its writes and the values nothing kept needs are gone on every device
 * and on the server, and never come back; a checkpoint kept elsewhere that needs it to read back keeps it there.
 */
export interface WirePrune {
  kind: 'prune';
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
}
export type WireRecord = WireCheckpoint | WireBlob | WireWrite | WireTombstone | WirePrune;

/** A record as the storage holds it, with its kind. */
export type SyncRecord = DataRecord | WireTombstone | WirePrune;

/** A stored record (not a deletion), with its kind. */
export type DataRecord = ({ kind: 'checkpoint' } & CheckpointRecord) | ({ kind: 'blob' } & BlobRecord) | ({ kind: 'write' } & WriteRecord);

/** Longest id, namespace, channel, task path or string version accepted, in UTF-16 units. */
export const MAX_NAME_LENGTH = 512;
/** Longest serializer type tag accepted. */
const MAX_TYPE_LENGTH = 64;
/** Channels per checkpoint accepted. */
const MAX_CHANNELS = 10_000;

const NodeBuffer = (globalThis as { Buffer?: { from(data: string | Uint8Array, encoding?: string): Uint8Array & { toString(encoding: string): string } } }).Buffer;

/** `Uint8Array.prototype.toBase64` (Chromium 140, Firefox 133, Safari 18.2): native, where the fallback builds a string of every byte. */
const nativeToBase64 = (Uint8Array.prototype as unknown as { toBase64?: (this: Uint8Array) => string }).toBase64;

function toBase64(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer instanceof ArrayBuffer ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes).toString('base64');
  if (nativeToBase64) return nativeToBase64.call(bytes);
  let text = '';
  // Chunks keep the argument list of String.fromCharCode short.
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** `Uint8Array.fromBase64` (Chromium 140, Firefox 133, Safari 18.2): native, where the fallback decodes byte by byte. */
const nativeFromBase64 = (Uint8Array as unknown as { fromBase64?: (text: string) => Uint8Array }).fromBase64;

function fromBase64(text: string): Uint8Array {
  if (NodeBuffer) {
    const view = NodeBuffer.from(text, 'base64');
    // A copy that owns its whole buffer, as the storage expects of stored bytes.
    return new Uint8Array(view);
  }
  // `text` matched BASE64 already, so both ways read it alike.
  if (nativeFromBase64) return nativeFromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A list item as it travels: whole (the journal splices slices as it reads them, see `readJournalEntries`). */
function toWireItem(item: StoredItem): WireBytes {
  if (isItemSlice(item)) throw new CheckpointError('SYNC', 'A list item stored as a slice of another record cannot travel on its own; it must be read whole.');
  return toWireBytes(item);
}

export function toWireBytes(typed: TypedBytes): WireBytes {
  return { type: typed.type, bytes: toBase64(typed.bytes) };
}

/** A stored record as it travels. */
export function toWireRecord(record: SyncRecord): WireRecord {
  switch (record.kind) {
    case 'checkpoint':
      return { ...record, checkpoint: toWireBytes(record.checkpoint), metadata: toWireBytes(record.metadata) };
    case 'blob': {
      const { list, ...rest } = record;
      const wire: WireBlob = { ...rest, value: record.value === null ? null : toWireBytes(record.value) };
      if (list) wire.list = { ...list, items: list.items.map(toWireItem) };
      return wire;
    }
    case 'write':
      return { ...record, value: toWireBytes(record.value) };
    case 'delete':
      return { kind: 'delete', thread_id: record.thread_id };
    case 'prune':
      return { kind: 'prune', thread_id: record.thread_id, checkpoint_ns: record.checkpoint_ns, checkpoint_id: record.checkpoint_id };
  }
}

/** Reads fields of one untrusted object, naming the field in every complaint. */
class Reader {
  constructor(
    readonly value: Record<string, unknown>,
    readonly path: string,
  ) {}

  static of(value: unknown, path: string): Reader {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(path, 'must be an object');
    return new Reader(value as Record<string, unknown>, path);
  }

  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.value, key) && this.value[key] !== undefined;
  }

  name(key: string, options: { empty?: boolean } = {}): string {
    return readName(this.value[key], `${this.path}.${key}`, options);
  }

  integer(key: string, min: number): number {
    const value = this.value[key];
    if (!Number.isSafeInteger(value) || (value as number) < min) throw invalid(`${this.path}.${key}`, `must be a whole number of at least ${min}`);
    return value as number;
  }

  bytes(key: string): TypedBytes {
    return readBytes(this.value[key], `${this.path}.${key}`);
  }
}

function invalid(path: string, problem: string): CheckpointError {
  return new CheckpointError('DESERIALIZE', `${path} ${problem}.`);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A string the database stores exactly: well-formed UTF-16, no NUL, not too long. */
export function readName(value: unknown, path: string, options: { empty?: boolean } = {}): string {
  if (typeof value !== 'string') throw invalid(path, `must be a string, got ${value === null ? 'null' : typeof value}`);
  if (value === '' && !options.empty) throw invalid(path, 'must not be empty');
  if (value.length > MAX_NAME_LENGTH) throw invalid(path, `is longer than ${MAX_NAME_LENGTH} characters`);
  if (value.includes('\u0000')) throw invalid(path, 'contains a NUL character');
  if (LONE_SURROGATE.test(value)) throw invalid(path, 'contains a lone surrogate (not valid Unicode)');
  return value;
}

function readVersion(value: unknown, path: string): ChannelVersion {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(path, 'must be a finite number or a string');
    return value;
  }
  return readName(value, path);
}

function readChannel(value: unknown, path: string): string {
  const channel = readName(value, path);
  // Values are rebuilt into plain objects keyed by channel, where this name would replace the prototype.
  if (channel === '__proto__') throw invalid(path, 'is "__proto__", a name no channel may have');
  return channel;
}

function readBytes(value: unknown, path: string): TypedBytes {
  const reader = Reader.of(value, path);
  const type = reader.name('type');
  if (type.length > MAX_TYPE_LENGTH) throw invalid(`${path}.type`, `is longer than ${MAX_TYPE_LENGTH} characters`);
  const text = reader.value['bytes'];
  if (typeof text !== 'string' || !BASE64.test(text)) throw invalid(`${path}.bytes`, 'must be a base64 string');
  return { type, bytes: fromBase64(text) };
}

function readRun(value: unknown, path: string, hasBase: boolean): ListRun {
  const reader = Reader.of(value, path);
  const count = reader.integer('count', 1);
  if (reader.has('at')) {
    return { at: readVersion(reader.value['at'], `${path}.at`), own: reader.integer('own', 0), count };
  }
  if (reader.has('base')) {
    if (!hasBase) throw invalid(path, 'refers to a base, but its list has none');
    return { base: reader.integer('base', 0), count };
  }
  return { own: reader.integer('own', 0), count };
}

function readList(value: unknown, path: string): StoredList {
  const reader = Reader.of(value, path);
  const items = reader.value['items'];
  const runs = reader.value['runs'];
  if (!Array.isArray(items)) throw invalid(`${path}.items`, 'must be an array');
  if (reader.has('runs') && !Array.isArray(runs)) throw invalid(`${path}.runs`, 'must be an array');
  const list: StoredList = { items: items.map((item, i) => readBytes(item, `${path}.items[${i}]`)) };
  if (reader.has('depth')) list.depth = reader.integer('depth', 0);
  if (reader.has('tag')) list.tag = reader.name('tag');
  if (reader.has('base')) list.base = readVersion(reader.value['base'], `${path}.base`);
  else if (list.depth !== undefined && list.depth !== 0) throw invalid(`${path}.depth`, 'must be 0 for a list without a base');
  if (Array.isArray(runs)) {
    list.runs = runs.map((run, i) => readRun(run, `${path}.runs[${i}]`, list.base !== undefined));
    for (const [i, run] of list.runs.entries()) {
      if ('own' in run && !('at' in run) && run.own + run.count > list.items.length) throw invalid(`${path}.runs[${i}]`, 'refers to items the list does not have');
    }
  }
  return list;
}

/**
 * Fields of checkpoint records held in clear, stored as changes against their parent's (`checkpoint-chains.ts`) or
 * holding small values (`values`): local to one database. Sync sends whole, ordinary records and their values as
 * values of their own, which the server and other devices read on their own.
 */
const LOCAL_CHECKPOINT_FIELDS = ['depth', 'removed', 'ts', 'versions_seen', 'metadata_entries', 'values'] as const;

function readCheckpoint(reader: Reader): SyncRecord {
  const { path } = reader;
  for (const field of LOCAL_CHECKPOINT_FIELDS) {
    if (reader.has(field)) {
      throw invalid(`${path}.${field}`, 'belongs to checkpoint records as one database stores them (in clear, as a change against the parent, or holding values); send the whole, ordinary record');
    }
  }
  const versions = Reader.of(reader.value['channel_versions'], `${path}.channel_versions`);
  const entries = Object.entries(versions.value);
  if (entries.length > MAX_CHANNELS) throw invalid(`${path}.channel_versions`, `names more than ${MAX_CHANNELS} channels`);
  const channel_versions: Record<string, ChannelVersion> = {};
  for (const [channel, version] of entries) {
    readChannel(channel, `${path}.channel_versions (a channel name)`);
    channel_versions[channel] = readVersion(version, `${path}.channel_versions[${JSON.stringify(channel)}]`);
  }
  const v = reader.value['v'];
  if (!Number.isSafeInteger(v)) throw invalid(`${path}.v`, 'must be a whole number');
  const record: SyncRecord = {
    kind: 'checkpoint',
    thread_id: reader.name('thread_id'),
    checkpoint_ns: reader.name('checkpoint_ns', { empty: true }),
    checkpoint_id: reader.name('checkpoint_id'),
    v: v as number,
    channel_versions,
    checkpoint: reader.bytes('checkpoint'),
    metadata: reader.bytes('metadata'),
  };
  if (reader.has('parent_checkpoint_id')) record.parent_checkpoint_id = reader.name('parent_checkpoint_id');
  if (reader.has('step')) {
    const step = reader.value['step'];
    if (!Number.isSafeInteger(step)) throw invalid(`${path}.step`, 'must be a whole number');
    record.step = step as number;
  }
  if (reader.has('source')) record.source = reader.name('source');
  if (reader.has('delta_channels')) {
    const channels = reader.value['delta_channels'];
    if (!Array.isArray(channels) || channels.length > MAX_CHANNELS) throw invalid(`${path}.delta_channels`, 'must be an array of channel names');
    record.delta_channels = channels.map((channel, i) => readChannel(channel, `${path}.delta_channels[${i}]`));
  }
  return record;
}

function readBlob(reader: Reader): SyncRecord {
  const { path } = reader;
  const record: SyncRecord = {
    kind: 'blob',
    thread_id: reader.name('thread_id'),
    checkpoint_ns: reader.name('checkpoint_ns', { empty: true }),
    channel: readChannel(reader.value['channel'], `${path}.channel`),
    version: readVersion(reader.value['version'], `${path}.version`),
    value: null,
  };
  const hasValue = reader.value['value'] !== null && reader.value['value'] !== undefined;
  if (hasValue === reader.has('list')) throw invalid(path, 'must hold either a value or a list');
  if (hasValue) record.value = reader.bytes('value');
  else record.list = readList(reader.value['list'], `${path}.list`);
  return record;
}

function readWrite(reader: Reader): SyncRecord {
  const idx = reader.value['idx'];
  if (!Number.isSafeInteger(idx)) throw invalid(`${reader.path}.idx`, 'must be a whole number');
  const record: SyncRecord = {
    kind: 'write',
    thread_id: reader.name('thread_id'),
    checkpoint_ns: reader.name('checkpoint_ns', { empty: true }),
    checkpoint_id: reader.name('checkpoint_id'),
    task_id: reader.name('task_id'),
    idx: idx as number,
    channel: readChannel(reader.value['channel'], `${reader.path}.channel`),
    value: reader.bytes('value'),
    task_path: reader.has('task_path') ? reader.name('task_path', { empty: true }) : '',
  };
  if (reader.has('of')) {
    const of = Reader.of(reader.value['of'], `${reader.path}.of`);
    record.of = { channel: readChannel(of.value['channel'], `${of.path}.channel`), version: readVersion(of.value['version'], `${of.path}.version`) };
  }
  return record;
}

/**
 * Checks one record that came over the wire and returns it as the storage holds it (only the known fields, bytes
 * decoded). Throws a `CheckpointError` with code `DESERIALIZE` naming the field (`path` prefixes it).
 */
export function readWireRecord(value: unknown, path: string): SyncRecord {
  const reader = Reader.of(value, path);
  const kind = reader.value['kind'];
  switch (kind) {
    case 'checkpoint':
      return readCheckpoint(reader);
    case 'blob':
      return readBlob(reader);
    case 'write':
      return readWrite(reader);
    case 'delete':
      return { kind: 'delete', thread_id: reader.name('thread_id') };
    case 'prune':
      return { kind: 'prune', thread_id: reader.name('thread_id'), checkpoint_ns: reader.name('checkpoint_ns', { empty: true }), checkpoint_id: reader.name('checkpoint_id') };
    default:
      throw invalid(`${path}.kind`, 'must be "checkpoint", "blob", "write", "delete" or "prune"');
  }
}

/** The key of a record within its thread and namespace, as one string: equal keys, same record. */
export function recordKey(record: DataRecord): string {
  switch (record.kind) {
    case 'checkpoint':
      return JSON.stringify([record.checkpoint_id]);
    case 'blob':
      return blobKey(record.channel, record.version);
    case 'write':
      return JSON.stringify([record.checkpoint_id, record.task_id, record.idx]);
  }
}

/** The key of a channel's value at a version: `1` and `"1"` are different versions. */
export function blobKey(channel: string, version: ChannelVersion): string {
  return JSON.stringify([channel, version]);
}
