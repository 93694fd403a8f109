/**
 * What `getDeltaChannelHistory` needs, read in one transaction: the parent chain of a checkpoint, walked through
 * checkpoint records, with each ancestor's writes to the channels asked for, up to the nearest ancestor that
 * stores a value of each channel (its seed). Nothing of other channels is returned, and nothing is decoded.
 */
import { channelValueOf, inlineValueOf, readChannelBlobs, readWrites, rememberLists, type ChannelBlobs } from './reads.js';
import type { ListCache } from './list-cache.js';
import { ChainResolver } from './checkpoint-chains.js';
import type { ChannelVersion, CheckpointRecord, StoredCheckpointRecord, WriteSource } from './records.js';
import { newestRecords, prefixRange, requestResult } from './requests.js';
import type { ChannelValue, DeltaHistory } from './storage.js';

/** Checkpoint records read per request while walking up the chain. */
const WINDOW = 128;

async function recordOf(tx: IDBTransaction, chains: ChainResolver, thread_id: string, checkpoint_ns: string, checkpoint_id: string | undefined): Promise<CheckpointRecord | undefined> {
  const store = tx.objectStore('checkpoints');
  const stored = (
    checkpoint_id !== undefined
      ? await requestResult(store.get([thread_id, checkpoint_ns, checkpoint_id]))
      : (await requestResult(store.openCursor(prefixRange([thread_id, checkpoint_ns]), 'prev')))?.value
  ) as StoredCheckpointRecord | undefined;
  return stored && chains.resolve(stored);
}

/**
 * The next ancestors after `from`, nearest first: a window of records below it read in one request (a thread's
 * own branch is usually what lies there), and a single read for a parent the window missed.
 */
async function nextAncestors(tx: IDBTransaction, chains: ChainResolver, prefix: [string, string], from: CheckpointRecord): Promise<CheckpointRecord[]> {
  const store = tx.objectStore('checkpoints');
  const window = await newestRecords<StoredCheckpointRecord>(store, IDBKeyRange.bound(prefix, [...prefix, from.checkpoint_id], false, true), WINDOW);
  chains.add(window.map(({ value }) => value));
  const byId = new Map(window.map(({ value }) => [value.checkpoint_id, value]));
  const chain: CheckpointRecord[] = [];
  let parentId = from.parent_checkpoint_id;
  while (parentId !== undefined) {
    const stored = byId.get(parentId);
    const parent = stored ? await chains.resolve(stored) : chain.length === 0 ? await recordOf(tx, chains, prefix[0], prefix[1], parentId) : undefined;
    if (!parent) break;
    chain.push(parent);
    parentId = parent.parent_checkpoint_id;
  }
  return chain;
}

/** The values that writes are parts of (`WriteRecord.of`). */
async function sourcesOf(tx: IDBTransaction, prefix: [string, string], parts: WriteSource[]): Promise<ChannelValue[]> {
  const byChannel = new Map<string, ChannelVersion[]>();
  for (const { channel, version } of parts) byChannel.set(channel, [...(byChannel.get(channel) ?? []), version]);
  const values = await Promise.all(
    [...byChannel].map(async ([channel, versions]) => {
      const blobs = await readChannelBlobs(tx, prefix, channel, versions);
      return versions.flatMap((version) => channelValueOf(channel, version, blobs) ?? []);
    }),
  );
  return values.flat();
}

/** With `lists`, a seed that is a list builds on the channel's list remembered there, and is remembered in its place. */
export async function readDeltaHistory(
  tx: IDBTransaction,
  thread_id: string,
  checkpoint_ns: string,
  checkpoint_id: string | undefined,
  channels: string[],
  lists?: ListCache,
): Promise<DeltaHistory> {
  const prefix: [string, string] = [thread_id, checkpoint_ns];
  const history: DeltaHistory = { ancestors: [], seeds: {} };
  const chains = new ChainResolver(tx);
  const target = await recordOf(tx, chains, thread_id, checkpoint_ns, checkpoint_id);
  if (!target || channels.length === 0) return history;
  const writeStore = tx.objectStore('writes');
  const remaining = new Set(channels);
  let from = target;
  while (remaining.size > 0 && from.parent_checkpoint_id !== undefined) {
    const chain = await nextAncestors(tx, chains, prefix, from);
    if (chain.length === 0) break;
    // Which of these ancestors store a value of each channel still looked for.
    const blobs = new Map<string, ChannelBlobs>();
    await Promise.all(
      [...remaining].map(async (channel) => {
        const versions = [
          ...new Set(chain.flatMap((record) => (channel in record.channel_versions && record.values?.[channel] === undefined ? [record.channel_versions[channel]!] : []))),
        ];
        if (versions.length === 0) return;
        // Ancestors are nearest first: past the remembered version, which is stored, none is the nearest to store one.
        const knownAt = lists?.versionOf(thread_id, checkpoint_ns, channel);
        const cut = knownAt === undefined ? -1 : versions.indexOf(knownAt);
        let read = await readChannelBlobs(tx, prefix, channel, cut < 0 ? versions : versions.slice(0, cut + 1), lists);
        if (cut >= 0 && !read.blobs.has(knownAt!)) read = await readChannelBlobs(tx, prefix, channel, versions);
        blobs.set(channel, read);
      }),
    );
    const wanted: CheckpointRecord[] = [];
    for (const record of chain) {
      if (remaining.size === 0) break;
      wanted.push(record);
      const index = history.ancestors.length + wanted.length - 1;
      for (const channel of [...remaining]) {
        const version = record.channel_versions[channel];
        const seed: ChannelValue | undefined =
          version === undefined ? undefined : (inlineValueOf(record, channel) ?? channelValueOf(channel, version, blobs.get(channel)));
        if (!seed) continue;
        if (lists) rememberLists(lists, [seed], blobs);
        history.seeds[channel] = { ancestor: index, value: seed };
        remaining.delete(channel);
      }
    }
    const writes = await readWrites(writeStore, prefix, wanted.map((record) => record.checkpoint_id));
    const asked = new Set(channels);
    const ancestors = await Promise.all(
      wanted.map(async (record) => {
        const own = writes.filter((write) => write.checkpoint_id === record.checkpoint_id && asked.has(write.channel));
        const ancestor: DeltaHistory['ancestors'][number] = { checkpoint_id: record.checkpoint_id, writes: own };
        const parts = own.flatMap((write) => (write.of ? [write.of] : []));
        if (parts.length > 0) ancestor.sources = await sourcesOf(tx, prefix, parts);
        return ancestor;
      }),
    );
    history.ancestors.push(...ancestors);
    from = chain.at(-1)!;
  }
  return history;
}
