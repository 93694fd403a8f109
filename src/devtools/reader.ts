import { openDB, unwrap, type IDBPDatabase } from 'idb';
import { prefixRange } from '../storage/requests.js';
import { readCheckpointPage, readTuples } from '../storage/reads.js';
import { STORE_NAMES, type BlobKey, type BlobRecord, type CheckpointRecord, type JunctureSchema, type TypedBytes, type WriteRecord } from '../storage/records.js';
import type { ChannelValue } from '../storage/storage.js';
import type {
  CheckpointDetail,
  CheckpointKey,
  CheckpointSummary,
  HistoryQuery,
  JsonValue,
  SearchHit,
  ThreadExport,
  ThreadSummary,
} from './data-source.js';
import { messagePreviewOf, movedTriggers, nodesThatRan, pendingTasksOf, pendingTasksOfDetail, searchDetails } from './thread-model.js';

/**
 * Read-only access to checkpoint databases for the devtools, as plain JSON. It never creates a database (an
 * open that would create one is aborted), never revives serialized classes, and closes its connection after
 * each read and at once on `versionchange`, so the page's own upgrades are never blocked.
 */

type Database = IDBPDatabase<JunctureSchema>;

class NotACheckpointDatabase extends Error {}

/** Opens a database only if it exists and holds every one of `required`; never creates or upgrades one. */
async function openWithStores(dbName: string, required: readonly string[]): Promise<IDBPDatabase<unknown> | undefined> {
  let db: IDBPDatabase<unknown>;
  try {
    db = await openDB(dbName, undefined, {
      upgrade(_db, _oldVersion, _newVersion, transaction) {
        // Only a database that does not exist yet gets an upgrade here: do not create it.
        transaction.abort();
      },
      blocking() {
        db?.close();
      },
    });
  } catch {
    return undefined;
  }
  if (!required.every((store) => db.objectStoreNames.contains(store))) {
    db.close();
    return undefined;
  }
  return db;
}

/** Whether the database exists and holds every one of `required`; it is neither created nor upgraded. */
export async function holdsStores(dbName: string, required: readonly string[]): Promise<boolean> {
  const db = await openWithStores(dbName, required);
  db?.close();
  return db !== undefined;
}

async function openExisting(dbName: string): Promise<Database | undefined> {
  return (await openWithStores(dbName, STORE_NAMES)) as Database | undefined;
}

async function withDatabase<T>(dbName: string, read: (db: Database) => Promise<T>): Promise<T> {
  const db = await openExisting(dbName);
  if (!db) throw new NotACheckpointDatabase(`"${dbName}" is not a checkpoint database of this page.`);
  try {
    return await read(db);
  } finally {
    db.close();
  }
}

/**
 * Whether a stored value is a Uint8Array from any realm. Firefox hands a content script the page's objects, whose
 * Uint8Array is not the content script's, so `instanceof` is false there.
 */
function isByteArray(value: unknown): value is Uint8Array {
  return ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === '[object Uint8Array]';
}

/** Stored bytes as JSON for display. JSON stays as written (serialized classes remain `{ lc, id, kwargs }`). */
export function decodeForDisplay(typed: TypedBytes | null | undefined): JsonValue {
  if (typed === null) return null;
  if (!typed || typeof typed.type !== 'string' || !isByteArray(typed.bytes)) return { $unreadable: 'corrupt record' };
  if (typed.type === 'json') {
    try {
      return JSON.parse(new TextDecoder().decode(typed.bytes)) as JsonValue;
    } catch {
      return { $unreadable: 'invalid JSON', $bytes: typed.bytes.byteLength };
    }
  }
  return { $type: typed.type, $bytes: typed.bytes.byteLength };
}

interface DecodedRecord {
  record: CheckpointRecord;
  ts: string | null;
  versions_seen: JsonValue;
}

function decodeRecord(record: CheckpointRecord): DecodedRecord {
  const rest = decodeForDisplay(record.checkpoint) as { ts?: unknown; versions_seen?: JsonValue } | null;
  return { record, ts: typeof rest?.ts === 'string' ? rest.ts : null, versions_seen: rest?.versions_seen ?? null };
}

