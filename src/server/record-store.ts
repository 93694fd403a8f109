/**
 * Queries on sync's own tables. The pull cursor is a per-user sequence number handed out inside the writing
 * transaction while it holds the user's row lock: a writer that started earlier but commits later cannot take a
 * smaller number than one already visible, so a pull never skips a slow writer's changes (a plain sequence or a
 * clock would). Writers of different users never wait for each other.
 */
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { deltaAncestors } from '../storage/delta-ancestors.js';
import type { BlobRecord, ChannelVersion, CheckpointRecord } from '../storage/records.js';
import { blobKey, readWireRecord, recordKey, toWireRecord, type DataRecord, type WireCheckpoint, type WirePrune, type WireRecord } from '../wire/records.js';
import type { TableNames } from './tables.js';
import { inTransaction } from './transaction.js';

/** A record ready to store: its key columns and its body in the wire format. */
export interface RecordRow {
  thread_id: string;
  checkpoint_ns: string;
  kind: 'checkpoint' | 'blob' | 'write';
  record_key: string;
  body: string;
  /** A special write (negative idx), which replaces an earlier one with the same key, as LangGraph's do. */
  replaces: boolean;
}

/** The row of a record: its body is the record in the wire format, as the server checked it. */
export function recordRow(record: DataRecord): RecordRow {
  return {
    thread_id: record.thread_id,
    checkpoint_ns: record.checkpoint_ns,
    kind: record.kind,
    record_key: recordKey(record),
    body: JSON.stringify(toWireRecord(record)),
    replaces: record.kind === 'write' && record.idx < 0,
  };
}

export interface ThreadState {
  owner: string;
  deleted: boolean;
}

/** What a commit deletes: whole threads (`deleteThread`), and checkpoints pruned everywhere. */
export interface Removals {
  threads: string[];
  checkpoints: WirePrune[];
  /** Pruned checkpoints that come back, their tombstones gone (see `RecordStore.neededAgain`). */
  readmitted?: WirePrune[];
}

export const NO_REMOVALS: Removals = { threads: [], checkpoints: [] };

/** A checkpoint as far as chaining it to its ancestors needs. */
type ChainedCheckpoint = Pick<CheckpointRecord, 'thread_id' | 'checkpoint_ns' | 'checkpoint_id' | 'parent_checkpoint_id' | 'channel_versions' | 'delta_channels'>;

/** The checkpoints and values a push brings, as far as chaining checkpoints needs them. */
export interface PushedChain {
  checkpoints: ChainedCheckpoint[];
  values: { thread_id: string; checkpoint_ns: string; channel: string; version: ChannelVersion }[];
}

export interface CommitResult {
  stored: number;
  /** Threads found deleted: their rows were dropped. */
  deletedThreads: string[];
  /**
   * Checkpoints that are pruned everywhere and that the saver may still hold: those this commit pruned, and those
   * whose rows it dropped (pruned meanwhile). The caller deletes them from the saver.
   */
  prunedCheckpoints: WirePrune[];
  /** Checkpoints this commit stored whose parent is pruned everywhere, by `checkpointKey`. */
  orphans: Set<string>;
  /** The user's cursors before and after this commit, when it numbered any change. */
  cursors?: { from: string; to: string };
}

interface PullOptions {
  cursor: string | null;
  limit: number;
  maxBytes: number;
  threads?: string[];
  clientId?: string;
}

export interface PullPage {
  /** Bodies in the wire format, in sequence order. */
  changes: string[];
  cursor: string;
  more: boolean;
  resync: boolean;
}

const CURSOR = /^([0-9a-f]{32})\.(\d{1,15})$/;
/** A commit's notification: the user's new cursor, a space, the user (whatever characters it holds). */
const NOTIFICATION = /^([0-9a-f]{32}\.\d{1,15}) ([^]*)$/;

function notification(userId: string, cursor: string): string {
  return `${cursor} ${userId}`;
}

/** The user and new cursor of a commit's notification; a bare user id (no cursor) from a server of an earlier version. */
export function readNotification(payload: string): { userId: string; cursor?: string } {
  const match = NOTIFICATION.exec(payload);
  return match ? { userId: match[2]!, cursor: match[1]! } : { userId: payload };
}

export function rowKey(row: { thread_id: string; checkpoint_ns: string; kind: string; record_key: string }): string {
  return JSON.stringify([row.thread_id, row.checkpoint_ns, row.kind, row.record_key]);
}

