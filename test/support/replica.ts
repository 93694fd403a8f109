// A device's database and its side of sync, for tests of pushes and pulls against a scripted server.
import { IndexedDBCheckpointStorage } from '../../src/storage/checkpoint-store.js';
import type { Replica } from '../../src/sync/replication.js';
import type { StoredValues } from '../../src/sync/stored-values.js';
import type { SyncTransport } from '../../src/sync/transport.js';
import { freshDbName } from './fixtures.js';

/**
 * Opens databases with their change journal on, named after `prefix`; each is closed and deleted after its test.
 * Call it at the top of a test file.
 */
export function journaledDatabases(prefix: string): () => Promise<IndexedDBCheckpointStorage> {
  const opened: IndexedDBCheckpointStorage[] = [];
  afterEach(async () => {
    for (const storage of opened.splice(0)) {
      await storage.close();
      await IndexedDBCheckpointStorage.deleteDatabase(storage.dbName);
    }
  });
  return async () => {
    const storage = new IndexedDBCheckpointStorage({ dbName: freshDbName(prefix), durability: 'relaxed' });
    opened.push(storage);
    await storage.enableJournal();
    return storage;
  };
}

/** The database as a device that syncs every thread, in clear, through `transport`. */
export function replicaOf(storage: IndexedDBCheckpointStorage, transport: { post(endpoint: string, body: unknown): Promise<unknown> }): Replica {
  const values: StoredValues = { inClear: async (journal) => journal, forStorage: async (records) => records };
  return {
    storage,
    transport: transport as unknown as SyncTransport,
    values,
    clientId: 'device',
    threads: 'all',
    signal: new AbortController().signal,
  };
}