function summaryOf(decoded: DecodedRecord, parent: DecodedRecord | undefined, message_preview: string | null): Omit<CheckpointSummary, 'next' | 'interrupts'> {
  const { record } = decoded;
  return {
    thread_id: record.thread_id,
    checkpoint_ns: record.checkpoint_ns,
    checkpoint_id: record.checkpoint_id,
    parent_checkpoint_id: record.parent_checkpoint_id ?? null,
    step: record.step ?? null,
    source: record.source ?? null,
    ts: decoded.ts,
    nodes: nodesThatRan(decoded.versions_seen, parent?.versions_seen),
    message_preview,
  };
}

/** Channels that hold LangGraph's bookkeeping, never messages: their writes are not decoded for previews. */
const isBookkeeping = (channel: string) => channel.startsWith('__') || channel.startsWith('branch:');

/**
 * The writes stored with records and with their parents, read in one range per namespace (checkpoint ids sort by
 * time, so a parent's id is never above its child's).
 */
async function readWrites(writes: SummaryStores['writes'], records: CheckpointRecord[]): Promise<Map<string, WriteRecord[]>> {
  const idsByNs = new Map<string, { thread_id: string; ids: Set<string> }>();
  for (const record of records) {
    const entry = idsByNs.get(record.checkpoint_ns) ?? { thread_id: record.thread_id, ids: new Set<string>() };
    entry.ids.add(record.checkpoint_id);
    if (record.parent_checkpoint_id !== undefined) entry.ids.add(record.parent_checkpoint_id);
    idsByNs.set(record.checkpoint_ns, entry);
  }
  const byCheckpoint = new Map<string, WriteRecord[]>();
  await Promise.all(
    [...idsByNs].map(async ([ns, { thread_id, ids }]) => {
      const sorted = [...ids].sort();
      const range = IDBKeyRange.bound([thread_id, ns, sorted[0]!], [thread_id, ns, sorted.at(-1)!, []]);
      for (const write of await writes.getAll(range)) {
        if (!ids.has(write.checkpoint_id)) continue;
        const key = `${ns}\u0000${write.checkpoint_id}`;
        byCheckpoint.set(key, [...(byCheckpoint.get(key) ?? []), write]);
      }
    }),
  );
  return byCheckpoint;
}

/** A record's message preview, from the messages among its parent's writes. */
function messagePreviewOfWrites(parentWrites: WriteRecord[] | undefined): string | null {
  const values = parentWrites?.filter((write) => !isBookkeeping(write.channel)).map((write) => ({ value: decodeForDisplay(write.value) }));
  return values?.length ? messagePreviewOf(values) : null;
}

/** Which of a record's moved trigger channels hold a value: those with a blob that is not empty. */
async function triggersWithValues(blobs: SummaryStores['blobs'], decoded: DecodedRecord): Promise<Set<string>> {
  const { record } = decoded;
  const moved = movedTriggers(record.channel_versions, decoded.versions_seen);
  const held = await Promise.all(
    moved.map(async ({ channel }) => {
      const blob = await blobs.get([record.thread_id, record.checkpoint_ns, channel, record.channel_versions[channel]!]);
      return blob !== undefined && (blob.value !== null || blob.list !== undefined);
    }),
  );
  return new Set(moved.filter((_, i) => held[i]).map(({ channel }) => channel));
}

interface SummaryStores {
  checkpoints: { get(key: [string, string, string]): Promise<CheckpointRecord | undefined> };
  writes: { getAll(range: IDBKeyRange): Promise<WriteRecord[]> };
  blobs: { get(key: BlobKey): Promise<BlobRecord | undefined> };
}

const summaryStores = (tx: {
  objectStore(name: 'checkpoints'): SummaryStores['checkpoints'];
  objectStore(name: 'writes'): SummaryStores['writes'];
  objectStore(name: 'blobs'): SummaryStores['blobs'];
}): SummaryStores => ({
  checkpoints: tx.objectStore('checkpoints'),
  writes: tx.objectStore('writes'),
  blobs: tx.objectStore('blobs'),
});

