/**
 * The database behind the demo's sync endpoint: PostgreSQL when a URL is given, otherwise PGlite (PostgreSQL
 * compiled to WebAssembly, running in this process) with its files in a folder, so that the demo needs no install
 * and keeps its data across restarts. Both are reached through a node-postgres pool, as the sync server expects.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import { CheckpointError } from '../../src/errors.js';
import type { ListenConnection, ListenPool } from '../../src/server/index.js';

export interface SyncDatabase {
  pool: pg.Pool;
  /** Where the live streams' LISTEN connection comes from, when not from `pool` (the handler's `listenPool`). */
  listenPool?: ListenPool;
  /** What it is and where, for the server's log. */
  description: string;
  /** Ends the pool (release checked-out connections first) and, for PGlite, closes its files. */
  close(): Promise<void>;
}

export interface SyncDatabaseOptions {
  /** A PostgreSQL connection string; without it, PGlite in `dataDir`. */
  databaseUrl?: string | undefined;
  /** The folder of the embedded database (`pgdata/`, and `server.pid` while a server has it open); created when missing. */
  dataDir: string;
}

/** The wire server accepts more than the one connection the pool keeps open, for a reconnect while the old one closes. */
const EMBEDDED_MAX_CONNECTIONS = 4;
const POSTGRES_PORT = 5432;

export async function openSyncDatabase(options: SyncDatabaseOptions): Promise<SyncDatabase> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl });
    // Host, port and database only: the URL may hold a password.
    const { hostname, port, pathname } = new URL(options.databaseUrl);
    return { pool, description: `PostgreSQL at ${hostname || 'localhost'}:${port || POSTGRES_PORT}${pathname}`, close: () => pool.end() };
  }
  mkdirSync(options.dataDir, { recursive: true });
  const unlock = lockDataDir(options.dataDir);
  let db: PGlite;
  try {
    db = await PGlite.create({ dataDir: join(options.dataDir, 'pgdata') });
  } catch (error) {
    unlock();
    throw error;
  }
  // PGlite's PostgreSQL wire server, on a Unix socket in a private folder: node-postgres connects to it as to
  // PostgreSQL, and nothing else on the network can.
  const socketDir = mkdtempSync(join(tmpdir(), 'juncture-pglite-'));
  const wire = new PGLiteSocketServer({ db, path: join(socketDir, `.s.PGSQL.${POSTGRES_PORT}`), maxConnections: EMBEDDED_MAX_CONNECTIONS });
  try {
    await wire.start();
  } catch (error) {
    await db.close();
    rmSync(socketDir, { recursive: true, force: true });
    unlock();
    throw error;
  }
  // One connection. Every connection shares PGlite's one backend, and the wire server keeps together the messages
  // of an explicit transaction but not the several messages (Parse, Bind, Execute, Sync) of one parameterized
  // statement outside a transaction: a statement of another connection landing between them replaces or drops the
  // backend's unnamed prepared statement, and both fail. With one connection, statements take turns in the pool.
  // Nothing here needs two at once: the handler, PostgresSaver and sync's tables hold one connection at a time.
  // Kept open while the server runs (no idle timeout): nothing is gained by closing it.
  const pool = new pg.Pool({ host: socketDir, port: POSTGRES_PORT, user: 'postgres', database: 'postgres', max: 1, idleTimeoutMillis: 0 });
  return {
    pool,
    listenPool: new SharedBackendListener(pool),
    description: `PGlite (embedded) in ${options.dataDir}`,
    close: async () => {
      try {
        await pool.end();
        await wire.stop();
        await db.close();
      } finally {
        rmSync(socketDir, { recursive: true, force: true });
        unlock();
      }
    },
  };
}

const lockedHere = new Set<string>();

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One server at a time on a PGlite folder: PGlite has no lock of its own, and two processes on one folder each
 * keep their own copy and overwrite each other's commits. A lock left by a killed process is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const lockFile = join(dataDir, 'server.pid');
  if (lockedHere.has(lockFile)) throw new CheckpointError('INVALID_CONFIG', `The sync database in ${dataDir} is already open in this process.`);
  for (;;) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      lockedHere.add(lockFile);
      return () => {
        lockedHere.delete(lockFile);
        rmSync(lockFile, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lockFile, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isRunning(holder)) {
        throw new CheckpointError(
          'INVALID_CONFIG',
          `The sync database in ${dataDir} is open in process ${holder}: stop that server, or give this one another folder (JUNCTURE_DEMO_DATA_DIR).`,
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
}

/**
 * The live streams' LISTEN connection on PGlite, which is no connection of its own: PGlite is one backend, so a
 * LISTEN from any connection makes the backend listen, and a NOTIFY is delivered to the connection whose
 * transaction sent it, not to the one that ran LISTEN. So its LISTEN and UNLISTEN run on the pool's one connection,
 * in turn with every other statement (from a second connection they could land inside one of that connection's
 * statements), and it hears every notification that connection receives: as on PostgreSQL, every commit.
 */
class SharedBackendListener extends EventEmitter implements ListenPool, ListenConnection {
  constructor(readonly pool: pg.Pool) {
    super();
    pool.on('connect', (client) => client.on('notification', (message) => this.emit('notification', message)));
  }

  async connect(): Promise<ListenConnection> {
    return this;
  }

  query(text: string): Promise<pg.QueryResult> {
    return this.pool.query(text);
  }

  /** Holds no connection of its own: nothing to give back. */
  release(): void {}
}
