/**
 * A push, all or nothing: every record is checked and every value it brings decoded before anything is written; the
 * saver is written first and sync's tables last, so a record the tables hold is always in the saver too, and a
 * push cut off halfway is completed by its retry (every step is idempotent).
 */
import type { BaseCheckpointSaver, ChannelVersions, Checkpoint } from '@langchain/langgraph-checkpoint';
import { ENCRYPTED_TYPE } from '../encryption/cipher.js';
import { CheckpointError } from '../errors.js';
import { listClosure, listDependencies } from '../storage/lists.js';
import type { BlobRecord, ChannelVersion, WriteRecord, WriteSource } from '../storage/records.js';
import type { PushResponse } from '../wire/protocol.js';
import { blobKey, type DataRecord, type SyncRecord, type WirePrune } from '../wire/records.js';
import { SyncHttpError, badRequest } from './http-error.js';
import { deleteSaverCheckpoints, type PostgresBatch } from './postgres-batch.js';
import type { PushedValue, SaverOps } from './saver-ops.js';
import { checkpointKey, recordRow, rowKey, type CommitResult, type RecordRow, type RecordStore } from './record-store.js';
import { ChannelValues, checkpointOf, hasConsistentIdx, pendingWritesOf } from './values.js';

type Blob = { kind: 'blob' } & BlobRecord;

interface Entry {
  record: DataRecord;
  row: RecordRow;
  /** Position in the request, for messages. */
  at: number;
}

export interface PushContext {
  store: RecordStore;
  saver: BaseCheckpointSaver;
  /** The batch writer of the saver's tables when it is a PostgresSaver of a known layout (see postgres-batch.ts). */
  batch?: PostgresBatch;
}

function scopeKey(record: { thread_id: string; checkpoint_ns: string }, ...rest: (string | number)[]): string {
  return JSON.stringify([record.thread_id, record.checkpoint_ns, ...rest]);
}

/** Blobs in an order where every list comes after the versions of its channel it builds on. */
function dependencyOrder(blobs: Entry[]): Entry[] {
  const byKey = new Map(blobs.map((entry) => [entry.row.record_key + entry.row.thread_id + '\u0000' + entry.row.checkpoint_ns, entry]));
  const ordered: Entry[] = [];
  const visited = new Set<Entry>();
  const visit = (entry: Entry) => {
    if (visited.has(entry)) return;
    visited.add(entry);
    const blob = entry.record as Blob;
    const list = blob.list;
    for (const version of list ? listDependencies(list) : []) {
      const dependency = byKey.get(blobKey(blob.channel, version) + blob.thread_id + '\u0000' + blob.checkpoint_ns);
      if (dependency) visit(dependency);
    }
    ordered.push(entry);
  };
  blobs.forEach(visit);
  return ordered;
}

/**
 * Loads, from the stored records, what resolving the lists of `blobs` needs beyond the batch: each list's chain
 * of bases and the versions its runs name. Returns the channel's versions by version. The bases the batch names
 * come in one query; when those build on versions not loaded yet (a chain is up to a few hundred lists long, see
 * `baseDepthOf`, and its items live in every version that added one), the channel's versions come whole in one more.
 */
async function channelVersions(store: RecordStore, batch: Blob[]): Promise<Map<ChannelVersion, BlobRecord>> {
  const { thread_id, checkpoint_ns, channel } = batch[0]!;
  const known = new Map<ChannelVersion, BlobRecord>(batch.map((blob) => [blob.version, blob]));
  const wanted = () => [...listClosure(known.keys(), known)].filter((version) => !known.has(version));
  const bases = wanted();
  for (const blob of await store.blobs(thread_id, checkpoint_ns, channel, bases)) known.set(blob.version, blob);
  if (bases.length > 0 && wanted().length > 0) {
    for (const blob of await store.channelBlobs(thread_id, checkpoint_ns, channel)) if (!known.has(blob.version)) known.set(blob.version, blob);
  }
  return known;
}

/**
 * Checks the new records and plans what the saver is given; a record that does not decode rejects the push. A
 * list's value is decoded only when the saver needs it whole (`put`, or a write that is a part of it): the batch
 * writer takes its bytes, joined from its items' (see `ChannelValues`).
 */
