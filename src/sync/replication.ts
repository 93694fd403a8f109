/**
 * One push and one pull between a saver's database and the sync server. Pushes send the change journal in commit
 * order, in batches within the server's limits that never split a journal entry (a checkpoint travels with its new
 * values, a task's writes together), and take entries out only once the server acknowledged them: a push cut off
 * is sent again, which the server takes as duplicates. Pulls store each page with the cursor in one transaction.
 */
import { CheckpointError } from '../errors.js';
import type { IndexedDBCheckpointStorage } from '../storage/checkpoint-store.js';
import type { JournalRead } from '../storage/journal.js';
import type { CheckpointName } from '../storage/records.js';
import { HistoryNotStored } from '../storage/pulled-values.js';
import type { WriteOperation } from '../storage/storage.js';
import type { PullRequest, PullResponse, PushRequest, PushResponse } from '../wire/protocol.js';
import { readWireRecord, toWireRecord, type SyncRecord, type WireRecord } from '../wire/records.js';
import type { StoredValues } from './stored-values.js';
import type { SyncTransport } from './transport.js';

/** The server's defaults are 2,000 records and 8 MiB a push; the byte budget leaves room for the envelope. */
export const PUSH_LIMITS = { records: 2_000, bytes: 6 * 1024 * 1024 };
/** Journal entries read at a time. */
const ENTRIES_PER_READ = 500;

export interface Replica {
  storage: IndexedDBCheckpointStorage;
  transport: SyncTransport;
  /** Opens values for the server and seals pulled ones, when the database is encrypted. */
  values: StoredValues;
  clientId: string;
  /** Only these threads, or every thread of the user. */
  threads: string[] | 'all';
  signal: AbortSignal;
}

/** Journal entries read and packed for pushing; `full` when the read stopped at its size, short of the end. */
interface PreparedPushes {
  batches: PushBatch[];
  last?: number;
  full: boolean;
}

interface PushBatch {
  seqs: number[];
  records: WireRecord[];
  bytes: number;
}

function recordsOf(read: JournalRead): WireRecord[] {
  if (read.deleted) return [{ kind: 'delete', thread_id: read.thread_id }];
  if (read.pruned) return read.pruned.map(({ checkpoint_ns, checkpoint_id }): WireRecord => ({ kind: 'prune', thread_id: read.thread_id, checkpoint_ns, checkpoint_id }));
  const records: SyncRecord[] = [];
  if (read.checkpoint) records.push({ kind: 'checkpoint', ...read.checkpoint });
  for (const blob of read.blobs) records.push({ kind: 'blob', ...blob });
  for (const write of read.writes) records.push({ kind: 'write', ...write });
  return records.map(toWireRecord);
}

function syncsThread(threads: string[] | 'all', thread_id: string): boolean {
  return threads === 'all' || threads.includes(thread_id);
}

/** Packs journal entries, in order, into pushes within `PUSH_LIMITS`; an entry larger than that goes alone. */
export function pushBatches(reads: JournalRead[], threads: string[] | 'all'): PushBatch[] {
  const batches: PushBatch[] = [];
  let current: PushBatch = { seqs: [], records: [], bytes: 0 };
  for (const read of reads) {
    // Threads outside `threads` stay local: their entries are taken out unsent.
    const records = syncsThread(threads, read.thread_id) ? recordsOf(read) : [];
    const bytes = records.reduce((sum, record) => sum + JSON.stringify(record).length + 1, 0);
    const full = current.records.length + records.length > PUSH_LIMITS.records || current.bytes + bytes > PUSH_LIMITS.bytes;
    if (full && current.records.length > 0) {
      batches.push(current);
      current = { seqs: [], records: [], bytes: 0 };
    }
    current.seqs.push(read.seq, ...(read.carried ?? []));
    current.records.push(...records);
    current.bytes += bytes;
  }
  if (current.seqs.length > 0) batches.push(current);
  return batches;
}

function malformed(endpoint: string, problem: string): CheckpointError {
  return new CheckpointError('SYNC', `The sync server's answer to ${endpoint} is malformed: ${problem}.`);
}

