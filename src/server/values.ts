/**
 * Between stored records and LangGraph's values: records pushed by a device become ordinary checkpoints, values
 * and writes for the server's saver; what a server agent writes becomes records that devices pull.
 */
import {
  type ChannelVersions,
  type Checkpoint,
  type CheckpointMetadata,
  type PendingWrite,
  type SerializerProtocol,
  WRITES_IDX_MAP,
} from '@langchain/langgraph-checkpoint';
import { decode, encode } from '../saver/codec.js';
import { listValue } from '../saver/list-codec.js';
import { partOf } from '../saver/write-sources.js';
import { isItemSlice, resolveList } from '../storage/lists.js';
import { checkpointWithRecordFields, metadataWithRecordFields, type BlobRecord, type ChannelVersion, type CheckpointRecord, type TypedBytes, type WriteRecord, type WriteSource } from '../storage/records.js';
import type { DataRecord } from '../wire/records.js';

/** A value as the serializer gives it: its type and bytes. */
export type SerializedValue = [type: string, bytes: Uint8Array];

/** Stands for a list's items while the serializer spells the value around them (a tagged list's wrapper). */
const ITEMS_MARKER = '\u0000list items\u0000';
const utf8 = new TextEncoder();
const utf8Text = new TextDecoder();
const COMMA = utf8.encode(',');

/**
 * True when `serde` is LangGraph's JSON serializer itself, whose JSON of an array is its items' JSON, each as it is
 * on its own, joined by commas.
 */
function joinsArrays(serde: SerializerProtocol): boolean {
  return Object.getPrototypeOf(serde)?.constructor?.name === 'JsonPlusSerializer' && !Object.hasOwn(serde, 'dumpsTyped') && !Object.hasOwn(serde, '_dumps');
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i]);
}

function concatenated(parts: Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}

/**
 * The values of one channel at its versions in `blobs` (the versions a push brings and the stored ones their lists
 * build on), each decoded or serialized only when asked. Lists of one channel share most items (each version
 * stores only what it added): each item is decoded once, not once per version that holds it, and a list's bytes
 * for the saver are joined from its items' bytes, not serialized whole again (a DeltaChannel snapshot holds every
 * message so far, so serializing each whole costs the channel's history at every snapshot).
 */
export class ChannelValues {
  readonly #serde: SerializerProtocol;
  readonly #blobs: Map<ChannelVersion, BlobRecord>;
  /** Decoded list items, by the version and index that store them. */
  readonly #items = new Map<string, Promise<unknown>>();
  readonly #values = new Map<ChannelVersion, Promise<unknown>>();
  readonly #serialized = new Map<ChannelVersion, Promise<SerializedValue>>();

  constructor(serde: SerializerProtocol, blobs: ReadonlyMap<ChannelVersion, BlobRecord>) {
    this.#serde = serde;
    this.#blobs = new Map(blobs);
  }