function storedBlob(body: string): BlobRecord {
  const { kind: _kind, ...blob } = readWireRecord(JSON.parse(body), 'stored blob') as { kind: 'blob' } & BlobRecord;
  return blob;
}

/** The key of a checkpoint within sync's tables, and of the records that belong to it. */
export function checkpointKey(thread_id: string, checkpoint_ns: string, checkpoint_id: string): string {
  return JSON.stringify([thread_id, checkpoint_ns, checkpoint_id]);
}

/** The checkpoint a stored row belongs to (a checkpoint's or a write's), or undefined for a value. */
function checkpointOfRow(row: RecordRow): string | undefined {
  if (row.kind === 'blob') return undefined;
  return checkpointKey(row.thread_id, row.checkpoint_ns, (JSON.parse(row.record_key) as [string])[0]);
}

/** The user's row is gone (sync's tables were emptied while the server ran). */
class MissingUser extends Error {}

export class RecordStore {
  /** Users whose row this process has seen; rows are never deleted, so they are not looked for again. */
  readonly #users = new Set<string>();

  constructor(
    readonly pool: Pool,
    readonly tables: TableNames,
  ) {}

  /** Owner and state of those of `threadIds` that someone pushed. */
  async threads(threadIds: string[]): Promise<Map<string, ThreadState>> {
    const { rows } = await this.pool.query<{ thread_id: string; owner: string; deleted: boolean }>(
      `SELECT thread_id, owner, deleted_seq IS NOT NULL AS deleted FROM ${this.tables.threads} WHERE thread_id = ANY($1::text[])`,
      [threadIds],
    );
    return new Map(rows.map((row) => [row.thread_id, { owner: row.owner, deleted: row.deleted }]));
  }

  /** The checkpoints of `threadIds` pruned everywhere, by `checkpointKey`; in `client`'s transaction when given. */
  async prunedCheckpoints(threadIds: string[], client: Pool | PoolClient = this.pool): Promise<Map<string, WirePrune>> {
    if (threadIds.length === 0) return new Map();
    const { rows } = await client.query<{ thread_id: string; checkpoint_ns: string; checkpoint_id: string }>(
      `SELECT thread_id, checkpoint_ns, checkpoint_id FROM ${this.tables.pruned} WHERE thread_id = ANY($1::text[])`,
      [threadIds],
    );
    return new Map(rows.map((row) => [checkpointKey(row.thread_id, row.checkpoint_ns, row.checkpoint_id), { kind: 'prune', ...row }]));
  }

  /**
   * Gives the unowned of `threadIds` to `userId`. Resolves with the threads that belong to someone else, in
   * which case nothing was claimed.
   */
  claim(userId: string, threadIds: string[]): Promise<string[]> {
    return inTransaction(this.pool, async (client) => {
      await client.query(
        `INSERT INTO ${this.tables.threads} (thread_id, owner) SELECT unnest($1::text[]), $2 ON CONFLICT (thread_id) DO NOTHING`,
        [threadIds, userId],
      );
      const { rows } = await client.query<{ thread_id: string }>(
        `SELECT thread_id FROM ${this.tables.threads} WHERE thread_id = ANY($1::text[]) AND owner <> $2`,
        [threadIds, userId],
      );
      if (rows.length > 0) throw new ForeignThreads(rows.map((row) => row.thread_id));
      return [];
    }).catch((error: unknown) => {
      if (error instanceof ForeignThreads) return error.threadIds;
      throw error;
    });
  }

  /** The bodies already stored under the keys of `rows`, by `rowKey`. */
  async existing(rows: RecordRow[]): Promise<Map<string, string>> {
    if (rows.length === 0) return new Map();
    const { rows: found } = await this.pool.query<RecordRow>(
      `SELECT r.thread_id, r.checkpoint_ns, r.kind, r.record_key, r.body FROM ${this.tables.records} r
       JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS k(thread_id, checkpoint_ns, kind, record_key)
       USING (thread_id, checkpoint_ns, kind, record_key)`,
      [rows.map((row) => row.thread_id), rows.map((row) => row.checkpoint_ns), rows.map((row) => row.kind), rows.map((row) => row.record_key)],
    );
    return new Map(found.map((row) => [rowKey(row), row.body]));
  }

