import { openDB, unwrap, type IDBPDatabase } from 'idb';
import { isEncrypted } from '../encryption/cipher.js';
import { prefixRange } from '../storage/requests.js';
import { readCheckpointPage, readTuples } from '../storage/reads.js';
import { writesIn } from '../storage/task-writes.js';
import { ChainResolver, resolveRecords } from '../storage/checkpoint-chains.js';
import { STORE_NAMES, metadataWithRecordFields, type BlobKey, type BlobRecord, type CheckpointRecord, type JunctureSchema, type StoredCheckpointRecord, type TypedBytes, type WriteRecord } from '../storage/records.js';
import type { ChannelValue } from '../storage/storage.js';
import {
  ENCRYPTED_MARK,
  type CheckpointDetail,
  type CheckpointKey,
  type CheckpointSummary,
  type HistoryQuery,
  type JsonValue,
  type SearchHit,
  type ThreadExport,
  type ThreadSummary,
} from './data-source.js';
import { isByteArray } from './bytes.js';
import { messagePreviewOf, nodesThatRan, pendingTasksOf, pendingTasksOfDetail, searchDetails, triggerNodeOf } from './thread-model.js';

/**
 * Read-only access to checkpoint databases for the devtools, as plain JSON. It never creates a database (an
 * open that would create one is aborted), never revives serialized classes, and closes its connection after
 * each read and at once on `versionchange`, so the page's own upgrades are never blocked.
 */

type Database = IDBPDatabase<JunctureSchema>;

/**
 * Opens an encrypted value (see `encryption/cipher.ts`): given by the page that holds the key (`connectDevtools`,
 * the in-page panel). Without it, encrypted values show as `{ $encrypted }`.
 */
export type ValueOpener = (typed: TypedBytes) => Promise<TypedBytes>;

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
/**
 * Stored bytes as JSON for display. JSON stays as written (serialized classes remain `{ lc, id, kwargs }`); an
 * encrypted value is `{ $encrypted }`.
 */
export function decodeForDisplay(typed: TypedBytes | null | undefined): JsonValue {
  if (typed === null) return null;
  if (!typed || typeof typed.type !== 'string' || !isByteArray(typed.bytes)) return { $unreadable: 'corrupt record' };
  if (isEncrypted(typed)) return { [ENCRYPTED_MARK]: 'AES-GCM; the page that holds the key can show it (connectDevtools)', $bytes: typed.bytes.byteLength };
  if (typed.type === 'json') {
    try {
      return JSON.parse(new TextDecoder().decode(typed.bytes)) as JsonValue;
    } catch {
      return { $unreadable: 'invalid JSON', $bytes: typed.bytes.byteLength };
    }
  }
  return { $type: typed.type, $bytes: typed.bytes.byteLength };
}

/**
 * Decodes stored values for display once each (records are shared between the checkpoints that name them),
 * opening encrypted ones with `open` when given. Only ever called once a transaction's reads were all made:
 * opening awaits WebCrypto, which would let the transaction end under a later read.
 */
class DisplayDecoder {
  readonly #open: ValueOpener | undefined;
  readonly #decoded = new WeakMap<TypedBytes, Promise<JsonValue>>();

  constructor(open: ValueOpener | undefined) {
    this.#open = open;
  }

  value(typed: TypedBytes | null | undefined): Promise<JsonValue> {
    if (!typed || typeof typed !== 'object') return Promise.resolve(decodeForDisplay(typed));
    let decoded = this.#decoded.get(typed);
    if (!decoded) {
      const open = this.#open;
      decoded = open && isEncrypted(typed)
        ? open(typed).then(decodeForDisplay, (error: unknown) => ({ $unreadable: `not decrypted: ${error instanceof Error ? error.message : String(error)}` }))
        : Promise.resolve(decodeForDisplay(typed));
      this.#decoded.set(typed, decoded);
    }
    return decoded;
  }

