/**
 * Checkpoint records stored as changes against their parent's (since schema 5). A chat stores three checkpoints a
 * turn, whose `versions_seen`, `channel_versions` and metadata mostly repeat their parent's: a record may hold only
 * what differs (`StoredCheckpointRecord`), with a whole record at least every `WHOLE_EVERY`, so that a read follows
 * at most `WHOLE_EVERY - 1` parents. Reads resolve stored records into whole ones in their own transaction. Nothing
 * here decodes a serialized value: the fields that changes hold are in clear.
 */
import { CheckpointError } from '../errors.js';
import type { ChannelVersion, CheckpointKey, CheckpointRecord, StoredCheckpointRecord } from './records.js';
import { newestRecords, requestResult } from './requests.js';

/** A record is stored whole when its parent's chain is this long already. */
export const WHOLE_EVERY = 32;

/** `ts` as stored: milliseconds where they give back the very string, else the string. */
export function storedTs(ts: string): number | string {
  const ms = Date.parse(ts);
  return Number.isFinite(ms) && new Date(ms).toISOString() === ts ? ms : ts;
}

/** A whole record as stored: its `ts` as `storedTs`, and `depth` 0 when it holds its fields in clear. */
export function storedWhole(record: CheckpointRecord): StoredCheckpointRecord {
  const { ts, depth, ...rest } = record;
  const stored: StoredCheckpointRecord = rest;
  if (ts !== undefined) stored.ts = storedTs(ts);
  if (depth !== undefined) stored.depth = 0;
  return stored;
}

function describe(record: Pick<CheckpointRecord, 'thread_id' | 'checkpoint_id'>): string {
  return `Checkpoint ${record.checkpoint_id} of thread ${JSON.stringify(record.thread_id)}`;
}

function corrupt(record: StoredCheckpointRecord, problem: string): CheckpointError {
  return new CheckpointError('DESERIALIZE', `${describe(record)} ${problem}: the database is corrupt.`);
}

/** Whether a stored record is a change against its parent's rather than whole. */
export function isChange(record: StoredCheckpointRecord): boolean {
  return record.depth !== undefined && record.depth > 0;
}

function wholeOf(stored: StoredCheckpointRecord): CheckpointRecord {
  const { ts, removed, ...rest } = stored;
  if (removed !== undefined || stored.channel_versions === undefined || stored.checkpoint === undefined || stored.metadata === undefined) {
    throw corrupt(stored, 'is stored whole but lacks a part of its record');
  }
  const record = rest as CheckpointRecord;
  if (ts !== undefined) record.ts = typeof ts === 'number' ? new Date(ts).toISOString() : ts;
  return record;
}

const own = (object: object, key: string) => Object.prototype.hasOwnProperty.call(object, key);

/** The whole record of a change against `parent`'s (resolved) record. */
export function applyChange(parent: CheckpointRecord, change: StoredCheckpointRecord): CheckpointRecord {
  const { ts, v, channel_versions = {}, versions_seen = {}, metadata_entries = {}, values, checkpoint, metadata, removed = [], ...rest } = change;
  if (parent.depth === undefined || parent.depth >= change.depth! || parent.versions_seen === undefined || parent.metadata_entries === undefined) {
    throw corrupt(change, `is stored as a change against its parent ${parent.checkpoint_id}, which does not hold its fields in clear, or not fewer changes deep`);
  }
  if (ts === undefined) throw corrupt(change, 'is stored as a change without its time');
  const seen: Record<string, Record<string, ChannelVersion>> = { ...parent.versions_seen };
  for (const [node, changed] of Object.entries(versions_seen)) seen[node] = { ...seen[node], ...changed };
  const record: CheckpointRecord = {
    // Left out when it is the parent's next step, and the parent's source and rebuilt channels when they are the same.
    ...(parent.step === undefined ? {} : { step: parent.step + 1 }),
    ...(parent.source === undefined ? {} : { source: parent.source }),
    ...(parent.delta_channels === undefined ? {} : { delta_channels: parent.delta_channels }),
    ...rest,
    v: v ?? parent.v,
    ts: typeof ts === 'number' ? new Date(ts).toISOString() : ts,
    channel_versions: { ...parent.channel_versions, ...channel_versions },
    versions_seen: seen,
    metadata_entries: { ...parent.metadata_entries, ...metadata_entries },
    checkpoint: checkpoint ?? parent.checkpoint,
    metadata: metadata ?? parent.metadata,
  };
  if (parent.values !== undefined || values !== undefined) record.values = { ...parent.values, ...values };
  for (const path of removed) {
    const [field, key, inner] = path;
    if ((field === 'step' || field === 'source' || field === 'delta_channels') && key === undefined) delete record[field];
    else if (field === 'channel_versions' && key !== undefined) delete record.channel_versions[key];
    else if (field === 'metadata_entries' && key !== undefined) delete record.metadata_entries![key];
    else if (field === 'values' && key !== undefined) delete record.values?.[key];
    else if (field === 'versions_seen' && key !== undefined && inner === undefined) delete seen[key];
    else if (field === 'versions_seen' && key !== undefined && inner !== undefined && own(seen, key)) {
      const { [inner]: _removed, ...kept } = seen[key]!;
      seen[key] = kept;
    } else throw corrupt(change, `removes ${JSON.stringify(path)}, which is no key of a record`);
  }
  return record;
}

