/**
 * The demo's sync endpoint, `/sync/push`, `/sync/pull` and `/sync/live`, served by `vite preview` beside the built
 * page (same origin). The database is PostgreSQL when JUNCTURE_DATABASE_URL is set, otherwise PGlite in
 * JUNCTURE_DEMO_DATA_DIR (default `demo/.sync-data`).
 */
import { fileURLToPath } from 'node:url';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import type { Plugin } from 'vite';
import { createSyncHandler, toNodeListener, type SyncCorsOptions, type SyncHandler } from '../../src/server/index.js';
import { openSyncDatabase, type SyncDatabaseOptions } from './sync-database.js';

/** Where the endpoint is mounted, under the page's origin. */
export const SYNC_PATH = '/sync';
/** The demo has no accounts: every request is this user's, so every browser on it sees the same threads. */
export const DEMO_USER = 'demo';
export const DEFAULT_DATA_DIR = fileURLToPath(new URL('../.sync-data', import.meta.url));

export interface DemoSync {
  handler: SyncHandler;
  description: string;
  close(): Promise<void>;
}

export interface DemoSyncOptions extends SyncDatabaseOptions {
  cors?: SyncCorsOptions;
  /** Hears the failures the endpoint answers with 500, and a pooled connection that broke while idle. Default: the server's log. */
  onError?: (error: unknown) => void;
}

/** Opens the database, sets up LangGraph's tables and sync's, and makes the handler (with `cors` for pages elsewhere). */
export async function startDemoSync(options: DemoSyncOptions): Promise<DemoSync> {
  const database = await openSyncDatabase(options);
  const report = options.onError ?? ((error: unknown) => console.error('[sync]', error));
  // A pooled connection that breaks while idle (the database restarted, an administrator ended it) is an 'error'
  // event on the pool, which would end the process unheard. The pool drops that connection and opens another
  // for the next query: the server only reports it.
  database.pool.on('error', report);
  try {
    const saver = new PostgresSaver(database.pool);
    await saver.setup();
    const handler = createSyncHandler({
      saver,
      pool: database.pool,
      ...(database.listenPool ? { listenPool: database.listenPool } : {}),
      authenticate: () => ({ userId: DEMO_USER }),
      onError: report,
      ...(options.cors ? { cors: options.cors } : {}),
    });
    await handler.setup();
    return {
      handler,
      description: database.description,
      close: async () => {
        await handler.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}

/** Mounts the endpoint in `vite preview`; the database closes with the server (Ctrl+C, SIGTERM). */
export function demoSyncPlugin(): Plugin {
  let sync: DemoSync | undefined;
  return {
    name: 'juncture-demo-sync',
    async configurePreviewServer(server) {
      const databaseUrl = process.env['JUNCTURE_DATABASE_URL'] || undefined;
      // PGlite's first start in a folder creates the database, which takes a few seconds.
      if (!databaseUrl) server.config.logger.info('  sync: opening the embedded database...');
      sync = await startDemoSync({ databaseUrl, dataDir: process.env['JUNCTURE_DEMO_DATA_DIR'] || DEFAULT_DATA_DIR });
      server.middlewares.use(SYNC_PATH, toNodeListener(sync.handler));
      server.config.logger.info(`  sync: ${SYNC_PATH}/ on ${sync.description}, every request as the user "${DEMO_USER}"`);
    },
    async closePreviewServer() {
      await sync?.close();
      sync = undefined;
    },
  };
}