function readPushResponse(value: unknown): PushResponse {
  const answer = value as Partial<PushResponse> | null;
  if (!answer || !Array.isArray(answer.deletedThreads) || !answer.deletedThreads.every((id) => typeof id === 'string')) {
    throw malformed('push', 'deletedThreads must be an array of thread ids');
  }
  const commit = answer.commit as Partial<PushCommit> | null | undefined;
  if (commit !== undefined && (typeof commit?.from !== 'string' || typeof commit.to !== 'string')) {
    throw malformed('push', 'commit must hold the cursors from and to');
  }
  return answer as PushResponse;
}

function readPullResponse(value: unknown): PullResponse {
  const answer = value as Partial<PullResponse> | null;
  if (!answer || !Array.isArray(answer.changes)) throw malformed('pull', 'changes must be an array');
  if (typeof answer.cursor !== 'string') throw malformed('pull', 'cursor must be a string');
  if (typeof answer.more !== 'boolean' || typeof answer.resync !== 'boolean') throw malformed('pull', 'more and resync must be booleans');
  return answer as PullResponse;
}

function deletions(threadIds: string[]): WriteOperation[] {
  return threadIds.map((thread_id): WriteOperation => ({ kind: 'delete', thread_id }));
}

/** The cursors around a push's commit on the server (see `PushResponse.commit`). */
export type PushCommit = NonNullable<PushResponse['commit']>;

export interface PushResult {
  /** Records sent. */
  sent: number;
  /** The commits of the pushes that numbered changes, in order. */
  commits: PushCommit[];
}

/**
 * Sends the whole journal; resolves with how many records went out and the server's commits. After a full read, the next journal entries
 * are read, opened and packed while the push is in flight (a first sync); after a read that reached the journal's
 * end, the next read waits for the answer, so that what was committed meanwhile goes out in one push instead of
 * trickling out one commit a push. Entries are taken out only once the server answered theirs, and the next push
 * does not wait for that: a push that fails leaves its entries and every later one in the journal, to be sent
 * again in order.
 */
export async function push(replica: Replica): Promise<PushResult> {
  const { storage, transport, values, clientId, threads, signal } = replica;
  const prepare = async (after?: number): Promise<PreparedPushes> => {
    const journal = await storage.readJournal(ENTRIES_PER_READ, after);
    // Only what goes out is opened: a thread that stays local may be sealed with a key this tab does not hold.
    const opened = await values.inClear(journal.filter((read) => syncsThread(threads, read.thread_id)));
    const reads = journal.map((read) => (syncsThread(threads, read.thread_id) ? opened.shift()! : read));
    const last = journal.length === 0 ? undefined : Math.max(...journal.flatMap((read) => [read.seq, ...(read.carried ?? [])]));
    const full = journal.length >= ENTRIES_PER_READ;
    return last === undefined ? { batches: [], full } : { batches: pushBatches(reads, threads), last, full };
  };
  let sent = 0;
  const commits: PushCommit[] = [];
  let next = prepare();
  // The read of the entries after those being pushed, once begun.
  let ahead: Promise<PreparedPushes> | undefined;
  // Acknowledgements, one after another; awaited before the push resolves, and each before the next begins.
  let acknowledged: Promise<void> = Promise.resolve();
  try {
    for (;;) {
      const { batches, last, full }: PreparedPushes = await next;
      if (last === undefined) {
        await acknowledged;
        return { sent, commits };
      }
      ahead = full ? prepare(last) : undefined;
      // Awaited in the next turn of the loop; not at all when a push of these batches fails first.
      ahead?.catch(() => undefined);
      for (const [i, batch] of batches.entries()) {
        if (batch.records.length > 0) {
          const request: PushRequest = { records: batch.records, clientId };
          const answer = readPushResponse(await transport.post('push', request, signal));
          // Deleted elsewhere: the server dropped these threads' records; they go here too, for good.
          if (answer.deletedThreads.length > 0) await storage.applyChanges(deletions(answer.deletedThreads));
          if (answer.commit) commits.push(answer.commit);
          sent += batch.records.length;
        }
        // Begun before the acknowledgement, which it does not need: it reads after `last`.
        if (ahead === undefined && i === batches.length - 1) {
          ahead = prepare(last);
          ahead.catch(() => undefined);
        }
        acknowledged = acknowledged.then(() => storage.acknowledgeJournal(batch.seqs));
        acknowledged.catch(() => undefined);
      }
      next = ahead ?? prepare(last);
      ahead = undefined;
    }
  } catch (error) {
    // The entries read ahead stay in the journal; the read and the acknowledgements end before the round does.
    await ahead?.catch(() => undefined);
    await acknowledged.catch(() => undefined);
    throw error;
  }
}