  /**
   * A write's value. One stored as a part of a value of its checkpoint (`of`) is taken from `source`, that value's
   * bytes; shown as null when they are missing or do not hold it.
   */
  async write(write: WriteRecord, source: TypedBytes | undefined): Promise<JsonValue> {
    const value = await this.value(write.value);
    if (!write.of) return value;
    const whole = source ? await this.value(source) : null;
    const holds = typeof value === 'string' && typeof whole === 'object' && whole !== null && !Array.isArray(whole) && Object.prototype.hasOwnProperty.call(whole, value);
    return holds ? whole[value]! : null;
  }

  async record(record: CheckpointRecord): Promise<DecodedRecord> {
    // Held in clear by records written since schema 5 (not encrypted), serialized by those before.
    if (record.ts !== undefined && record.versions_seen !== undefined) return { record, ts: record.ts, versions_seen: record.versions_seen };
    const rest = (await this.value(record.checkpoint)) as { ts?: unknown; versions_seen?: JsonValue } | null;
    return { record, ts: typeof rest?.ts === 'string' ? rest.ts : null, versions_seen: rest?.versions_seen ?? null };
  }

  /** The record's metadata, with the entries it holds serialized one by one. */
  async metadata(record: CheckpointRecord): Promise<JsonValue> {
    const metadata = await this.value(record.metadata);
    const entries = Object.entries(record.metadata_entries ?? {});
    if (entries.length === 0 || typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return metadataWithRecordFields(record, metadata);
    const decoded = await Promise.all(entries.map(async ([key, typed]) => [key, await this.value(typed)] as const));
    return metadataWithRecordFields(record, { ...metadata, ...Object.fromEntries(decoded) });
  }
}

interface DecodedRecord {
  record: CheckpointRecord;
  ts: string | null;
  versions_seen: JsonValue;
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
async function messagePreviewOfWrites(parentWrites: WriteRecord[] | undefined, sources: WriteSources, display: DisplayDecoder): Promise<string | null> {
  const messages = parentWrites?.filter((write) => !isBookkeeping(write.channel));
  if (!messages?.length) return null;
  return messagePreviewOf(await Promise.all(messages.map(async (write) => ({ value: await display.write(write, sources.get(sourceKey(write))) }))));
}

/** The values writes are parts of (`WriteRecord.of`), by `sourceKey`. */
type WriteSources = Map<string, TypedBytes>;
const sourceKey = (write: WriteRecord) => (write.of ? JSON.stringify([write.checkpoint_ns, write.of.channel, write.of.version]) : '');

async function readWriteSources(blobs: SummaryStores['blobs'], writes: WriteRecord[]): Promise<WriteSources> {
  const sources: WriteSources = new Map();
  await Promise.all(
    writes.map(async (write) => {
      if (!write.of || sources.has(sourceKey(write))) return;
      const blob = await blobs.get([write.thread_id, write.checkpoint_ns, write.of.channel, write.of.version]);
      if (blob?.value) sources.set(sourceKey(write), blob.value);
    }),
  );
  return sources;
}

/**
 * Which of a record's trigger channels hold a value: those the record holds (`values`), and those with a blob that is
 * not empty. Read for every trigger channel, moved or not, as which moved is only known once the record is decoded,
 * after the transaction's reads.
 */
async function triggersWithValues(blobs: SummaryStores['blobs'], record: CheckpointRecord): Promise<Set<string>> {
  const triggers = Object.keys(record.channel_versions).filter((channel) => triggerNodeOf(channel) !== undefined);
  const held = await Promise.all(
    triggers.map(async (channel) => {
      if (record.values?.[channel] !== undefined) return true;
      const blob = await blobs.get([record.thread_id, record.checkpoint_ns, channel, record.channel_versions[channel]!]);
      return blob !== undefined && (blob.value !== null || blob.list !== undefined);
    }),
  );
  return new Set(triggers.filter((_, i) => held[i]));
}

interface SummaryStores {
  checkpoints: { get(key: [string, string, string]): Promise<CheckpointRecord | undefined> };
  writes: { getAll(range: IDBKeyRange): Promise<WriteRecord[]> };
  blobs: { get(key: BlobKey): Promise<BlobRecord | undefined> };
}

const summaryStores = (tx: ReadTransaction): SummaryStores => {
  const chains = new ChainResolver(unwrap(tx));
  const checkpoints = tx.objectStore('checkpoints');
  const writes = tx.objectStore('writes');
  return {
    // A parent stored as a change is read whole, in the same transaction.
    checkpoints: { get: async (key) => { const stored = await checkpoints.get(key); return stored && chains.resolve(stored); } },
    // A task's writes may be stored together: read one by one.
    writes: { getAll: async (range) => writesIn(await writes.getAll(range)) },
    blobs: tx.objectStore('blobs'),
  };
};

/** Summaries of records, each compared with its parent (read in the same transaction when not among them). */
async function summarize({ checkpoints: store, writes, blobs }: SummaryStores, records: CheckpointRecord[], display: DisplayDecoder): Promise<CheckpointSummary[]> {
  const keyOf = (ns: string, id: string) => `${ns}\u0000${id}`;
  const present = new Set(records.map((record) => keyOf(record.checkpoint_ns, record.checkpoint_id)));
  const missing = records.filter((record) => record.parent_checkpoint_id !== undefined && !present.has(keyOf(record.checkpoint_ns, record.parent_checkpoint_id)));
  // Every read first: decoding may await the page's decryption, which would let the transaction end.
  const [parents, writesByCheckpoint, triggers] = await Promise.all([
    Promise.all(missing.map((record) => store.get([record.thread_id, record.checkpoint_ns, record.parent_checkpoint_id!]))),
    readWrites(writes, records),
    Promise.all(records.map((record) => triggersWithValues(blobs, record))),
  ]);
  const sources = await readWriteSources(blobs, [...writesByCheckpoint.values()].flat().filter((write) => !isBookkeeping(write.channel)));
  const all = [...records, ...parents.filter((parent): parent is CheckpointRecord => parent !== undefined)];
  const decoded = new Map(await Promise.all(all.map(async (record) => [keyOf(record.checkpoint_ns, record.checkpoint_id), await display.record(record)] as const)));
  return Promise.all(
    records.map(async (record, i) => {
      const own = decoded.get(keyOf(record.checkpoint_ns, record.checkpoint_id))!;
      const parentKey = record.parent_checkpoint_id === undefined ? undefined : keyOf(record.checkpoint_ns, record.parent_checkpoint_id);
      const pending = pendingTasksOf({
        channel_versions: record.channel_versions,
        versions_seen: own.versions_seen,
        hasValue: (channel) => triggers[i]!.has(channel),
        writes: writesByCheckpoint.get(keyOf(record.checkpoint_ns, record.checkpoint_id)) ?? [],
      });
      const preview = await messagePreviewOfWrites(parentKey === undefined ? undefined : writesByCheckpoint.get(parentKey), sources, display);
      return { ...summaryOf(own, parentKey === undefined ? undefined : decoded.get(parentKey), preview), ...pending };
    }),
  );
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

export function readThreads(dbName: string, open?: ValueOpener): Promise<ThreadSummary[]> {
  const display = new DisplayDecoder(open);
  return withDatabase(dbName, async (db) => {
    const tx = db.transaction('checkpoints', 'readonly');
    const index = tx.store.index('by_thread');
    const threads: (Omit<ThreadSummary, 'latest_ts'> & { newest: StoredCheckpointRecord | undefined })[] = [];
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
        newest: newest?.value,
      });
      cursor = await cursor.continue([thread_id, []] as unknown as [string, string, string]);
    }
    const chains = new ChainResolver(unwrap(tx));
    const newest = await Promise.all(threads.map((thread) => thread.newest && chains.resolve(thread.newest)));
    await tx.done;
    const summaries = await Promise.all(
      threads.map(async ({ newest: _stored, ...thread }, i): Promise<ThreadSummary> => ({ ...thread, latest_ts: newest[i] ? (await display.record(newest[i])).ts : null })),
    );
    return summaries.sort((a, b) => (a.latest_checkpoint_id < b.latest_checkpoint_id ? 1 : -1));
  });
}