  /** The stored values of a channel at `versions` (those stored), as records. */
  async blobs(thread_id: string, checkpoint_ns: string, channel: string, versions: ChannelVersion[]): Promise<BlobRecord[]> {
    if (versions.length === 0) return [];
    const { rows } = await this.pool.query<{ body: string }>(
      `SELECT body FROM ${this.tables.records} WHERE thread_id = $1 AND checkpoint_ns = $2 AND kind = 'blob' AND record_key = ANY($3::text[])`,
      [thread_id, checkpoint_ns, versions.map((version) => blobKey(channel, version))],
    );
    return rows.map(({ body }) => storedBlob(body));
  }

  /** Every stored value of a channel, as records. */
  async channelBlobs(thread_id: string, checkpoint_ns: string, channel: string): Promise<BlobRecord[]> {
    // A blob's key is the JSON of [channel, version]: the channel's keys share the text before the version.
    const prefix = blobKey(channel, 0).slice(0, -'0]'.length);
    const { rows } = await this.pool.query<{ body: string }>(
      `SELECT body FROM ${this.tables.records} WHERE thread_id = $1 AND checkpoint_ns = $2 AND kind = 'blob' AND starts_with(record_key, $3)`,
      [thread_id, checkpoint_ns, prefix],
    );
    return rows.map(({ body }) => storedBlob(body));
  }

  /**
   * Stores `rows` and the tombstones of `removals` for `userId` in one transaction, numbering them in order after
   * the user's head. Rows of deleted threads and of pruned checkpoints are dropped; rows already stored are left as
   * they are, except special writes with a new body. `before` runs at the start of the same transaction, before the
   * user's row is locked (the push's rows of the saver's tables, when they share the pool).
   */
  commit(userId: string, rows: RecordRow[], removals: Removals, origin: string | null, before?: (client: PoolClient) => Promise<void>): Promise<CommitResult> {
    // The user's row is created on its own first, so that the writing transaction only locks a committed row,
    // which readers never wait for.
    return this.#asUser(userId, () => this.#commit(userId, rows, removals, origin, before));
  }