  /**
   * Checks what the blob at `version` stores itself, before anything is written: its whole value decodes, or
   * each of its list's own items decodes (those of other versions are checked by theirs). When some items were
   * spelled otherwise than the saver's serializer spells their values (a device on another serializer release),
   * resolves with the blob spelled as it does, which is to be stored instead: lists joined from stored items then
   * give the bytes their whole values would.
   */
  async check(version: ChannelVersion): Promise<BlobRecord | undefined> {
    const blob = this.#blob(version);
    if (blob.value !== null) {
      await this.value(version);
      return undefined;
    }
    // Every item the list names is there and none is a slice; its tag is one this release wraps lists in.
    listValue([], resolveList(blob.channel, version, this.#blobs).tag, `channel "${blob.channel}" at version ${String(version)}`);
    const joins = joinsArrays(this.#serde);
    let respelled = false;
    const items = await Promise.all(
      (blob.list?.items ?? []).map(async (stored, index) => {
        if (isItemSlice(stored)) throw new Error(`item ${index} of channel "${blob.channel}" at version ${String(version)} is a slice, not its bytes`);
        const value = await this.#item(version, index, stored);
        if (!joins || stored.type !== 'json') return stored;
        const [type, bytes] = await this.#serde.dumpsTyped(value);
        if (type === 'json' && sameBytes(bytes, stored.bytes)) return stored;
        respelled = true;
        return { type, bytes };
      }),
    );
    if (!respelled) return undefined;
    const respelledBlob: BlobRecord = { ...blob, list: { ...blob.list!, items } };
    this.#blobs.set(version, respelledBlob);
    return respelledBlob;
  }

  /** The ordinary value at `version`; a list is rebuilt from the channel's versions. */
  value(version: ChannelVersion): Promise<unknown> {
    let value = this.#values.get(version);
    if (!value) this.#values.set(version, (value = this.#decode(version)));
    return value;
  }

  /**
   * What the saver's `serde.dumpsTyped` gives for the value at `version`: a list's bytes are its items' bytes as
   * stored (checked when they came) joined, in the wrapper of a tagged list that the serializer spells around a
   * marker. A serializer other than LangGraph's JSON one, or an item that is not JSON, serializes the value whole.
   */
  serialized(version: ChannelVersion): Promise<SerializedValue> {
    let serialized = this.#serialized.get(version);
    if (!serialized) this.#serialized.set(version, (serialized = this.#serialize(version)));
    return serialized;
  }

  #blob(version: ChannelVersion): BlobRecord {
    const blob = this.#blobs.get(version);
    if (!blob) throw new Error(`no value of the channel at version ${String(version)} is known`);
    return blob;
  }

  /** The decoded item `index` of the list at `version`, stored as `stored`. */
  #item(version: ChannelVersion, index: number, stored: TypedBytes): Promise<unknown> {
    const key = `${JSON.stringify(version)} ${index}`;
    let value = this.#items.get(key);
    if (!value) this.#items.set(key, (value = decode(this.#serde, stored, `item ${index} of channel "${this.#blob(version).channel}" at version ${String(version)}`)));
    return value;
  }

  async #decode(version: ChannelVersion): Promise<unknown> {
    const blob = this.#blob(version);
    const what = `channel "${blob.channel}" at version ${String(version)}`;
    if (blob.value !== null) return decode(this.#serde, blob.value, what);
    const { items, refs, tag } = resolveList(blob.channel, version, this.#blobs);
    const values = await Promise.all(refs.map(([at, index], i) => this.#item(at, index, items[i]!)));
    return listValue(values, tag, what);
  }

  async #serialize(version: ChannelVersion): Promise<SerializedValue> {
    const blob = this.#blob(version);
    const whole = async () => this.#serde.dumpsTyped(await this.value(version));
    if (blob.value !== null || !joinsArrays(this.#serde)) return whole();
    const { items, tag } = resolveList(blob.channel, version, this.#blobs);
    if (!items.every((item) => item.type === 'json')) return whole();
    const [wrapperType, wrapperBytes] = await this.#serde.dumpsTyped(listValue([ITEMS_MARKER], tag, 'a list wrapper'));
    const wrapper = utf8Text.decode(wrapperBytes);
    const hole = `[${JSON.stringify(ITEMS_MARKER)}]`;
    const at = wrapper.indexOf(hole);
    if (wrapperType !== 'json' || at < 0 || wrapper.indexOf(hole, at + 1) >= 0) return whole();
    const parts = [utf8.encode(`${wrapper.slice(0, at)}[`), ...items.flatMap((item, i) => (i === 0 ? [item.bytes] : [COMMA, item.bytes])), utf8.encode(`]${wrapper.slice(at + hole.length)}`)];
    return ['json', concatenated(parts)];
  }
}

/** A checkpoint record decoded, without its channels' values, and its metadata, as LangGraph's `put` takes them. */
export async function checkpointOf(
  serde: SerializerProtocol,
  record: CheckpointRecord,
): Promise<{ checkpoint: Omit<Checkpoint, 'channel_values'>; metadata: CheckpointMetadata }> {
  const label = `checkpoint ${record.checkpoint_id}`;
  const [rest, metadata] = await Promise.all([
    decode<Record<string, unknown>>(serde, record.checkpoint, label).then((decoded) => checkpointWithRecordFields(record, decoded)),
    decode<CheckpointMetadata>(serde, record.metadata, `the metadata of ${label}`).then((decoded) => metadataWithRecordFields(record, decoded)),
  ]);
  if (typeof rest !== 'object' || rest === null || Array.isArray(rest)) throw new TypeError(`${label} is not an object`);
  if (rest['id'] !== record.checkpoint_id) throw new TypeError(`${label} holds the id ${JSON.stringify(rest['id'])}, not its own`);
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new TypeError(`the metadata of ${label} is not an object`);
  const { channel_values: _values, ...fields } = rest;
  const checkpoint = { ...fields, channel_versions: { ...record.channel_versions } } as unknown as Omit<Checkpoint, 'channel_values'>;
  return { checkpoint, metadata };
}

/**
 * The writes of one task as LangGraph's `putWrites` takes them: it numbers regular writes by their position and
 * special channels by `WRITES_IDX_MAP`, so each regular write goes at the position of its `idx`, and gaps (which
 * special writes filled in the original call) take special writes again, which are replaced as they are.
 * Undefined when the writes cannot be put so (regular writes missing from the group).
 */
export async function pendingWritesOf(
  serde: SerializerProtocol,
  writes: WriteRecord[],
  sourceOf: (write: WriteRecord & { of: WriteSource }) => Promise<unknown>,
): Promise<PendingWrite[] | undefined> {
  const decoded = await Promise.all(
    writes.map(async (write) => {
      const what = `the write to "${write.channel}" of task ${write.task_id}`;
      const value = await decode(serde, write.value, what);
      // A write stored as a part of a value of its checkpoint (see WriteSource).
      return [write, write.of ? partOf(await sourceOf({ ...write, of: write.of }), value, what) : value] as const;
    }),
  );
  const special: PendingWrite[] = [];
  const slots: (PendingWrite | undefined)[] = [];
  for (const [write, value] of decoded) {
    if (write.idx < 0) special.push([write.channel, value]);
    else slots[write.idx] = [write.channel, value];
  }
  const arranged: PendingWrite[] = [];
  let filler = 0;
  for (let position = 0; position < slots.length; position += 1) {
    const write = slots[position] ?? special[filler++];
    if (write === undefined) return undefined;
    arranged.push(write);
  }
  return [...arranged, ...special.slice(filler)];
}

/** True when a write's idx is the one LangGraph gives its channel: special channels have theirs, others are positions. */
export function hasConsistentIdx(write: WriteRecord): boolean {
  const special = Object.prototype.hasOwnProperty.call(WRITES_IDX_MAP, write.channel) ? WRITES_IDX_MAP[write.channel] : undefined;
  return special === undefined ? write.idx >= 0 : write.idx === special;
}

/** The channels whose value LangGraph rebuilds from ancestors' writes (`DeltaChannel`), as the savers record them. */
function deltaChannelsOf(metadata: CheckpointMetadata): string[] {
  const counters = (metadata as { counters_since_delta_snapshot?: unknown }).counters_since_delta_snapshot;
  return typeof counters === 'object' && counters !== null ? Object.keys(counters) : [];
}

/** The records of one `put`, values whole, as the browser savers would store them. */
export async function checkpointRecords(
  serde: SerializerProtocol,
  scope: { thread_id: string; checkpoint_ns: string; parent?: string },
  checkpoint: Checkpoint,
  metadata: CheckpointMetadata,
  newVersions: ChannelVersions,
): Promise<DataRecord[]> {
  const { thread_id, checkpoint_ns } = scope;
  const { channel_values: values = {}, channel_versions: versions = {}, ...rest } = checkpoint;
  const label = `checkpoint ${checkpoint.id}`;
  const blobs = await Promise.all(
    Object.entries(newVersions)
      .filter(([channel]) => Object.prototype.hasOwnProperty.call(values, channel))
      .map(
        async ([channel, version]): Promise<DataRecord> => ({
          kind: 'blob',
          thread_id,
          checkpoint_ns,
          channel,
          version,
          value: await encode(serde, values[channel], `channel "${channel}" of ${label}`),
        }),
      ),
  );
  const record: DataRecord = {
    kind: 'checkpoint',
    thread_id,
    checkpoint_ns,
    checkpoint_id: checkpoint.id,
    v: checkpoint.v,
    channel_versions: { ...versions },
    checkpoint: await encode(serde, rest, label),
    metadata: await encode(serde, metadata, `the metadata of ${label}`),
  };
  if (scope.parent !== undefined) record.parent_checkpoint_id = scope.parent;
  if (typeof metadata.step === 'number') record.step = metadata.step;
  if (typeof metadata.source === 'string') record.source = metadata.source;
  const delta = deltaChannelsOf(metadata);
  if (delta.length > 0) record.delta_channels = delta;
  // Values first: a device that pulls the checkpoint has its values already.
  return [...blobs, record];
}

/** The records of one `putWrites`, numbered as LangGraph numbers them. */
export function writeRecords(
  serde: SerializerProtocol,
  scope: { thread_id: string; checkpoint_ns: string; checkpoint_id: string },
  writes: PendingWrite[],
  task_id: string,
  task_path: string,
): Promise<DataRecord[]> {
  return Promise.all(
    writes.map(
      async ([channel, value], position): Promise<DataRecord> => ({
        kind: 'write',
        ...scope,
        task_id,
        idx: Object.prototype.hasOwnProperty.call(WRITES_IDX_MAP, channel) ? WRITES_IDX_MAP[channel]! : position,
        channel,
        value: await encode(serde, value, `the write to "${channel}" of task ${task_id}`),
        task_path,
      }),
    ),
  );
}
