/**
 * The database behind the demo's sync endpoint: PostgreSQL when a URL is given, otherwise PGlite (PostgreSQL
 * compiled to WebAssembly, running in this process) with its files in a folder, so that the demo needs no install
 * and keeps its data across restarts. Both are reached through a node-postgres pool, as the sync server expects.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import { CheckpointError } from '../../src/errors.js';

export interface SyncDatabase {
  pool: pg.Pool;
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

/** PGlite's wire server answers one statement at a time; a few pooled connections are plenty. */
const EMBEDDED_POOL_SIZE = 4;
/** The pool's connections, the live streams' LISTEN connection, and room for reconnects. */
const EMBEDDED_MAX_CONNECTIONS = 16;
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
  // PostgreSQL, and nothing else on the network can. Several connections share the one PGlite backend; the server
  // runs their statements one at a time and keeps an explicit transaction's statements together, but not the
  // messages of one parameterized statement outside a transaction: two such at once can fail (README, known defect).
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
  const pool = new pg.Pool({ host: socketDir, port: POSTGRES_PORT, user: 'postgres', database: 'postgres', max: EMBEDDED_POOL_SIZE });
  shareNotifications(pool);
  return {
    pool,
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
 * PGlite is one backend shared by every connection, so a NOTIFY is delivered to the connection whose transaction
 * sent it, not to the one that ran LISTEN. Handing each notification to the pool's other connections gives what
 * PostgreSQL gives: the LISTEN connection hears every commit (the live streams depend on it).
 */
function shareNotifications(pool: pg.Pool): void {
  const clients = new Set<pg.PoolClient>();
  const handedOn = new WeakSet<pg.Notification>();
  pool.on('connect', (client) => {
    clients.add(client);
    client.on('notification', (message) => {
      if (handedOn.has(message)) return;
      handedOn.add(message);
      for (const other of clients) if (other !== client) other.emit('notification', message);
    });
  });
  pool.on('remove', (client) => clients.delete(client));
}
