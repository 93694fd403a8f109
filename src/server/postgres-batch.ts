/**
 * A push written into PostgresSaver's tables with one multi-row statement per table, in one transaction, instead
 * of a `put` or `putWrites` per checkpoint (each a transaction of several round trips and a commit). The rows are
 * the ones PostgresSaver's own calls write, in the layout of `@langchain/langgraph-checkpoint-postgres` 1.0 (read
 * from its migrations table); a saver of another kind, or a layout this does not know, keeps the per-call path.
 */
import { WRITES_IDX_MAP, type BaseCheckpointSaver, type SerializerProtocol } from '@langchain/langgraph-checkpoint';
import type { Pool, PoolClient } from 'pg';
import type { SaverOps } from './saver-ops.js';
import { inTransaction } from './transaction.js';

/** The newest migration of PostgresSaver's tables whose layout these statements write (1.0.x has 0 to 4). */
export const KNOWN_POSTGRES_SAVER_MIGRATION = 4;

/** The parts of a PostgresSaver this reads: its pool and the schema of its tables (fields of its 1.0 class). */
interface PostgresSaverParts {
  pool: Pool;
  options: { schema: string };
}

/** The rows of one push, serialized as PostgresSaver serializes them, in the columns of its tables. */
export interface SaverRows {
  blobs: { thread_id: string[]; checkpoint_ns: string[]; channel: string[]; version: string[]; type: string[]; blob: Uint8Array[] };
  checkpoints: { thread_id: string[]; checkpoint_ns: string[]; checkpoint_id: string[]; parent_checkpoint_id: (string | null)[]; checkpoint: string[]; metadata: string[] };
  /** Writes of calls whose every write goes to a special channel, which PostgresSaver upserts; the others it inserts once. */
  replacingWrites: WriteColumns;
  writes: WriteColumns;
}

interface WriteColumns {
  thread_id: string[];
  checkpoint_ns: string[];
  checkpoint_id: string[];
  task_id: string[];
  idx: number[];
  channel: string[];
  type: string[];
  blob: Uint8Array[];
}

export interface PostgresBatch {
  /**
   * True when the saver uses sync's own pool, so its rows and sync's tables commit in one transaction. With a pool
   * of its own, the saver's rows commit first, in a transaction of theirs, as the per-call path writes them.
   */
  readonly sharesPool: boolean;
  /** Serializes what a push gives the saver; done before any transaction opens. */
  rows(ops: SaverOps): Promise<SaverRows>;
  /** Writes the rows in the caller's transaction (on sync's pool, which is the saver's). */
  insert(client: PoolClient, rows: SaverRows): Promise<void>;
  /** Writes the rows in a transaction of their own on the saver's pool. */
  commit(rows: SaverRows): Promise<void>;
}

export type PostgresBatchCheck =
  | { batch: PostgresBatch; reason?: undefined; setUp?: undefined }
  /** `setUp` false: the saver's tables are not there yet (its setup() has not run), so a later check may find them. */
  | { batch: undefined; reason?: string; setUp?: boolean };

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The saver's pool and schema when it is PostgresSaver itself (not a subclass, no call replaced on the instance). */
function postgresSaverParts(saver: BaseCheckpointSaver): PostgresSaverParts | undefined {
  if (Object.getPrototypeOf(saver)?.constructor?.name !== 'PostgresSaver') return undefined;
  if (Object.hasOwn(saver, 'put') || Object.hasOwn(saver, 'putWrites')) return undefined;
  const parts = saver as unknown as Partial<PostgresSaverParts>;
  if (typeof parts.pool?.connect !== 'function' || typeof parts.options?.schema !== 'string') return undefined;
  return parts as PostgresSaverParts;
}

/**
 * A batch writer for `saver` when it is a PostgresSaver whose tables are at the known migration. Otherwise no
 * batch, with the reason when it is a PostgresSaver that cannot be written so (a reason worth logging).
 */