/** The most checkpoints one history read returns: a whole long thread, for the timeline's lanes. */
const MAX_HISTORY = 100_000;

export function readHistory(dbName: string, query: HistoryQuery, open?: ValueOpener): Promise<CheckpointSummary[]> {
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
    const summaries = await summarize(summaryStores(tx), page.records, new DisplayDecoder(open));
    await tx.done;
    return summaries;
  });
}

type ReadTransaction = ReturnType<Database['transaction']>;

/** The bytes of the value a write is a part of, among its checkpoint's values. */
function sourceIn(values: ChannelValue[], write: WriteRecord): TypedBytes | undefined {
  const source = write.of && values.find((value) => value.channel === write.of!.channel && value.version === write.of!.version);
  return source && 'value' in source ? source.value : undefined;
}

/** Full details of records, read as the savers read them, decoding each stored value once however many share it. */
async function detailsOf(tx: ReadTransaction, records: CheckpointRecord[], open: ValueOpener | undefined): Promise<CheckpointDetail[]> {
  const display = new DisplayDecoder(open);
  const [summaries, tuples] = await Promise.all([summarize(summaryStores(tx), records, display), readTuples(unwrap(tx), records)]);
  const valueOf = (value: ChannelValue): Promise<JsonValue> =>
    'value' in value ? display.value(value.value) : Promise.all(value.items.map((item) => display.value(item)));
  return Promise.all(
    tuples.map(async ({ checkpoint: record, values, writes }, i): Promise<CheckpointDetail> => {
      const detail = {
        ...summaries[i]!,
        channel_values: Object.fromEntries(await Promise.all(values.map(async (value) => [value.channel, await valueOf(value)] as const))),
        channel_versions: { ...record.channel_versions },
        versions_seen: (await display.record(record)).versions_seen,
        metadata: await display.metadata(record),
        pending_writes: await Promise.all(
          writes.map(async (write) => ({
            task_id: write.task_id,
            task_path: write.task_path,
            idx: write.idx,
            channel: write.channel,
            value: await display.write(write, sourceIn(values, write)),
          })),
        ),
      };
      // With its values read, the detail also knows the Sends waiting.
      return { ...detail, ...pendingTasksOfDetail(detail) };
    }),
  );
}

