/**
 * The database behind the demo's sync endpoint: PostgreSQL when a URL is given, otherwise PGlite (PostgreSQL
 * compiled to WebAssembly, running in this process) with its files in a folder, so that the demo needs no install
 * and keeps its data across restarts. Both are reached through a node-postgres pool, as the sync server expects.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';

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
  /** PGlite's folder, created when missing. */
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
    const { host, port, pathname } = new URL(options.databaseUrl);
    return { pool, description: `PostgreSQL at ${host || 'localhost'}:${port || POSTGRES_PORT}${pathname}`, close: () => pool.end() };
  }
  mkdirSync(options.dataDir, { recursive: true });
  const db = await PGlite.create({ dataDir: options.dataDir });
  // PGlite's PostgreSQL wire server, on a Unix socket in a private folder: node-postgres connects to it as to
  // PostgreSQL, and nothing else on the network can. Several connections share the one PGlite backend; the server
  // runs their statements one at a time and keeps a transaction's statements together.
  const socketDir = mkdtempSync(join(tmpdir(), 'juncture-pglite-'));
  const wire = new PGLiteSocketServer({ db, path: join(socketDir, `.s.PGSQL.${POSTGRES_PORT}`), maxConnections: EMBEDDED_MAX_CONNECTIONS });
  try {
    await wire.start();
  } catch (error) {
    await db.close();
    rmSync(socketDir, { recursive: true, force: true });
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
      }
    },
  };
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
