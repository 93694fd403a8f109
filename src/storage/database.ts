import { deleteDB, openDB, type IDBPDatabase } from 'idb';
import { CheckpointError, storageError } from '../errors.js';
import { STORE_NAMES, type JunctureSchema } from './records.js';
import { SCHEMA_VERSION, UPGRADE_STEPS } from './schema.js';

export type JunctureDatabase = IDBPDatabase<JunctureSchema>;

function requireIndexedDB(): IDBFactory {
  const factory = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!factory) {
    throw new CheckpointError(
      'UNAVAILABLE',
      'IndexedDB is not available in this context. BrowserSaver needs a window or worker with `indexedDB` ' +
        '(in Node tests, load `fake-indexeddb/auto` first).',
    );
  }
  return factory;
}

export interface OpenHandlers {
  /** Another connection (a newer version, a deletion) needs ours closed. */
  onVersionChange(): void;
  /** The browser closed the connection abnormally. */
  onTerminated(): void;
}

/** Opens (creating or upgrading) the database and checks that it has our stores. */
export async function openDatabase(name: string, handlers: OpenHandlers): Promise<JunctureDatabase> {
  requireIndexedDB();
  let db: JunctureDatabase;
  let upgradeFailure: unknown;
  try {
    db = await openDB<JunctureSchema>(name, SCHEMA_VERSION, {
      upgrade(database, oldVersion, newVersion, transaction) {
        try {
          for (let step = oldVersion; step < (newVersion ?? SCHEMA_VERSION); step += 1) {
            UPGRADE_STEPS[step]!(database, transaction);
          }
        } catch (error) {
          upgradeFailure = error;
          throw error;
        }
      },
      blocking() {
        handlers.onVersionChange();
      },
      terminated() {
        handlers.onTerminated();
      },
    });
  } catch (error) {
    if ((error as { name?: string }).name === 'VersionError') {
      throw new CheckpointError(
        'MIGRATION',
        `IndexedDB database "${name}" has a newer schema than this version of juncture-browser reads ` +
          `(schema ${SCHEMA_VERSION}); update juncture-browser or use another dbName.`,
        { cause: error },
      );
    }
    if (upgradeFailure !== undefined) {
      throw new CheckpointError(
        'MIGRATION',
        `Upgrading IndexedDB database "${name}" to schema ${SCHEMA_VERSION} failed; it keeps its old version. ` +
          `Cause: ${String(upgradeFailure)}`,
        { cause: upgradeFailure },
      );
    }
    throw storageError(`Opening IndexedDB database "${name}"`, error);
  }
  const missing = STORE_NAMES.filter((store) => !db.objectStoreNames.contains(store));
  if (missing.length > 0) {
    db.close();
    throw new CheckpointError(
      'MIGRATION',
      `IndexedDB database "${name}" exists at version ${db.version} but lacks the stores ${missing.join(', ')}: ` +
        'it was created by something else. Pass another dbName.',
    );
  }
  return db;
}

/** Deletes the whole database; open savers on it close their connection when asked. */
export async function deleteDatabase(name: string): Promise<void> {
  requireIndexedDB();
  try {
    await deleteDB(name);
  } catch (error) {
    throw storageError(`Deleting IndexedDB database "${name}"`, error);
  }
}