export function readCheckpoint(dbName: string, key: CheckpointKey, open?: ValueOpener): Promise<CheckpointDetail | undefined> {
  return withDatabase(dbName, async (db) => {
    const tx = db.transaction(['checkpoints', 'blobs', 'writes'], 'readonly');
    const stored = await tx.objectStore('checkpoints').get([key.thread_id, key.checkpoint_ns, key.checkpoint_id]);
    const [detail] = stored ? await detailsOf(tx, await resolveRecords(unwrap(tx), [stored]), open) : [];
    await tx.done;
    return detail;
  });
}

/** Every checkpoint of a thread with values and writes, newest first. */
export function readThreadDetails(dbName: string, thread_id: string, open?: ValueOpener): Promise<CheckpointDetail[]> {
  return withDatabase(dbName, async (db) => {
    const tx = db.transaction(['checkpoints', 'blobs', 'writes'], 'readonly');
    const stored = (await tx.objectStore('checkpoints').index('by_thread').getAll(prefixRange([thread_id]))).reverse();
    const details = await detailsOf(tx, await resolveRecords(unwrap(tx), stored), open);
    await tx.done;
    return details;
  });
}

/** Where text occurs in a thread (see `searchDetails`). */
export async function searchThread(dbName: string, thread_id: string, text: string, open?: ValueOpener): Promise<SearchHit[]> {
  return searchDetails(await readThreadDetails(dbName, thread_id, open), text);
}

/** A thread as an export file holds it. */
export async function readThreadExport(dbName: string, thread_id: string, open?: ValueOpener): Promise<ThreadExport> {
  return {
    format: 'juncture-thread',
    version: 1,
    dbName,
    thread_id,
    exported_at: new Date().toISOString(),
    checkpoints: await readThreadDetails(dbName, thread_id, open),
  };
}

export { NotACheckpointDatabase };