async function planSaverOps(context: PushContext, entries: Entry[], prunedValues: ReadonlySet<string>): Promise<{ ops: SaverOps; unneeded: Set<Entry> }> {
  const { serde } = context.saver;
  const blobs = new Map<string, Entry>();
  const byChannel = new Map<string, Blob[]>();
  for (const entry of entries) {
    if (entry.record.kind !== 'blob') continue;
    const blob = entry.record;
    blobs.set(scopeKey(blob, blob.channel, JSON.stringify(blob.version)), entry);
    const channel = scopeKey(blob, blob.channel);
    byChannel.set(channel, [...(byChannel.get(channel) ?? []), blob]);
  }
  const values = new Map<Entry, PushedValue>();
  for (const batch of byChannel.values()) {
    const channel = new ChannelValues(serde, await channelVersions(context.store, batch));
    for (const blob of batch) {
      const entry = blobs.get(scopeKey(blob, blob.channel, JSON.stringify(blob.version)))!;
      const respelled = await describe(entry, () => channel.check(blob.version));
      if (respelled) {
        entry.record = { kind: 'blob', ...respelled };
        entry.row = recordRow(entry.record);
      }
      // Without a batch writer, `put` takes every value whole: decoded now, so that none fails once writing began.
      if (!context.batch) await describe(entry, () => channel.value(blob.version));
      values.set(entry, { value: () => channel.value(blob.version), serialized: () => channel.serialized(blob.version) });
    }
  }
  const ops: SaverOps = { puts: [], writes: [] };
  const assigned = new Set<Entry>();
  for (const entry of entries) {
    if (entry.record.kind !== 'checkpoint') continue;
    const record = entry.record;
    const channelValues: Record<string, PushedValue> = {};
    const newVersions: ChannelVersions = {};
    for (const [channel, version] of Object.entries(record.channel_versions)) {
      const blob = blobs.get(scopeKey(record, channel, JSON.stringify(version)));
      if (!blob || assigned.has(blob)) continue;
      assigned.add(blob);
      channelValues[channel] = values.get(blob)!;
      newVersions[channel] = version;
    }
    // Decoded now, so that a bad checkpoint rejects the push before the saver is written.
    const { checkpoint, metadata } = await describe(entry, () => checkpointOf(serde, record));
    ops.puts.push({ record, checkpoint, metadata, newVersions, values: channelValues });
  }
  // A value whose checkpoint is gone (pruned on the device) travels with the lists that build on it: it is stored
  // for them, and for devices that pull them, but no checkpoint of the saver names it.
  const builtOn = new Set<Entry>();
  const visit = (entry: Entry) => {
    const { list, channel } = entry.record as Blob;
    for (const version of list ? listDependencies(list) : []) {
      const base = blobs.get(scopeKey(entry.record, channel, JSON.stringify(version)));
      if (!base || assigned.has(base) || builtOn.has(base)) continue;
      builtOn.add(base);
      visit(base);
    }
  };
  assigned.forEach(visit);
  const unneeded = new Set<Entry>();
  for (const entry of entries) {
    if (entry.record.kind === 'blob' && !assigned.has(entry) && !builtOn.has(entry)) {
      // A value of a checkpoint pruned everywhere, which the push drops: nothing kept needs it.
      if (prunedValues.has(scopeKey(entry.record, entry.record.channel, JSON.stringify(entry.record.version)))) {
        unneeded.add(entry);
        continue;
      }
      throw badRequest(
        `records[${entry.at}]: the value of channel "${entry.record.channel}" at version ${String(entry.record.version)} comes with no new checkpoint that names it, nor a list that builds on it; a checkpoint's new values travel in the same push as the checkpoint.`,
      );
    }
  }
  const tasks = new Map<string, Entry[]>();
  for (const entry of entries) {
    if (entry.record.kind !== 'write') continue;
    const key = scopeKey(entry.record, entry.record.checkpoint_id, entry.record.task_id);
    tasks.set(key, [...(tasks.get(key) ?? []), entry]);
  }
  for (const group of tasks.values()) {
    const writes = group.map((entry) => entry.record as WriteRecord);
    const arranged = await describe(group[0]!, () => pendingWritesOf(serde, writes, (write) => writeSource(context, blobs, values, write)));
    if (!arranged) {
      throw badRequest(
        `records[${group[0]!.at}]: the writes of task "${writes[0]!.task_id}" skip positions that no write of theirs fills; the writes of one task travel together.`,
      );
    }
    ops.writes.push({ first: writes[0]!, writes: arranged });
  }
  return { ops, unneeded };
}