/**
 * Applies the checkpoints pruned everywhere that a page names, one transaction per thread. Before the page's other
 * changes: a page never holds a record of a checkpoint it prunes (the server dropped them), and applying a prune
 * twice (a page pulled again after a crash) deletes nothing more.
 */
async function applyPrunes(storage: IndexedDBCheckpointStorage, changes: SyncRecord[]): Promise<void> {
  const byThread = new Map<string, CheckpointName[]>();
  for (const change of changes) {
    if (change.kind !== 'prune') continue;
    const { thread_id, checkpoint_ns, checkpoint_id } = change;
    const named = byThread.get(thread_id);
    if (named) named.push({ checkpoint_ns, checkpoint_id });
    else byThread.set(thread_id, [{ checkpoint_ns, checkpoint_id }]);
  }
  for (const [thread_id, checkpoints] of byThread) await storage.prune([thread_id], { checkpoints });
}

/** Storage operations for a page of changes, in the order the server committed them; prunes apart (`applyPrunes`). */
export function operationsOf(changes: SyncRecord[]): WriteOperation[] {
  const operations: WriteOperation[] = [];
  for (const change of changes) {
    const last = operations.at(-1);
    switch (change.kind) {
      case 'checkpoint': {
        const { kind: _, ...checkpoint } = change;
        operations.push({ kind: 'checkpoint', checkpoint, blobs: [] });
        break;
      }
      case 'blob': {
        const { kind: _, ...blob } = change;
        if (last?.kind === 'blobs') last.blobs.push(blob);
        else operations.push({ kind: 'blobs', blobs: [blob] });
        break;
      }
      case 'write': {
        const { kind: _, ...write } = change;
        const first = last?.kind === 'writes' ? last.writes[0] : undefined;
        const sameTask =
          first !== undefined &&
          first.thread_id === write.thread_id &&
          first.checkpoint_ns === write.checkpoint_ns &&
          first.checkpoint_id === write.checkpoint_id &&
          first.task_id === write.task_id;
        if (sameTask && last?.kind === 'writes') last.writes.push(write);
        else operations.push({ kind: 'writes', writes: [write] });
        break;
      }
      case 'delete':
        operations.push({ kind: 'delete', thread_id: change.thread_id });
        break;
      case 'prune':
        break;
    }
  }
  return operations;
}

/** Where pulls of this thread set resume, and the settings key it is stored under. */
export interface PullBookmark {
  key: string;
  scope: string;
  cursor: string | null;
  /** A bookmark of another thread set was stored: threads that stayed local until now may have to go out. */
  rescoped: boolean;
}

export function bookmarkKey(url: string): string {
  return `sync-cursor:${url}`;
}

export function scopeOf(threads: string[] | 'all'): string {
  return threads === 'all' ? 'all' : JSON.stringify([...threads].sort());
}

/**
 * Pulls every page from the bookmark on, each stored in one transaction with its cursor, in order; the next page is
 * fetched, read and checked while one commits. On `resync` (the server
 * does not know the cursor) everything stored here is journaled again first, since the server may have lost it,
 * and pulling starts over. Resolves with the last cursor, whether the journal was refilled, and how many checkpoint
 * tombstones were applied (one that a branch here needs journals its thread again: see `PruneNamed`).
 */