  #commit(userId: string, rows: RecordRow[], removals: Removals, origin: string | null, before?: (client: PoolClient) => Promise<void>): Promise<CommitResult> {
    const t = this.tables;
    const deletions = removals.threads;
    return inTransaction(this.pool, async (client) => {
      await before?.(client);
      // Takes the user's row lock, held to commit: numbers are handed out in commit order.
      const { rows: users } = await client.query<{ epoch: string; head: string }>(`SELECT epoch, head FROM ${t.users} WHERE user_id = $1 FOR UPDATE`, [userId]);
      if (users.length === 0) throw new MissingUser();
      let seq = Number(users[0]!.head);
      const first = seq;
      for (const thread_id of deletions) {
        seq += 1;
        await client.query(
          `INSERT INTO ${t.threads} (thread_id, owner, deleted_seq) VALUES ($1, $2, $3)
           ON CONFLICT (thread_id) DO UPDATE SET deleted_seq = $3
           WHERE ${t.threads}.owner = $2 AND ${t.threads}.deleted_seq IS NULL`,
          [thread_id, userId, seq],
        );
      }
      if (deletions.length > 0) {
        await client.query(`DELETE FROM ${t.records} WHERE thread_id = ANY($1::text[])`, [deletions]);
        await client.query(`DELETE FROM ${t.pruned} WHERE thread_id = ANY($1::text[])`, [deletions]);
      }
      const threadIds = [...new Set(rows.map((row) => row.thread_id))];
      const { rows: states } = await client.query<{ thread_id: string; owner: string; deleted: boolean }>(
        `SELECT thread_id, owner, deleted_seq IS NOT NULL AS deleted FROM ${t.threads} WHERE thread_id = ANY($1::text[])`,
        [threadIds],
      );
      const byThread = new Map(states.map((state) => [state.thread_id, state]));
      for (const thread_id of threadIds) {
        const state = byThread.get(thread_id);
        // Claimed before the saver was written; anything else is a bug, and nothing may be stored.
        if (state?.owner !== userId) throw new Error(`Thread ${JSON.stringify(thread_id)} is not owned by the writing user.`);
      }
      const deletedThreads = threadIds.filter((thread_id) => byThread.get(thread_id)!.deleted);
      const readmitted = removals.readmitted ?? [];
      if (readmitted.length > 0) {
        await client.query(
          `DELETE FROM ${t.pruned} p USING unnest($1::text[], $2::text[], $3::text[]) AS r(thread_id, checkpoint_ns, checkpoint_id)
           WHERE (p.thread_id, p.checkpoint_ns, p.checkpoint_id) = (r.thread_id, r.checkpoint_ns, r.checkpoint_id)`,
          [readmitted.map((r) => r.thread_id), readmitted.map((r) => r.checkpoint_ns), readmitted.map((r) => r.checkpoint_id)],
        );
      }
      // Read under the user's lock: a prune committed since the push read them is seen here.
      const pruned = await this.prunedCheckpoints(threadIds, client);
      const dropped = new Map<string, WirePrune>();
      const live = rows.filter((row) => {
        if (byThread.get(row.thread_id)!.deleted) return false;
        if (pruned.size === 0) return true;
        const checkpoint = checkpointOfRow(row);
        const prune = checkpoint === undefined ? undefined : pruned.get(checkpoint);
        if (prune) dropped.set(checkpoint!, prune);
        return prune === undefined;
      });
      // Numbered in order; a row already stored leaves a gap, which cursors do not mind.
      const numbered = live.map((row, i) => ({ row, seq: seq + 1 + i }));
      seq += live.length;
      const commit = { userId, origin, end: seq };
      const stored =
        (await this.#insert(client, commit, numbered.filter(({ row }) => !row.replaces), false)) +
        (await this.#insert(client, commit, numbered.filter(({ row }) => row.replaces), true));
      const prunes = removals.checkpoints.filter((prune) => !deletions.includes(prune.thread_id) && !byThread.get(prune.thread_id)?.deleted);
      const prunedNow = await this.#prune(client, userId, origin, prunes, seq);
      seq += prunedNow.length;
      for (const prune of prunedNow) dropped.set(checkpointKey(prune.thread_id, prune.checkpoint_ns, prune.checkpoint_id), prune);
      const prunedCheckpoints = [...dropped.values()];
      const orphans = new Set<string>();
      for (const { row } of pruned.size === 0 ? [] : numbered) {
        if (row.kind !== 'checkpoint') continue;
        const { parent_checkpoint_id } = JSON.parse(row.body) as WireCheckpoint;
        if (parent_checkpoint_id !== undefined && pruned.has(checkpointKey(row.thread_id, row.checkpoint_ns, parent_checkpoint_id))) {
          orphans.add(checkpointKey(row.thread_id, row.checkpoint_ns, (JSON.parse(row.record_key) as [string])[0]));
        }
      }
      if (seq > first) {
        // The notification is delivered at commit, to every server process listening, with the new cursor: live
        // streams announce it without reading it again.
        await client.query(`UPDATE ${t.users} SET head = $2 WHERE user_id = $1 RETURNING pg_notify($3, $4)`, [
          userId,
          seq,
          t.channel,
          notification(userId, `${users[0]!.epoch}.${seq}`),
        ]);
        return { stored, deletedThreads, prunedCheckpoints, orphans, cursors: { from: `${users[0]!.epoch}.${first}`, to: `${users[0]!.epoch}.${seq}` } };
      }
      return { stored, deletedThreads, prunedCheckpoints, orphans };
    });
  }

  /**
   * Of the checkpoints of `threadIds` stored (and those of `pushed`), the ones `from` accepts and, through
   * `deltaAncestors`, every one whose writes they replay, by `checkpointKey`.
   */
  async #replayClosure(
    client: Pool | PoolClient,
    threadIds: string[],
    pushed: PushedChain,
    from: (key: string) => boolean,
  ): Promise<Set<string>> {
    const t = this.tables;
    const [{ rows: checkpointRows }, { rows: blobRows }] = await Promise.all([
      client.query<{ body: string }>(`SELECT body FROM ${t.records} WHERE thread_id = ANY($1::text[]) AND kind = 'checkpoint'`, [threadIds]),
      client.query<{ thread_id: string; checkpoint_ns: string; record_key: string }>(
        `SELECT thread_id, checkpoint_ns, record_key FROM ${t.records} WHERE thread_id = ANY($1::text[]) AND kind = 'blob'`,
        [threadIds],
      ),
    ]);
    // Checked when pushed; only the fields that chain checkpoints and name values are read.
    const checkpoints: ChainedCheckpoint[] = [...checkpointRows.map(({ body }) => JSON.parse(body) as WireCheckpoint), ...pushed.checkpoints];
    const scope = (thread_id: string, checkpoint_ns: string) => JSON.stringify([thread_id, checkpoint_ns]);
    const storedValues = new Set([
      ...blobRows.map((row) => scope(row.thread_id, row.checkpoint_ns) + row.record_key),
      ...pushed.values.map((value) => scope(value.thread_id, value.checkpoint_ns) + blobKey(value.channel, value.version)),
    ]);
    const byId = new Map(checkpoints.map((record) => [checkpointKey(record.thread_id, record.checkpoint_ns, record.checkpoint_id), record]));
    const reached = new Set([...byId.keys()].filter(from));
    const toVisit = [...reached].map((key) => byId.get(key)!);
    for (let record = toVisit.pop(); record !== undefined; record = toVisit.pop()) {
      const { thread_id } = record;
      const parentOf = (child: ChainedCheckpoint) =>
        child.parent_checkpoint_id === undefined ? undefined : byId.get(checkpointKey(thread_id, child.checkpoint_ns, child.parent_checkpoint_id));
      const stored = (checkpoint_ns: string, channel: string, version: ChannelVersion) => storedValues.has(scope(thread_id, checkpoint_ns) + blobKey(channel, version));
      for (const ancestor of deltaAncestors(record, parentOf, stored)) {
        const key = checkpointKey(ancestor.thread_id, ancestor.checkpoint_ns, ancestor.checkpoint_id);
        if (reached.has(key)) continue;
        reached.add(key);
        toVisit.push(ancestor);
      }
    }
    return reached;
  }