/** Summaries of records, each compared with its parent (read in the same transaction when not among them). */
async function summarize({ checkpoints: store, writes, blobs }: SummaryStores, records: CheckpointRecord[]): Promise<CheckpointSummary[]> {
  const keyOf = (ns: string, id: string) => `${ns}\u0000${id}`;
  const decoded = new Map(records.map((record) => [keyOf(record.checkpoint_ns, record.checkpoint_id), decodeRecord(record)]));
  const missing = records.filter((record) => record.parent_checkpoint_id !== undefined && !decoded.has(keyOf(record.checkpoint_ns, record.parent_checkpoint_id)));
  const [parents, writesByCheckpoint, triggers] = await Promise.all([
    Promise.all(missing.map((record) => store.get([record.thread_id, record.checkpoint_ns, record.parent_checkpoint_id!]))),
    readWrites(writes, records),
    Promise.all(records.map((record) => triggersWithValues(blobs, decoded.get(keyOf(record.checkpoint_ns, record.checkpoint_id))!))),
  ]);
  for (const parent of parents) if (parent) decoded.set(keyOf(parent.checkpoint_ns, parent.checkpoint_id), decodeRecord(parent));
  return records.map((record, i) => {
    const own = decoded.get(keyOf(record.checkpoint_ns, record.checkpoint_id))!;
    const parentKey = record.parent_checkpoint_id === undefined ? undefined : keyOf(record.checkpoint_ns, record.parent_checkpoint_id);
    const pending = pendingTasksOf({
      channel_versions: record.channel_versions,
      versions_seen: own.versions_seen,
      hasValue: (channel) => triggers[i]!.has(channel),
      writes: writesByCheckpoint.get(keyOf(record.checkpoint_ns, record.checkpoint_id)) ?? [],
    });
    return {
      ...summaryOf(own, parentKey === undefined ? undefined : decoded.get(parentKey), messagePreviewOfWrites(parentKey === undefined ? undefined : writesByCheckpoint.get(parentKey))),
      ...pending,
    };
  });
}

/**
 * Which of these names are databases that exist and hold every one of `required` (a checkpoint database by
 * default); only names the browser lists are opened.
 */
export async function readDatabaseNames(candidates: Iterable<string>, required: readonly string[] = STORE_NAMES): Promise<string[]> {
  const names = new Set(candidates);
  if (typeof indexedDB.databases === 'function') {
    const existing = new Set((await indexedDB.databases()).map((info) => info.name).filter((name): name is string => !!name));
    for (const name of names) if (!existing.has(name)) names.delete(name);
    for (const name of existing) names.add(name);
  }
  const found: string[] = [];
  for (const name of names) if (await holdsStores(name, required)) found.push(name);
  return found.sort();
}

export function readThreads(dbName: string): Promise<ThreadSummary[]> {
  return withDatabase(dbName, async (db) => {
    const tx = db.transaction('checkpoints', 'readonly');
    const index = tx.store.index('by_thread');
    const threads: ThreadSummary[] = [];
    // Jump from thread to thread; each thread's newest key is found with a reverse cursor on its range.
    let cursor = await index.openKeyCursor();
    while (cursor) {
      const thread_id = cursor.key[0];
      const range = prefixRange([thread_id]);
      const [count, newest, namespaces] = await Promise.all([
        index.count(range),
        index.openCursor(range, 'prev'),
        tx.store.getAllKeys(prefixRange([thread_id])),
      ]);
      threads.push({
        thread_id,
        checkpoints: count,
        namespaces: [...new Set(namespaces.map((key) => key[1]))].sort(),
        latest_checkpoint_id: newest?.value.checkpoint_id ?? '',
        latest_ts: newest ? decodeRecord(newest.value).ts : null,
      });
      cursor = await cursor.continue([thread_id, []] as unknown as [string, string, string]);
    }
    await tx.done;
    return threads.sort((a, b) => (a.latest_checkpoint_id < b.latest_checkpoint_id ? 1 : -1));
  });
}

