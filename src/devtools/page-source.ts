import type { CheckpointDataSource } from './data-source.js';
import type { InspectableSaver } from './hook.js';
import { readCheckpoint, readDatabaseNames, readHistory, readThreads } from './reader.js';

/**
 * The panel's data source inside the page itself, over the page's own savers (for the in-page panel, with no
 * extension): the same read-only reader the extension uses, fed live by the savers' notifications.
 */
export function createPageDataSource(savers: InspectableSaver[]): CheckpointDataSource {
  const names = new Set(savers.map((saver) => saver.dbName));
  return {
    databases: async () => (await readDatabaseNames(names)).filter((name) => names.has(name)).map((name) => ({ name, live: true })),
    threads: (dbName) => readThreads(dbName),
    history: (dbName, query) => readHistory(dbName, query),
    checkpoint: (dbName, key) => readCheckpoint(dbName, key),
    subscribe(listener) {
      const unsubscribes = savers.map((saver) => saver.subscribe(() => listener(saver.dbName)));
      return () => unsubscribes.forEach((unsubscribe) => unsubscribe());
    },
  };
}