export async function postgresBatchOf(saver: BaseCheckpointSaver, syncPool: Pool): Promise<PostgresBatchCheck> {
  const parts = postgresSaverParts(saver);
  if (!parts) return { batch: undefined };
  const schema = quoteIdentifier(parts.options.schema);
  let migration: number | null;
  try {
    const { rows } = await parts.pool.query<{ v: number | null }>(`SELECT max(v) AS v FROM ${schema}.checkpoint_migrations`);
    migration = rows[0]?.v ?? null;
  } catch (error) {
    // 42P01: no migrations table, so the saver's setup() has not run.
    if ((error as { code?: unknown }).code !== '42P01') throw error;
    migration = null;
  }
  if (migration !== KNOWN_POSTGRES_SAVER_MIGRATION) {
    return {
      batch: undefined,
      setUp: migration !== null,
      reason:
        `PostgresSaver's tables in schema ${schema} are at migration ${migration ?? 'none'}, and pushes are written in batches only into ` +
        `its layout at migration ${KNOWN_POSTGRES_SAVER_MIGRATION} (@langchain/langgraph-checkpoint-postgres 1.0); pushes call its put and putWrites one by one instead.`,
    };
  }
  return { batch: new PostgresSaverBatch(saver.serde, parts.pool, schema, parts.pool === syncPool) };
}

/** PostgresSaver's `_dumpMetadata`: the serializer's JSON without NUL characters, which JSONB cannot hold. */
async function metadataJson(serde: SerializerProtocol, metadata: unknown): Promise<string> {
  const [, bytes] = await serde.dumpsTyped(metadata);
  return JSON.stringify(JSON.parse(new TextDecoder().decode(bytes).replace(/\0/g, '')));
}

function emptyWrites(): WriteColumns {
  return { thread_id: [], checkpoint_ns: [], checkpoint_id: [], task_id: [], idx: [], channel: [], type: [], blob: [] };
}

/**
 * Rows in one order for every batch (by key), so that two batches that meet on a key lock rows in the same order
 * and cannot deadlock. `keep` says which of two rows with one key stays: PostgresSaver's sequential calls keep the
 * first on `DO NOTHING` and the last on `DO UPDATE`, and one statement may not update a row twice.
 */