/** The most checkpoints one history read returns: a whole long thread, for the timeline's lanes. */
const MAX_HISTORY = 100_000;

export function readHistory(dbName: string, query: HistoryQuery): Promise<CheckpointSummary[]> {
  const limit = Math.max(0, Math.min(query.limit, MAX_HISTORY));
  const { thread_id, checkpoint_ns, before } = query;
  return withDatabase(dbName, async (db) => {
    const tx = db.transaction(['checkpoints', 'blobs', 'writes'], 'readonly');
    const page = await readCheckpointPage(
      unwrap(tx),
      { thread_id, ...(checkpoint_ns !== undefined ? { checkpoint_ns } : {}), ...(before !== undefined ? { before } : {}) },
      limit,
      undefined,
    );
    const summaries = await summarize(summaryStores(tx), page.records);
    await tx.done;
    return summaries;
  });
}

type ReadTransaction = ReturnType<Database['transaction']>;

/** Full details of records, read as the savers read them, decoding each stored value once however many share it. */
async function detailsOf(tx: ReadTransaction, records: CheckpointRecord[]): Promise<CheckpointDetail[]> {
  const [summaries, tuples] = await Promise.all([summarize(summaryStores(tx), records), readTuples(unwrap(tx), records)]);
  // Records are shared between the checkpoints that name them: decode each serialized value once.
  const decoded = new WeakMap<TypedBytes, JsonValue>();
  const decode = (typed: TypedBytes) => {
    if (!decoded.has(typed)) decoded.set(typed, decodeForDisplay(typed));
    return decoded.get(typed)!;
  };
  const valueOf = (value: ChannelValue): JsonValue => ('value' in value ? decode(value.value) : value.items.map(decode));
  return tuples.map(({ checkpoint: record, values, writes }, i) => {
    const detail = {
      ...summaries[i]!,
      channel_values: Object.fromEntries(values.map((value) => [value.channel, valueOf(value)])),
      channel_versions: { ...record.channel_versions },
      versions_seen: decodeRecord(record).versions_seen,
      metadata: decodeForDisplay(record.metadata),
      pending_writes: writes.map((write) => ({
        task_id: write.task_id,
        task_path: write.task_path,
        idx: write.idx,
        channel: write.channel,
        value: decodeForDisplay(write.value),
      })),
    };
    // With its values read, the detail also knows the Sends waiting.
    return { ...detail, ...pendingTasksOfDetail(detail) };
  });
}

export function readCheckpoint(dbName: string, key: CheckpointKey): Promise<CheckpointDetail | undefined> {
  return withDatabase(dbName, async (db) => {
    const tx = db.transaction(['checkpoints', 'blobs', 'writes'], 'readonly');
    const record = await tx.objectStore('checkpoints').get([key.thread_id, key.checkpoint_ns, key.checkpoint_id]);
    const [detail] = record ? await detailsOf(tx, [record]) : [];
    await tx.done;
    return detail;
  });
}

/** Every checkpoint of a thread with values and writes, newest first. */
export function readThreadDetails(dbName: string, thread_id: string): Promise<CheckpointDetail[]> {
  return withDatabase(dbName, async (db) => {
    const tx = db.transaction(['checkpoints', 'blobs', 'writes'], 'readonly');
    const records = (await tx.objectStore('checkpoints').index('by_thread').getAll(prefixRange([thread_id]))).reverse();
    const details = await detailsOf(tx, records);
    await tx.done;
    return details;
  });
}

/** Where text occurs in a thread (see `searchDetails`). */
export async function searchThread(dbName: string, thread_id: string, text: string): Promise<SearchHit[]> {
  return searchDetails(await readThreadDetails(dbName, thread_id), text);
}

/** A thread as an export file holds it. */
export async function readThreadExport(dbName: string, thread_id: string): Promise<ThreadExport> {
  return {
    format: 'juncture-thread',
    version: 1,
    dbName,
    thread_id,
    exported_at: new Date().toISOString(),
    checkpoints: await readThreadDetails(dbName, thread_id),
  };
}

export { NotACheckpointDatabase };