const keyString = (thread_id: string, checkpoint_ns: string, checkpoint_id: string) => JSON.stringify([thread_id, checkpoint_ns, checkpoint_id]);

/**
 * Resolves stored checkpoint records into whole ones in one transaction, reading the parents that changes build on
 * (the records just below a change usually hold its whole chain: one request for as many as it may need). Records
 * already read are given to it, so that a page or a thread read whole needs no more reads. A change whose parent is
 * not stored is an error (`DESERIALIZE`), never a wrong record.
 */
export class ChainResolver {
  readonly #tx: IDBTransaction;
  readonly #stored = new Map<string, StoredCheckpointRecord>();
  readonly #resolved = new Map<string, Promise<CheckpointRecord>>();

  constructor(tx: IDBTransaction, known: Iterable<StoredCheckpointRecord> = []) {
    this.#tx = tx;
    for (const record of known) this.#add(record);
  }

  #add(record: StoredCheckpointRecord): void {
    const key = keyString(record.thread_id, record.checkpoint_ns, record.checkpoint_id);
    if (!this.#stored.has(key)) this.#stored.set(key, record);
  }

  /** Records read by the caller in the same transaction, which changes may build on. */
  add(records: Iterable<StoredCheckpointRecord>): void {
    for (const record of records) this.#add(record);
  }

  /** Each record whole, in order; oldest first underneath, so that the parents read for one serve the next. */
  async resolveAll(records: StoredCheckpointRecord[]): Promise<CheckpointRecord[]> {
    this.add(records);
    const order = records.map((_, i) => i).sort((a, b) => (records[a]!.checkpoint_id < records[b]!.checkpoint_id ? -1 : 1));
    const resolved: CheckpointRecord[] = new Array<CheckpointRecord>(records.length);
    for (const i of order) resolved[i] = await this.resolve(records[i]!);
    return resolved;
  }

  resolve(record: StoredCheckpointRecord): Promise<CheckpointRecord> {
    if (!isChange(record)) return Promise.resolve().then(() => wholeOf(record));
    const key = keyString(record.thread_id, record.checkpoint_ns, record.checkpoint_id);
    let resolved = this.#resolved.get(key);
    if (!resolved) {
      resolved = this.#resolveChange(record);
      this.#resolved.set(key, resolved);
    }
    return resolved;
  }

  async #resolveChange(record: StoredCheckpointRecord): Promise<CheckpointRecord> {
    const parentId = record.parent_checkpoint_id;
    if (parentId === undefined) throw corrupt(record, 'is stored as a change but has no parent');
    const parent = await this.#parentOf(record, parentId);
    if (!parent) {
      throw new CheckpointError(
        'DESERIALIZE',
        `${describe(record)} is stored as a change against its parent ${parentId}, which is not stored: the database is corrupt ` +
          '(a parent is never deleted while a record builds on it).',
      );
    }
    return applyChange(await this.resolve(parent), record);
  }

  async #parentOf(record: StoredCheckpointRecord, parentId: string): Promise<StoredCheckpointRecord | undefined> {
    const { thread_id, checkpoint_ns } = record;
    const key = keyString(thread_id, checkpoint_ns, parentId);
    if (this.#stored.has(key)) return this.#stored.get(key);
    const store = this.#tx.objectStore('checkpoints');
    const below = IDBKeyRange.bound([thread_id, checkpoint_ns], [thread_id, checkpoint_ns, record.checkpoint_id], false, true);
    const window = await newestRecords<StoredCheckpointRecord>(store, below, Math.min(record.depth!, WHOLE_EVERY));
    for (const { value } of window) this.#add(value);
    if (!this.#stored.has(key)) {
      const parent = (await requestResult(store.get([thread_id, checkpoint_ns, parentId] satisfies CheckpointKey))) as StoredCheckpointRecord | undefined;
      if (!parent) return undefined;
      this.#add(parent);
    }
    return this.#stored.get(key);
  }
}

/** Stored records resolved into whole ones in the caller's transaction. */
export function resolveRecords(tx: IDBTransaction, records: StoredCheckpointRecord[]): Promise<CheckpointRecord[]> {
  return new ChainResolver(tx).resolveAll(records);
}