/** The value a write is a part of: a blob of the same push, or one stored by an earlier push. */
async function writeSource(
  context: PushContext,
  blobs: Map<string, Entry>,
  values: Map<Entry, PushedValue>,
  write: WriteRecord & { of: WriteSource },
): Promise<unknown> {
  const { channel, version } = write.of;
  const entry = blobs.get(scopeKey(write, channel, JSON.stringify(version)));
  if (entry) return values.get(entry)!.value();
  const stored = await storedValue(context, write, channel, version);
  if (!stored) throw new Error(`it is a part of channel "${channel}" at version ${String(version)}, which is neither in the push nor stored`);
  return stored.value();
}

/** A channel's value at a version that an earlier push stored, or undefined. */
async function storedValue(context: PushContext, scope: { thread_id: string; checkpoint_ns: string }, channel: string, version: ChannelVersion): Promise<PushedValue | undefined> {
  const [blob] = await context.store.blobs(scope.thread_id, scope.checkpoint_ns, channel, [version]);
  if (!blob) return undefined;
  const values = new ChannelValues(context.saver.serde, await channelVersions(context.store, [{ kind: 'blob', ...blob }]));
  return { value: () => values.value(version), serialized: () => values.serialized(version) };
}

/**
 * Gives the saver again the values that checkpoints whose parent was pruned everywhere have from it: pruning took
 * them out of the saver when no checkpoint it held named them.
 */
async function restoreInherited(context: PushContext, ops: SaverOps, orphans: ReadonlySet<string>): Promise<void> {
  const puts: SaverOps['puts'] = [];
  for (const put of ops.puts) {
    const { record } = put;
    if (!orphans.has(checkpointKey(record.thread_id, record.checkpoint_ns, record.checkpoint_id))) continue;
    const values = { ...put.values };
    const newVersions = { ...put.newVersions };
    for (const [channel, version] of Object.entries(record.channel_versions)) {
      if (channel in newVersions) continue;
      const stored = await storedValue(context, record, channel, version);
      if (!stored) continue;
      values[channel] = stored;
      newVersions[channel] = version;
    }
    puts.push({ ...put, values, newVersions });
  }
  await writeSaver(context, { puts, writes: [] });
}

/** Writes the saver: in a batch of its own when there is a batch writer, by its calls otherwise. */
async function writeSaver(context: PushContext, ops: SaverOps): Promise<void> {
  if (context.batch) await context.batch.commit(await context.batch.rows(ops));
  else await applyToSaver(context.saver, ops);
}

/** Runs a decoding step, turning its failure into a 400 that names the record. */
async function describe<T>(entry: Entry, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    // An encrypted database's envelopes: the server stores ordinary values, which startSync sends by opening them.
    const reason = CheckpointError.is(error, 'DECRYPT')
      ? `it holds an encrypted value (${ENCRYPTED_TYPE}), which the server cannot read: a client pushes values in clear, opened with the key they were stored with (startSync does)`
      : error instanceof Error
        ? error.message
        : String(error);
    throw badRequest(`records[${entry.at}] (${entry.record.kind} of thread ${JSON.stringify(entry.record.thread_id)}) cannot be read: ${reason}`);
  }
}

/** Saver calls in flight at once: their commits overlap, which PostgreSQL flushes to disk together. */
const SAVER_CONCURRENCY = 8;

/** Runs `steps`, at most `limit` at a time; after a failure starts no more, waits for those running, and throws it. */
async function inParallel(steps: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < steps.length) {
      const step = steps[next++]!;
      try {
        await step();
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, steps.length) }, worker));
  if (failure) throw failure.error;
}

/**
 * Writes the saver, several calls at a time, except each thread's newest checkpoint and the writes on it, which go
 * last and in order: a reader of a thread's latest state (`getTuple` without an id) never sees it before the
 * ancestors and writes that this push brings (DeltaChannel rebuilds values from them).
 */