  /**
   * Of the pruned checkpoints `candidates` (keys) that a push brings again, those that a checkpoint kept on the
   * server or in the push replays the writes of (a `DeltaChannel` branch pushed after a prune of its ancestors): they
   * come back (`Removals.readmitted`).
   */
  async neededAgain(threadIds: string[], pushed: PushedChain, pruned: ReadonlySet<string>, candidates: Iterable<string>): Promise<Set<string>> {
    const reached = await this.#replayClosure(this.pool, threadIds, pushed, (key) => !pruned.has(key));
    return new Set([...candidates].filter((key) => reached.has(key)));
  }

  /**
   * Prunes checkpoints everywhere, in the caller's transaction (holding the user's lock), numbering their tombstones
   * after `seq`: each goes with its writes, unless a checkpoint that stays replays its writes (`deltaAncestors`).
   * Values stay: a device may push later a list that builds on one, or a checkpoint that names one (a branch it
   * made from a pruned checkpoint). Resolves with those pruned (one pruned before too: the caller deletes them from
   * the saver again, which a retry needs).
   */
  async #prune(client: PoolClient, userId: string, origin: string | null, prunes: WirePrune[], seq: number): Promise<WirePrune[]> {
    const t = this.tables;
    const threadIds = [...new Set(prunes.map((prune) => prune.thread_id))];
    if (threadIds.length === 0) return [];
    const named = new Map(prunes.map((prune) => [checkpointKey(prune.thread_id, prune.checkpoint_ns, prune.checkpoint_id), prune]));
    const stays = await this.#replayClosure(client, threadIds, { checkpoints: [], values: [] }, (key) => !named.has(key));
    const goes = [...named].filter(([key]) => !stays.has(key)).map(([, prune]) => prune);
    if (goes.length === 0) return [];
    const column = <K extends keyof WirePrune>(field: K) => goes.map((prune) => prune[field]);
    // Numbered after `seq` in order; one pruned before keeps its number and leaves a gap, which cursors do not mind.
    await client.query(
      `INSERT INTO ${t.pruned} (thread_id, checkpoint_ns, checkpoint_id, owner, seq, origin)
       SELECT thread_id, checkpoint_ns, checkpoint_id, $4, $5 + ordinality, $6
       FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS p(thread_id, checkpoint_ns, checkpoint_id, ordinality)
       ON CONFLICT DO NOTHING`,
      [column('thread_id'), column('checkpoint_ns'), column('checkpoint_id'), userId, seq, origin],
    );
    // The checkpoint's row, and its writes' rows, whose keys begin with its id (see `recordKey`).
    await client.query(
      `DELETE FROM ${t.records} r USING unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS p(thread_id, checkpoint_ns, checkpoint_key, writes_prefix)
       WHERE r.thread_id = p.thread_id AND r.checkpoint_ns = p.checkpoint_ns
         AND ((r.kind = 'checkpoint' AND r.record_key = p.checkpoint_key) OR (r.kind = 'write' AND starts_with(r.record_key, p.writes_prefix)))`,
      [
        column('thread_id'),
        column('checkpoint_ns'),
        goes.map((prune) => JSON.stringify([prune.checkpoint_id])),
        goes.map((prune) => `${JSON.stringify([prune.checkpoint_id]).slice(0, -1)},`),
      ],
    );
    return goes;
  }

  /** Inserts rows; an existing one stays, or with `replace` takes the new body when it differs. */
  async #insert(
    client: PoolClient,
    commit: { userId: string; origin: string | null; end: number },
    rows: { row: RecordRow; seq: number }[],
    replace: boolean,
  ): Promise<number> {
    if (rows.length === 0) return 0;
    const onConflict = replace
      ? 'DO UPDATE SET body = EXCLUDED.body, seq = EXCLUDED.seq, origin = EXCLUDED.origin, commit_end = EXCLUDED.commit_end WHERE r.body <> EXCLUDED.body'
      : 'DO NOTHING';
    const { rowCount } = await client.query(
      `INSERT INTO ${this.tables.records} AS r (thread_id, checkpoint_ns, kind, record_key, owner, seq, origin, body, commit_end)
       SELECT thread_id, checkpoint_ns, kind, record_key, $7, seq, $8, body, $9
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[])
         AS n(thread_id, checkpoint_ns, kind, record_key, seq, body)
       ON CONFLICT (thread_id, checkpoint_ns, kind, record_key) ${onConflict}`,
      [
        rows.map(({ row }) => row.thread_id),
        rows.map(({ row }) => row.checkpoint_ns),
        rows.map(({ row }) => row.kind),
        rows.map(({ row }) => row.record_key),
        rows.map(({ seq }) => seq),
        rows.map(({ row }) => row.body),
        commit.userId,
        commit.origin,
        commit.end,
      ],
    );
    return rowCount ?? 0;
  }

  /** The cursor at the user's newest change. */
  async head(userId: string): Promise<string> {
    const { epoch, head } = await this.#asUser(userId, () => this.#user(this.pool, userId));
    return `${epoch}.${head}`;
  }

  /**
   * Runs `body` once the user's row exists. A row gone since this process saw it (sync's tables emptied by hand) is
   * made again, with a new epoch, and `body` runs again.
   */
  async #asUser<T>(userId: string, body: () => Promise<T>): Promise<T> {
    await this.#ensureUser(userId);
    try {
      return await body();
    } catch (error) {
      if (!(error instanceof MissingUser)) throw error;
      this.#users.delete(userId);
      await this.#ensureUser(userId);
      return body();
    }
  }

  /** Creates the user's row if missing; a plain read first, so that a reader never waits for a writer's lock. */
  async #ensureUser(userId: string): Promise<void> {
    if (this.#users.has(userId)) return;
    const { rowCount } = await this.pool.query(`SELECT 1 FROM ${this.tables.users} WHERE user_id = $1`, [userId]);
    if (!rowCount) {
      await this.pool.query(`INSERT INTO ${this.tables.users} (user_id, epoch) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING`, [
        userId,
        randomUUID().replaceAll('-', ''),
      ]);
    }
    this.#users.add(userId);
  }

  async #user(client: Pool | PoolClient, userId: string): Promise<{ epoch: string; head: number }> {
    const { rows } = await client.query<{ epoch: string; head: string }>(`SELECT epoch, head FROM ${this.tables.users} WHERE user_id = $1`, [userId]);
    if (rows.length === 0) throw new MissingUser();
    return { epoch: rows[0]!.epoch, head: Number(rows[0]!.head) };
  }

  /**
   * The user's changes after `cursor`, at most `limit` of them and about `maxBytes` (at least one), in one
   * snapshot, ending at a commit's end: a page that would end inside a commit ends before it instead, or, when that
   * commit is all the page holds, takes the rest of it (as large as a push may be). Storing each page in one
   * transaction, a client then never shows a part of a commit (a checkpoint without the writes pushed with it).
   * A cursor this server did not issue to this user starts from the beginning, saying so.
   */
  pull(userId: string, options: PullOptions): Promise<PullPage> {
    // The user's row exists before the snapshot is taken, so a new user reads a consistent empty page.
    return this.#asUser(userId, () => this.#pull(userId, options));
  }

  #pull(userId: string, options: PullOptions): Promise<PullPage> {
    return inTransaction(
      this.pool,
      async (client) => {
        const { epoch, head } = await this.#user(client, userId);
        const parsed = options.cursor === null ? undefined : CURSOR.exec(options.cursor);
        const known = parsed !== undefined && parsed !== null && parsed[1] === epoch && Number(parsed[2]) <= head;
        const after = known ? Number(parsed[2]) : 0;
        const rows = await this.#changes(client, userId, { ...options, after, through: undefined });
        const changes: ChangeRow[] = [];
        let bytes = 0;
        for (const row of rows) {
          if (changes.length > 0 && bytes + row.body.length > options.maxBytes) break;
          changes.push(row);
          bytes += row.body.length;
        }
        const more = changes.length < rows.length || rows.length === options.limit;
        let last = Number(changes.at(-1)?.seq ?? after);
        const open = more ? changes.at(-1)?.commitEnd : undefined;
        if (open !== undefined && open > last) {
          const firstOfCommit = changes.findIndex((row) => row.commitEnd === open);
          if (firstOfCommit > 0) {
            // The page ends inside a commit that began in it: it ends before that commit.
            changes.length = firstOfCommit;
            last = Number(changes.at(-1)!.seq);
          } else {
            // The commit is all the page holds: the page takes the rest of it.
            changes.push(...(await this.#changes(client, userId, { ...options, after: last, through: open })));
            last = open;
          }
        }
        return { changes: changes.map((row) => row.body), cursor: `${epoch}.${more ? last : head}`, more, resync: options.cursor !== null && !known };
      },
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
    );
  }

  /** The user's records and tombstones (of threads and checkpoints) numbered after `after`: at most `limit`, or all of them up to `through`. */
  async #changes(
    client: PoolClient,
    userId: string,
    options: { after: number; through: number | undefined; limit: number; threads?: string[]; clientId?: string },
  ): Promise<ChangeRow[]> {
    const threadFilter = 'AND ($4::text[] IS NULL OR thread_id = ANY($4::text[]))';
    // Either the first `limit` ($3) changes, or every change numbered up to `through` ($3).
    const upTo = (column: string) => (options.through === undefined ? '' : `AND ${column} <= $3`);
    const limit = options.through === undefined ? 'LIMIT $3' : '';
    const { rows } = await client.query<{ seq: string; body: string | null; thread_id: string; commit_end: string | null; checkpoint_ns: string | null; checkpoint_id: string | null }>(
      `(SELECT seq, body, thread_id, commit_end, NULL AS checkpoint_ns, NULL AS checkpoint_id FROM ${this.tables.records}
         WHERE owner = $1 AND seq > $2 ${upTo('seq')} ${threadFilter} AND ($5::text IS NULL OR origin IS DISTINCT FROM $5)
         ORDER BY seq ${limit})
       UNION ALL
       (SELECT deleted_seq, NULL, thread_id, NULL, NULL, NULL FROM ${this.tables.threads}
         WHERE owner = $1 AND deleted_seq > $2 ${upTo('deleted_seq')} ${threadFilter}
         ORDER BY deleted_seq ${limit})
       UNION ALL
       (SELECT seq, NULL, thread_id, NULL, checkpoint_ns, checkpoint_id FROM ${this.tables.pruned}
         WHERE owner = $1 AND seq > $2 ${upTo('seq')} ${threadFilter} AND ($5::text IS NULL OR origin IS DISTINCT FROM $5)
         ORDER BY seq ${limit})
       ORDER BY 1 ${limit}`,
      [userId, options.after, options.through ?? options.limit, options.threads ?? null, options.clientId ?? null],
    );
    return rows.map((row) => ({
      seq: row.seq,
      body:
        row.body ??
        JSON.stringify(
          (row.checkpoint_id === null
            ? { kind: 'delete', thread_id: row.thread_id }
            : { kind: 'prune', thread_id: row.thread_id, checkpoint_ns: row.checkpoint_ns!, checkpoint_id: row.checkpoint_id }) satisfies WireRecord,
        ),
      commitEnd: row.commit_end === null ? undefined : Number(row.commit_end),
    }));
  }
}

/** A change as a pull reads it: its number, its body, and the end of the commit that stored it (a record's). */
interface ChangeRow {
  seq: string;
  body: string;
  commitEnd: number | undefined;
}

class ForeignThreads extends Error {
  constructor(readonly threadIds: string[]) {
    super('Some threads belong to another user.');
  }
}
