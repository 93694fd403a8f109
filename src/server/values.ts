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
import { resolveList } from '../storage/lists.js';
import { checkpointWithRecordFields, metadataWithRecordFields, type BlobRecord, type ChannelVersion, type CheckpointRecord, type WriteRecord, type WriteSource } from '../storage/records.js';
import type { SyncRecord } from '../wire/records.js';

/** Decoded list items of one channel, by the version and index that store them. */
export type DecodedItems = Map<string, Promise<unknown>>;

/**
 * The ordinary value of a channel at a version; a list is rebuilt from `blobs`, the channel's stored versions.
 * Lists of one channel share most items (each version stores only what it added): given the same `decodedItems`
 * across versions, each stored item is decoded once, not once per version that holds it.
 */
export async function blobValue(
  serde: SerializerProtocol,
  blob: BlobRecord,
  blobs: ReadonlyMap<ChannelVersion, BlobRecord>,
  decodedItems: DecodedItems = new Map(),
): Promise<unknown> {
  const what = `channel "${blob.channel}" at version ${String(blob.version)}`;
  if (blob.value !== null) return decode(serde, blob.value, what);
  const { items, refs, tag } = resolveList(blob.channel, blob.version, blobs);
  const values = items.map((item, i) => {
    const [at, index] = refs[i]!;
    const key = `${JSON.stringify(at)} ${index}`;
    let value = decodedItems.get(key);
    if (!value) decodedItems.set(key, (value = decode(serde, item, `item ${index} of channel "${blob.channel}" at version ${String(at)}`)));
    return value;
  });
  return listValue(await Promise.all(values), tag, what);
}

/** A checkpoint record with the values it names, as LangGraph's `put` takes it. */
export async function checkpointOf(
  serde: SerializerProtocol,
  record: CheckpointRecord,
  values: Record<string, unknown>,
): Promise<{ checkpoint: Checkpoint; metadata: CheckpointMetadata }> {
  const label = `checkpoint ${record.checkpoint_id}`;
  const [rest, metadata] = await Promise.all([
    decode<Record<string, unknown>>(serde, record.checkpoint, label).then((decoded) => checkpointWithRecordFields(record, decoded)),
    decode<CheckpointMetadata>(serde, record.metadata, `the metadata of ${label}`).then((decoded) => metadataWithRecordFields(record, decoded)),
  ]);
  if (typeof rest !== 'object' || rest === null || Array.isArray(rest)) throw new TypeError(`${label} is not an object`);
  if (rest['id'] !== record.checkpoint_id) throw new TypeError(`${label} holds the id ${JSON.stringify(rest['id'])}, not its own`);
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new TypeError(`the metadata of ${label} is not an object`);
  const checkpoint = { ...rest, channel_values: values, channel_versions: { ...record.channel_versions } } as unknown as Checkpoint;
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
): Promise<SyncRecord[]> {
  const { thread_id, checkpoint_ns } = scope;
  const { channel_values: values = {}, channel_versions: versions = {}, ...rest } = checkpoint;
  const label = `checkpoint ${checkpoint.id}`;
  const blobs = await Promise.all(
    Object.entries(newVersions)
      .filter(([channel]) => Object.prototype.hasOwnProperty.call(values, channel))
      .map(
        async ([channel, version]): Promise<SyncRecord> => ({
          kind: 'blob',
          thread_id,
          checkpoint_ns,
          channel,
          version,
          value: await encode(serde, values[channel], `channel "${channel}" of ${label}`),
        }),
      ),
  );
  const record: SyncRecord = {
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
): Promise<SyncRecord[]> {
  return Promise.all(
    writes.map(
      async ([channel, value], position): Promise<SyncRecord> => ({
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