async function applyToSaver(saver: BaseCheckpointSaver, ops: SaverOps): Promise<void> {
  const newest = new Map<string, string>();
  for (const { record } of ops.puts) {
    const scope = scopeKey(record);
    const id = newest.get(scope);
    if (id === undefined || record.checkpoint_id > id) newest.set(scope, record.checkpoint_id);
  }
  const isNewest = (record: { thread_id: string; checkpoint_ns: string; checkpoint_id: string }) => newest.get(scopeKey(record)) === record.checkpoint_id;
  const put = ({ record, checkpoint, metadata, newVersions, values }: SaverOps['puts'][number]) => async () => {
    const config = { configurable: { thread_id: record.thread_id, checkpoint_ns: record.checkpoint_ns, checkpoint_id: record.parent_checkpoint_id } };
    const channel_values = Object.fromEntries(await Promise.all(Object.entries(values).map(async ([channel, value]) => [channel, await value.value()])));
    await saver.put(config, { ...checkpoint, channel_values } as Checkpoint, metadata, newVersions);
  };
  const putWrites = ({ first, writes }: SaverOps['writes'][number]) => async () => {
    const config = { configurable: { thread_id: first.thread_id, checkpoint_ns: first.checkpoint_ns, checkpoint_id: first.checkpoint_id } };
    await saver.putWrites(config, writes, first.task_id, first.task_path);
  };
  await inParallel(
    [...ops.puts.filter(({ record }) => !isNewest(record)).map(put), ...ops.writes.filter(({ first }) => !isNewest(first)).map(putWrites)],
    SAVER_CONCURRENCY,
  );
  for (const step of ops.puts.filter(({ record }) => isNewest(record))) await put(step)();
  for (const step of ops.writes.filter(({ first }) => isNewest(first))) await putWrites(step)();
}

/**
 * The checkpoints pruned everywhere, before or by this push, whose records it drops (by `checkpointKey`), and those
 * it brings that come back: a checkpoint kept on the server, or pushed now, replays their writes (a DeltaChannel
 * branch pushed after a prune of its ancestors, whose device then sends them again).
 */
async function prunedForPush(store: RecordStore, threadIds: string[], records: SyncRecord[], prunes: WirePrune[]): Promise<{ pruned: Set<string>; readmitted: WirePrune[] }> {
  const pruned = new Set((await store.prunedCheckpoints(threadIds)).keys());
  for (const prune of prunes) pruned.add(checkpointKey(prune.thread_id, prune.checkpoint_ns, prune.checkpoint_id));
  const ofCheckpoint = (record: SyncRecord) =>
    record.kind === 'checkpoint' || record.kind === 'write' ? checkpointKey(record.thread_id, record.checkpoint_ns, record.checkpoint_id) : undefined;
  const candidates = new Set(records.map(ofCheckpoint).filter((key): key is string => key !== undefined && pruned.has(key)));
  const readmitted: WirePrune[] = [];
  if (candidates.size === 0) return { pruned, readmitted };
  const chain = { checkpoints: records.filter((record) => record.kind === 'checkpoint'), values: records.filter((record) => record.kind === 'blob') };
  for (const key of await store.neededAgain(threadIds, chain, pruned, candidates)) {
    pruned.delete(key);
    const [thread_id, checkpoint_ns, checkpoint_id] = JSON.parse(key) as [string, string, string];
    readmitted.push({ kind: 'prune', thread_id, checkpoint_ns, checkpoint_id });
  }
  return { pruned, readmitted };
}

