import { openDB, type IDBPDatabase } from 'idb';
import { prefixRange } from '../storage/keys.js';
import { STORE_NAMES, type BlobRecord, type CheckpointRecord, type JunctureSchema, type TypedBytes, type WriteRecord } from '../storage/records.js';
import type {
  CheckpointDetail,
  CheckpointKey,
  CheckpointSummary,
  HistoryQuery,
  JsonValue,
  ThreadSummary,
} from './data-source.js';

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

/** Stored bytes as JSON for display. JSON stays as written (serialized classes remain `{ lc, id, kwargs }`). */
export function decodeForDisplay(typed: TypedBytes | null | undefined): JsonValue {
  if (typed === null) return null;
  if (!typed || typeof typed.type !== 'string' || !(typed.bytes instanceof Uint8Array)) return { $unreadable: 'corrupt record' };
  if (typed.type === 'json') {
    try {
      return JSON.parse(new TextDecoder().decode(typed.bytes)) as JsonValue;
    } catch {
      return { $unreadable: 'invalid JSON', $bytes: typed.bytes.byteLength };
    }
  }
  return { $type: typed.type, $bytes: typed.bytes.byteLength };
}

function summaryOf(record: CheckpointRecord): CheckpointSummary {
  const rest = decodeForDisplay(record.checkpoint) as { ts?: unknown } | null;
  return {
    thread_id: record.thread_id,
    checkpoint_ns: record.checkpoint_ns,
    checkpoint_id: record.checkpoint_id,
    parent_checkpoint_id: record.parent_checkpoint_id ?? null,
    step: record.step ?? null,
    source: record.source ?? null,
    ts: typeof rest?.ts === 'string' ? rest.ts : null,
  };
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
        index.openKeyCursor(range, 'prev'),
        tx.store.getAllKeys(prefixRange([thread_id])),
      ]);
      threads.push({
        thread_id,
        checkpoints: count,
        namespaces: [...new Set(namespaces.map((key) => key[1]))].sort(),
        latest_checkpoint_id: newest?.key[1] ?? '',
      });
      cursor = await cursor.continue([thread_id, []] as unknown as [string, string, string]);
    }
    await tx.done;
    return threads.sort((a, b) => (a.latest_checkpoint_id < b.latest_checkpoint_id ? 1 : -1));
  });
}

export function readHistory(dbName: string, query: HistoryQuery): Promise<CheckpointSummary[]> {
  const limit = Math.max(0, Math.min(query.limit, 1000));
  return withDatabase(dbName, async (db) => {
    const tx = db.transaction('checkpoints', 'readonly');
    const { thread_id, checkpoint_ns, before } = query;
    const source = checkpoint_ns === undefined ? tx.store.index('by_thread') : tx.store;
    const prefix = checkpoint_ns === undefined ? [thread_id] : [thread_id, checkpoint_ns];
    const upper = before === undefined ? [...prefix, []] : [...prefix, before];
    const range = IDBKeyRange.bound(prefix, upper, false, true);
    const records: CheckpointRecord[] = [];
    let cursor = await source.openCursor(range, 'prev');
    while (cursor && records.length < limit) {
      records.push(cursor.value);
      cursor = await cursor.continue();
    }
    await tx.done;
    return records.map(summaryOf);
  });
}

export function readCheckpoint(dbName: string, key: CheckpointKey): Promise<CheckpointDetail | undefined> {
  return withDatabase(dbName, async (db) => {
    const tx = db.transaction(['checkpoints', 'blobs', 'writes'], 'readonly');
    const { thread_id, checkpoint_ns, checkpoint_id } = key;
    const record = await tx.objectStore('checkpoints').get([thread_id, checkpoint_ns, checkpoint_id]);
    if (!record) return undefined;
    const blobStore = tx.objectStore('blobs');
    const [blobs, writes] = await Promise.all([
      Promise.all(
        Object.entries(record.channel_versions).map(([channel, version]) => blobStore.get([thread_id, checkpoint_ns, channel, version])),
      ),
      tx.objectStore('writes').getAll(prefixRange([thread_id, checkpoint_ns, checkpoint_id])),
    ]);
    await tx.done;
    const rest = decodeForDisplay(record.checkpoint) as { versions_seen?: JsonValue } | null;
    const channel_values: Record<string, JsonValue> = {};
    for (const blob of blobs.filter((entry): entry is BlobRecord => entry !== undefined && entry.value !== null)) {
      channel_values[blob.channel] = decodeForDisplay(blob.value);
    }
    return {
      ...summaryOf(record),
      channel_values,
      channel_versions: { ...record.channel_versions },
      versions_seen: rest?.versions_seen ?? null,
      metadata: decodeForDisplay(record.metadata),
      pending_writes: (writes as WriteRecord[]).map((write) => ({
        task_id: write.task_id,
        task_path: write.task_path,
        idx: write.idx,
        channel: write.channel,
        value: decodeForDisplay(write.value),
      })),
    };
  });
}

export { NotACheckpointDatabase };
