/**
 * Sync's own tables, beside the saver's: who owns each thread, the records as pushed (what pulls return, and what
 * lists are resolved against), the checkpoints pruned everywhere, and per user the sequence that orders changes for
 * pulls.
 */
import type { Pool } from 'pg';
import { CheckpointError } from '../errors.js';

export interface TableNames {
  users: string;
  threads: string;
  records: string;
  /** Checkpoints pruned everywhere: tombstones that pulls return and that drop later pushes of them. */
  pruned: string;
  migrations: string;
  /** The LISTEN/NOTIFY channel that tells live streams a user's changes moved on. */
  channel: string;
}

export function tableNames(schema: string): TableNames {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,40}$/.test(schema)) {
    throw new CheckpointError('INVALID_CONFIG', `schema must be a plain SQL identifier (letters, digits, _), got ${JSON.stringify(schema)}.`);
  }
  const table = (name: string) => `"${schema}"."juncture_sync_${name}"`;
  return {
    users: table('users'),
    threads: table('threads'),
    records: table('records'),
    pruned: table('pruned'),
    migrations: table('migrations'),
    channel: `juncture_sync_${schema}`.toLowerCase(),
  };
}

/** Step `i` takes the tables from version `i` to `i + 1`; steps never change once released. */
function migrations(t: TableNames): string[] {
  return [
    `CREATE TABLE ${t.users} (
       user_id text PRIMARY KEY,
       -- Cursors carry it: a cursor of another user, or of a database that was reset, is recognised as foreign.
       epoch text NOT NULL,
       -- The last sequence number handed out to this user's changes. Writers lock this row until they commit.
       head bigint NOT NULL DEFAULT 0
     );
     CREATE TABLE ${t.threads} (
       thread_id text PRIMARY KEY,
       owner text NOT NULL,
       -- Set by deleteThread: the sequence number of the tombstone. A deleted thread never takes records again.
       deleted_seq bigint
     );
     CREATE INDEX juncture_sync_tombstones ON ${t.threads} (owner, deleted_seq) WHERE deleted_seq IS NOT NULL;
     CREATE TABLE ${t.records} (
       thread_id text NOT NULL,
       checkpoint_ns text NOT NULL,
       kind text NOT NULL CHECK (kind IN ('checkpoint', 'blob', 'write')),
       record_key text NOT NULL,
       owner text NOT NULL,
       seq bigint NOT NULL,
       -- The clientId of the push that stored it; null for the server's own writes.
       origin text,
       -- The record in the wire format, as the server wrote it after checking it.
       body text NOT NULL,
       PRIMARY KEY (thread_id, checkpoint_ns, kind, record_key)
     );
     CREATE INDEX juncture_sync_records_by_seq ON ${t.records} (owner, seq);`,
    // The user's head after the commit that stored the row: the rows numbered up to it came in the same commit,
    // which a pull page never splits. Null for rows stored before this step.
    `ALTER TABLE ${t.records} ADD COLUMN commit_end bigint;`,
    `CREATE TABLE ${t.pruned} (
       thread_id text NOT NULL,
       checkpoint_ns text NOT NULL,
       checkpoint_id text NOT NULL,
       owner text NOT NULL,
       -- The tombstone's place among the user's changes.
       seq bigint NOT NULL,
       -- The clientId of the push that pruned it, whose pulls skip it; null for the server's own.
       origin text,
       PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
     );
     CREATE INDEX juncture_sync_pruned_by_seq ON ${t.pruned} (owner, seq);`,
  ];
}

/**
 * Creates or upgrades the tables in `schema` (default `public`). Safe to call on every start, from several
 * processes at once: an advisory lock makes them take turns.
 */
export async function setupSyncTables(pool: Pool, schema = 'public'): Promise<void> {
  const t = tableNames(schema);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [t.migrations]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${t.migrations} (v integer PRIMARY KEY)`);
    const { rows } = await client.query<{ v: number | null }>(`SELECT max(v) AS v FROM ${t.migrations}`);
    const steps = migrations(t);
    for (let v = (rows[0]?.v ?? -1) + 1; v < steps.length; v += 1) {
      await client.query(steps[v]!);
      await client.query(`INSERT INTO ${t.migrations} (v) VALUES ($1)`, [v]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}