export async function push(context: PushContext, userId: string, records: SyncRecord[], origin: string | null): Promise<PushResponse> {
  const { store, saver } = context;
  const tombstones = [...new Set(records.flatMap((record) => (record.kind === 'delete' ? [record.thread_id] : [])))];
  const prunes = records.filter((record): record is WirePrune => record.kind === 'prune');
  for (const [at, record] of records.entries()) {
    if (record.kind === 'write' && !hasConsistentIdx(record)) {
      throw badRequest(`records[${at}].idx: ${record.idx} is not the index LangGraph gives a write to channel "${record.channel}".`);
    }
  }
  const threadIds = [...new Set(records.map((record) => record.thread_id))];
  const states = await store.threads(threadIds);
  const foreign = threadIds.filter((thread_id) => states.has(thread_id) && states.get(thread_id)!.owner !== userId);
  if (foreign.length > 0) throw forbidden(foreign);
  const deleted = new Set([...tombstones, ...threadIds.filter((thread_id) => states.get(thread_id)?.deleted)]);

  const { pruned, readmitted } = await prunedForPush(store, threadIds, records, prunes);
  const prunedValues = new Set<string>();
  let droppedAsPruned = 0;

  // One entry per key: the first of a record, the last of a special write (which replaces).
  const byKey = new Map<string, Entry>();
  let duplicates = 0;
  for (const [at, record] of records.entries()) {
    if (record.kind === 'delete' || record.kind === 'prune' || deleted.has(record.thread_id)) continue;
    if (record.kind !== 'blob' && pruned.has(checkpointKey(record.thread_id, record.checkpoint_ns, record.checkpoint_id))) {
      droppedAsPruned += 1;
      if (record.kind === 'checkpoint') {
        for (const [channel, version] of Object.entries(record.channel_versions)) prunedValues.add(scopeKey(record, channel, JSON.stringify(version)));
      }
      continue;
    }
    const row = recordRow(record);
    const key = rowKey(row);
    if (byKey.has(key)) duplicates += 1;
    if (!byKey.has(key) || row.replaces) byKey.set(key, { record, row, at });
  }
  const existing = await store.existing([...byKey.values()].map((entry) => entry.row));
  const fresh: Entry[] = [];
  for (const [key, entry] of byKey) {
    const body = existing.get(key);
    if (body !== undefined && (!entry.row.replaces || body === entry.row.body)) duplicates += 1;
    else fresh.push(entry);
  }
  const { ops, unneeded } = await planSaverOps(context, fresh, prunedValues);
  droppedAsPruned += unneeded.size;
  const kept = fresh.filter((entry) => !unneeded.has(entry));

  // An owner never changes: only threads nobody owned when read above need claiming.
  const unowned = threadIds.filter((thread_id) => !states.has(thread_id));
  const stillForeign = unowned.length > 0 ? await store.claim(userId, unowned) : [];
  if (stillForeign.length > 0) throw forbidden(stillForeign);
  const ordered = [
    ...dependencyOrder(kept.filter((entry) => entry.record.kind === 'blob')),
    ...kept.filter((entry) => entry.record.kind === 'checkpoint'),
    ...kept.filter((entry) => entry.record.kind === 'write'),
  ].map((entry) => entry.row);
  const removals = { threads: tombstones, checkpoints: prunes.filter((prune) => !deleted.has(prune.thread_id)), readmitted };
  let result: CommitResult;
  if (context.batch?.sharesPool) {
    // The saver's rows and sync's in one transaction: a reader sees all of the push or none of it.
    const rows = await context.batch.rows(ops);
    result = await store.commit(userId, ordered, removals, origin, (client) => context.batch!.insert(client, rows));
  } else {
    await writeSaver(context, ops);
    result = await store.commit(userId, ordered, removals, origin);
  }
  // Deleted after the tombstone is committed, and again for a thread deleted while this push wrote the saver:
  // whichever of a push and a delete writes the saver last, the thread ends up gone. Pruned checkpoints alike.
  const gone = [...new Set([...tombstones, ...result.deletedThreads])];
  for (const thread_id of gone) await saver.deleteThread(thread_id);
  await deleteSaverCheckpoints(saver, result.prunedCheckpoints);
  if (result.orphans.size > 0) await restoreInherited(context, ops, result.orphans);
  const answer: PushResponse = { stored: result.stored, duplicates, deletedThreads: [...new Set([...deleted, ...result.deletedThreads])] };
  if (droppedAsPruned > 0) answer.pruned = droppedAsPruned;
  if (result.cursors) answer.commit = result.cursors;
  return answer;
}

function forbidden(threadIds: string[]): SyncHttpError {
  const named = threadIds.slice(0, 3).map((id) => JSON.stringify(id)).join(', ');
  return new SyncHttpError(403, 'forbidden', `Thread ${named}${threadIds.length > 3 ? ' and others' : ''} cannot be written by this user. Nothing of this push was stored.`);
}
