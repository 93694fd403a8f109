import { openDB, unwrap, type IDBPDatabase } from 'idb';
import { prefixRange } from '../storage/requests.js';
import { readCheckpointPage, readTuples } from '../storage/reads.js';
import { STORE_NAMES, type CheckpointRecord, type JunctureSchema, type TypedBytes, type WriteRecord } from '../storage/records.js';
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
import { messagePreviewOf, nodesThatRan, searchDetails } from './thread-model.js';

/**
 * Read-only access to checkpoint databases for the devtools, as plain JSON. It never creates a database (an
 * open that would create one is aborted), never revives serialized classes, and closes its connection after
 * each read and at once on `versionchange`, so the page's own upgrades are never blocked.
 */

type Database = IDBPDatabase<JunctureSchema>;

class NotACheckpointDatabase extends Error {}

async function openExisting(dbName: string): Promise<Database | undefined> {
  let db: Database;
  try {
    db = await openDB<JunctureSchema>(dbName, undefined, {
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
  if (!STORE_NAMES.every((store) => db.objectStoreNames.contains(store))) {
    db.close();
    return undefined;
  }
  return db;
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

function summaryOf(decoded: DecodedRecord, parent: DecodedRecord | undefined, message_preview: string | null): CheckpointSummary {
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
 * The message previews of records: each from the writes stored with its parent, read in one range per
 * namespace (checkpoint ids sort by time, so a parent's id is never above its child's).
 */
async function messagePreviews(writes: SummaryStores['writes'], records: CheckpointRecord[]): Promise<(string | null)[]> {
  const parentIds = new Map<string, { thread_id: string; ids: string[] }>();
  for (const record of records) {
    if (record.parent_checkpoint_id === undefined) continue;
    const entry = parentIds.get(record.checkpoint_ns) ?? { thread_id: record.thread_id, ids: [] };
    entry.ids.push(record.parent_checkpoint_id);
    parentIds.set(record.checkpoint_ns, entry);
  }
  const byCheckpoint = new Map<string, JsonValue[]>();
  await Promise.all(
    [...parentIds].map(async ([ns, { thread_id, ids }]) => {
      const wanted = new Set(ids);
      const sorted = [...wanted].sort();
      const range = IDBKeyRange.bound([thread_id, ns, sorted[0]!], [thread_id, ns, sorted.at(-1)!, []]);
      for (const write of await writes.getAll(range)) {
        if (!wanted.has(write.checkpoint_id) || isBookkeeping(write.channel)) continue;
        const key = `${ns}\u0000${write.checkpoint_id}`;
        byCheckpoint.set(key, [...(byCheckpoint.get(key) ?? []), decodeForDisplay(write.value)]);
      }
    }),
  );
  return records.map((record) => {
    const values = record.parent_checkpoint_id === undefined ? undefined : byCheckpoint.get(`${record.checkpoint_ns}\u0000${record.parent_checkpoint_id}`);
    return values ? messagePreviewOf(values.map((value) => ({ value }))) : null;
  });
}

interface SummaryStores {
  checkpoints: { get(key: [string, string, string]): Promise<CheckpointRecord | undefined> };
  writes: { getAll(range: IDBKeyRange): Promise<WriteRecord[]> };
}

const summaryStores = (tx: { objectStore(name: 'checkpoints'): SummaryStores['checkpoints']; objectStore(name: 'writes'): SummaryStores['writes'] }): SummaryStores => ({
  checkpoints: tx.objectStore('checkpoints'),
  writes: tx.objectStore('writes'),
});

/** Summaries of records, each compared with its parent (read in the same transaction when not among them). */
async function summarize({ checkpoints: store, writes }: SummaryStores, records: CheckpointRecord[]): Promise<CheckpointSummary[]> {
  const decoded = new Map(records.map((record) => [`${record.checkpoint_ns}\u0000${record.checkpoint_id}`, decodeRecord(record)]));
  const missing = records.filter(
    (record) => record.parent_checkpoint_id !== undefined && !decoded.has(`${record.checkpoint_ns}\u0000${record.parent_checkpoint_id}`),
  );
  const [parents, previews] = await Promise.all([
    Promise.all(missing.map((record) => store.get([record.thread_id, record.checkpoint_ns, record.parent_checkpoint_id!]))),
    messagePreviews(writes, records),
  ]);
  for (const parent of parents) if (parent) decoded.set(`${parent.checkpoint_ns}\u0000${parent.checkpoint_id}`, decodeRecord(parent));
  return records.map((record, i) =>
    summaryOf(
      decoded.get(`${record.checkpoint_ns}\u0000${record.checkpoint_id}`)!,
      record.parent_checkpoint_id === undefined ? undefined : decoded.get(`${record.checkpoint_ns}\u0000${record.parent_checkpoint_id}`),
      previews[i]!,
    ),
  );
}

/** Which of these names are checkpoint databases that exist; only names the browser lists are opened. */
export async function readDatabaseNames(candidates: Iterable<string>): Promise<string[]> {
  const names = new Set(candidates);
  if (typeof indexedDB.databases === 'function') {
    const existing = new Set((await indexedDB.databases()).map((info) => info.name).filter((name): name is string => !!name));
    for (const name of names) if (!existing.has(name)) names.delete(name);
    for (const name of existing) names.add(name);
  }
  const found: string[] = [];
  for (const name of names) {
    const db = await openExisting(name);
    if (!db) continue;
    db.close();
    found.push(name);
  }
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
    const tx = db.transaction(['checkpoints', 'writes'], 'readonly');
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
  return tuples.map(({ checkpoint: record, values, writes }, i) => ({
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
  }));
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
