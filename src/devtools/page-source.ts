import { CheckpointError } from '../errors.js';
import type { TypedBytes } from '../storage/records.js';
import type { CheckpointDataSource } from './data-source.js';
import type { InspectableSaver, InspectableStore } from './hook.js';
import { readCheckpoint, readDatabaseNames, readHistory, readThreadExport, readThreads, searchThread } from './reader.js';
import { readStoreDatabaseNames, readStoreItems, readStoreNamespaces } from './store-reader.js';
import { describeGraph, forkAt, resumeAt, type TimeTravelGraph } from './time-travel.js';

export interface InspectedSaver {
  saver: InspectableSaver;
  /** The graph that uses the saver: drawn in the graph view, and used for time travel. */
  graph?: TimeTravelGraph;
}

/**
 * The panel's data source inside the page itself, over the page's own savers (for the in-page panel, with no
 * extension): the same read-only reader the extension uses, fed live by the savers' and stores' notifications.
 */
export function createPageDataSource(inspected: InspectedSaver[], stores: InspectableStore[] = []): CheckpointDataSource {
  const byName = new Map(inspected.map((entry) => [entry.saver.dbName, entry]));
  // Values of an encrypting saver are opened here, in the page that holds its key.
  const openerOf = (dbName: string) => {
    const saver = byName.get(dbName)?.saver;
    return saver?.encrypted && saver.decryptStored ? (typed: TypedBytes) => saver.decryptStored!(typed) : undefined;
  };
  const graphOf = (dbName: string) => {
    const graph = byName.get(dbName)?.graph;
    if (!graph) throw new CheckpointError('INVALID_CONFIG', `No graph was given for database "${dbName}": time travel is off.`);
    return graph;
  };
  return {
    databases: async () =>
      (await readDatabaseNames(byName.keys()))
        .filter((name) => byName.has(name))
        .map((name) => ({ name, live: true, timeTravel: byName.get(name)?.graph !== undefined })),
    threads: (dbName) => readThreads(dbName, openerOf(dbName)),
    history: (dbName, query) => readHistory(dbName, query, openerOf(dbName)),
    checkpoint: (dbName, key) => readCheckpoint(dbName, key, openerOf(dbName)),
    search: (dbName, thread_id, text) => searchThread(dbName, thread_id, text, openerOf(dbName)),
    exportThread: (dbName, thread_id) => readThreadExport(dbName, thread_id, openerOf(dbName)),
    fork: async (dbName, key, values) => forkAt(graphOf(dbName), key, values),
    resume: async (dbName, key, breakpoints) => resumeAt(graphOf(dbName), key, breakpoints),
    graph: async (dbName) => {
      const graph = byName.get(dbName)?.graph;
      return graph ? describeGraph(graph) : null;
    },
    storeDatabases: async () => {
      const names = new Set(stores.map((store) => store.dbName));
      return (await readStoreDatabaseNames(names)).filter((name) => names.has(name));
    },
    storeNamespaces: (dbName) => readStoreNamespaces(dbName),
    storeItems: (dbName, query) => readStoreItems(dbName, query),
    subscribe(listener) {
      const unsubscribes = [...inspected.map(({ saver }) => saver), ...stores].map((watched) => watched.subscribe(() => listener(watched.dbName)));
      return () => unsubscribes.forEach((unsubscribe) => unsubscribe());
    },
  };
}