function byKey<T>(rows: T[], keyOf: (row: T) => string, keep: 'first' | 'last'): T[] {
  const kept = new Map<string, T>();
  for (const row of rows) {
    const key = keyOf(row);
    if (keep === 'last' || !kept.has(key)) kept.set(key, row);
  }
  return [...kept.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}

class PostgresSaverBatch implements PostgresBatch {
  readonly #serde: SerializerProtocol;
  readonly #pool: Pool;
  readonly #schema: string;

  constructor(
    serde: SerializerProtocol,
    pool: Pool,
    schema: string,
    readonly sharesPool: boolean,
  ) {
    this.#serde = serde;
    this.#pool = pool;
    this.#schema = schema;
  }

  async rows(ops: SaverOps): Promise<SaverRows> {
    const serde = this.#serde;
    const blobs = await Promise.all(
      ops.puts.flatMap(({ record, newVersions, values }) =>
        Object.entries(newVersions).map(async ([channel, version]) => {
          // Every new version comes with its value (a push brings no version without one).
          const [type, bytes] = await values[channel]!.serialized();
          return { thread_id: record.thread_id, checkpoint_ns: record.checkpoint_ns, channel, version: version.toString(), type, blob: bytes };
        }),
      ),
    );
    const checkpoints = await Promise.all(
      ops.puts.map(async ({ record, checkpoint, metadata }) => {
        return {
          thread_id: record.thread_id,
          checkpoint_ns: record.checkpoint_ns,
          checkpoint_id: checkpoint.id,
          parent_checkpoint_id: record.parent_checkpoint_id ?? null,
          checkpoint: JSON.stringify(checkpoint),
          metadata: await metadataJson(serde, metadata),
        };
      }),
    );
    const writes = await Promise.all(
      ops.writes.map(async ({ first, writes: pending }) => {
        const replacing = pending.every(([channel]) => channel in WRITES_IDX_MAP);
        const rows = await Promise.all(
          pending.map(async ([channel, value], position) => {
            const [type, bytes] = await serde.dumpsTyped(value);
            return {
              thread_id: first.thread_id,
              checkpoint_ns: first.checkpoint_ns,
              checkpoint_id: first.checkpoint_id,
              task_id: first.task_id,
              idx: WRITES_IDX_MAP[channel] ?? position,
              channel,
              type,
              blob: bytes,
            };
          }),
        );
        return { replacing, rows };
      }),
    );
    type WriteRow = (typeof writes)[number]['rows'][number];
    const writeKey = (row: WriteRow) => JSON.stringify([row.thread_id, row.checkpoint_ns, row.checkpoint_id, row.task_id, row.idx]);
    const writeColumns = (rows: WriteRow[]) => columns(rows, emptyWrites());
    return {
      blobs: columns(
        byKey(blobs, (row) => JSON.stringify([row.thread_id, row.checkpoint_ns, row.channel, row.version]), 'first'),
        { thread_id: [], checkpoint_ns: [], channel: [], version: [], type: [], blob: [] },
      ),
      checkpoints: columns(
        byKey(checkpoints, (row) => JSON.stringify([row.thread_id, row.checkpoint_ns, row.checkpoint_id]), 'last'),
        { thread_id: [], checkpoint_ns: [], checkpoint_id: [], parent_checkpoint_id: [], checkpoint: [], metadata: [] },
      ),
      replacingWrites: writeColumns(byKey(writes.filter((call) => call.replacing).flatMap((call) => call.rows), writeKey, 'last')),
      writes: writeColumns(byKey(writes.filter((call) => !call.replacing).flatMap((call) => call.rows), writeKey, 'first')),
    };
  }

  async insert(client: PoolClient, rows: SaverRows): Promise<void> {
    const s = this.#schema;
    const { blobs, checkpoints, replacingWrites, writes } = rows;
    // Values first, then checkpoints, then writes: the order of PostgresSaver's calls, and one lock order for all.
    if (blobs.thread_id.length > 0) {
      const blob = packedBytes(blobs.blob);
      await client.query(
        `INSERT INTO ${s}.checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
         SELECT thread_id, checkpoint_ns, channel, version, type, ${packedSlice(8)}
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::integer[])
           AS b(thread_id, checkpoint_ns, channel, version, type, byte_start, byte_length)
         ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO NOTHING`,
        [blobs.thread_id, blobs.checkpoint_ns, blobs.channel, blobs.version, blobs.type, blob.starts, blob.lengths, blob.bytes],
      );
    }
    if (checkpoints.thread_id.length > 0) {
      await client.query(
        `INSERT INTO ${s}.checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata)
         SELECT thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint::jsonb, metadata::jsonb
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
           AS c(thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata)
         ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, metadata = EXCLUDED.metadata`,
        [checkpoints.thread_id, checkpoints.checkpoint_ns, checkpoints.checkpoint_id, checkpoints.parent_checkpoint_id, checkpoints.checkpoint, checkpoints.metadata],
      );
    }
    for (const [columns, onConflict] of [
      [writes, 'DO NOTHING'],
      [replacingWrites, 'DO UPDATE SET channel = EXCLUDED.channel, type = EXCLUDED.type, blob = EXCLUDED.blob'],
    ] as const) {
      if (columns.thread_id.length === 0) continue;
      const blob = packedBytes(columns.blob);
      await client.query(
        `INSERT INTO ${s}.checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob)
         SELECT thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, ${packedSlice(10)}
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::text[], $7::text[], $8::integer[], $9::integer[])
           AS w(thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, byte_start, byte_length)
         ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) ${onConflict}`,
        [columns.thread_id, columns.checkpoint_ns, columns.checkpoint_id, columns.task_id, columns.idx, columns.channel, columns.type, blob.starts, blob.lengths, blob.bytes],
      );
    }
  }

  commit(rows: SaverRows): Promise<void> {
    return inTransaction(this.#pool, (client) => this.insert(client, rows));
  }
}

/**
 * A column of byte strings as one parameter, which node-postgres sends as binary, with where each one starts and
 * how long it is. An array of bytea goes as text, two hex digits a byte, which PostgreSQL then parses: for the
 * values of a long conversation, megabytes of them.
 */
function packedBytes(values: Uint8Array[]): { bytes: Buffer; starts: number[]; lengths: number[] } {
  const starts: number[] = [];
  const lengths: number[] = [];
  let size = 0;
  for (const value of values) {
    starts.push(size);
    lengths.push(value.byteLength);
    size += value.byteLength;
  }
  const bytes = Buffer.allocUnsafe(size);
  values.forEach((value, i) => bytes.set(value, starts[i]));
  return { bytes, starts, lengths };
}

/** The byte string of a row in a packed column: the row's `byte_start` and `byte_length` in parameter `bytes`. */
function packedSlice(bytes: number): string {
  return `substring($${bytes}::bytea FROM byte_start + 1 FOR byte_length)`;
}

/** Rows as columns, one array per field, as `unnest` takes them. */
function columns<T extends object, C extends { [K in keyof T]: T[K][] }>(rows: T[], into: C): C {
  for (const row of rows) {
    for (const key of Object.keys(into) as (keyof T & keyof C)[]) (into[key] as unknown[]).push(row[key]);
  }
  return into;
}

/** A checkpoint of a thread, as PostgresSaver's tables key it. */
export interface SaverCheckpoint {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
}

/**
 * Deletes checkpoints from a PostgresSaver's tables (pruned everywhere), with their writes and the values no
 * checkpoint left in their namespace names, in one transaction; again is harmless. Resolves with false, deleting
 * nothing, when `saver` is not a PostgresSaver: LangGraph's saver interface deletes only whole threads.
 */
export async function deleteSaverCheckpoints(saver: BaseCheckpointSaver, checkpoints: SaverCheckpoint[]): Promise<boolean> {
  const parts = postgresSaverParts(saver);
  if (!parts || checkpoints.length === 0) return parts !== undefined;
  const schema = quoteIdentifier(parts.options.schema);
  const named = [checkpoints.map((c) => c.thread_id), checkpoints.map((c) => c.checkpoint_ns), checkpoints.map((c) => c.checkpoint_id)];
  await inTransaction(parts.pool, async (client) => {
    for (const table of ['checkpoint_writes', 'checkpoints']) {
      await client.query(
        `DELETE FROM ${schema}.${table} t USING unnest($1::text[], $2::text[], $3::text[]) AS p(thread_id, checkpoint_ns, checkpoint_id)
         WHERE (t.thread_id, t.checkpoint_ns, t.checkpoint_id) = (p.thread_id, p.checkpoint_ns, p.checkpoint_id)`,
        named,
      );
    }
    // A value is read by the checkpoints whose channel_versions name it (see PostgresSaver's SELECT_SQL).
    await client.query(
      `DELETE FROM ${schema}.checkpoint_blobs b
       WHERE (b.thread_id, b.checkpoint_ns) IN (SELECT * FROM unnest($1::text[], $2::text[]))
         AND NOT EXISTS (
           SELECT 1 FROM ${schema}.checkpoints c
           WHERE c.thread_id = b.thread_id AND c.checkpoint_ns = b.checkpoint_ns AND c.checkpoint -> 'channel_versions' ->> b.channel = b.version
         )`,
      named.slice(0, 2),
    );
  });
  return true;
}