export async function pull(replica: Replica, bookmark: PullBookmark): Promise<{ cursor: string; changes: number; resynced: boolean; prunes: number }> {
  const { storage, transport, values, clientId, threads, signal } = replica;
  const fetchPage = async (cursor: string | null): Promise<PullResponse> => {
    // No limit: pages as large as the server allows (1,000 changes by default), so a first sync takes few round trips.
    const request: PullRequest = { cursor, clientId };
    if (threads !== 'all') request.threads = threads;
    return readPullResponse(await transport.post('pull', request, signal));
  };
  /**
   * Stores a page; when its records build on history pruned here (`HistoryNotStored`), first pulls those threads
   * whole (this device's own pushes included), which brings that history back, then stores the page, the threads
   * pulled whole as they are.
   */
  const store = async (records: SyncRecord[], settings: Record<string, unknown>): Promise<void> => {
    await applyPrunes(storage, records);
    const operations = operationsOf(records);
    const historyFetched = new Set<string>();
    for (;;) {
      try {
        await storage.applyChanges(operations, settings, { historyFetched });
        return;
      } catch (error) {
        // Each round names threads not fetched yet (a batch reports the first record it misses), so this ends.
        if (!(error instanceof HistoryNotStored)) throw error;
        for (const thread_id of error.threadIds) {
          await pullThreadWhole(replica, thread_id);
          historyFetched.add(thread_id);
        }
      }
    }
  };
  let resynced = false;
  let changes = 0;
  let prunes = 0;
  let next = fetchPage(bookmark.cursor);
  // The previous page's transaction: this page is read and checked while it commits, and stored once it did.
  let storing: Promise<void> = Promise.resolve();
  try {
    for (;;) {
      const page = await next;
      // The next page is asked for while this one is stored: its cursor is known, and pages are stored in order, so
      // the stored cursor never passes what is stored.
      if (page.more) {
        next = fetchPage(page.cursor);
        // Not awaited when storing this page fails; its failure is the one that counts.
        next.catch(() => undefined);
      }
      if (page.resync && !resynced) {
        resynced = true;
        await storing;
        await storage.rejournalAll();
      }
      const records = await pulledRecords(values, page);
      // In order: a page whose predecessor failed is not stored, so the stored cursor never skips a page.
      await storing;
      storing = store(records, { [bookmark.key]: { scope: bookmark.scope, cursor: page.cursor } });
      // Awaited before the next page is stored, or before the pull ends.
      storing.catch(() => undefined);
      changes += records.length;
      prunes += records.filter((record) => record.kind === 'prune').length;
      if (!page.more) {
        await storing;
        return { cursor: page.cursor, changes, resynced, prunes };
      }
    }
  } catch (error) {
    // A page that failed to arrive or to be read: the one being stored still ends before the round does.
    await storing.catch(() => undefined);
    throw error;
  }
}

/** A pulled page's records, checked, as this database stores them. */
function pulledRecords(values: StoredValues, page: PullResponse): Promise<SyncRecord[]> {
  return values.forStorage(page.changes.map((change, i) => readWireRecord(change, `pull changes[${i}]`)));
}

/** Every record of one thread on the server, stored here page by page, without moving the bookmark. */
async function pullThreadWhole({ storage, transport, values, signal }: Replica, thread_id: string): Promise<void> {
  for (let cursor: string | null = null; ; ) {
    const page = readPullResponse(await transport.post('pull', { cursor, threads: [thread_id] } satisfies PullRequest, signal));
    const records = await pulledRecords(values, page);
    await applyPrunes(storage, records);
    await storage.applyChanges(operationsOf(records), undefined, { historyFetched: new Set([thread_id]) });
    if (!page.more) return;
    cursor = page.cursor;
  }
}

/** The stored bookmark for this server and thread set; a bookmark of another thread set starts over. */
export async function readBookmark(storage: IndexedDBCheckpointStorage, url: string, threads: string[] | 'all'): Promise<PullBookmark> {
  const key = bookmarkKey(url);
  const scope = scopeOf(threads);
  const stored = (await storage.readSetting(key)) as { scope?: unknown; cursor?: unknown } | undefined;
  const cursor = stored?.scope === scope && typeof stored.cursor === 'string' ? stored.cursor : null;
  return { key, scope, cursor, rescoped: stored !== undefined && stored.scope !== scope };
}
