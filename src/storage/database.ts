import { deleteDB, openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import { CheckpointError, storageError } from '../errors.js';
import { JOURNAL_STORE_NAMES, STORE_NAMES, type JunctureSchema } from './records.js';
import { UPGRADE_STEPS } from './schema.js';

export type JunctureDatabase = IDBPDatabase<JunctureSchema>;

function requireIndexedDB(): IDBFactory {
  const factory = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!factory) {
    throw new CheckpointError(
      'UNAVAILABLE',
      'IndexedDB is not available in this context. juncture-browser needs a window or worker with `indexedDB` ' +
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

/** A database layout: its upgrade steps in order (step `i` takes version `i` to `i + 1`) and the stores it must have. */
export interface DatabaseLayout<Schema extends DBSchema> {
  upgradeSteps: ReadonlyArray<(db: IDBPDatabase<Schema>, tx: IDBPTransaction<Schema, StoreNames<Schema>[], 'versionchange'>) => void>;
  storeNames: readonly StoreNames<Schema>[];
}

/** Opens (creating or upgrading) a database of the given layout and checks that it has its stores. */
export async function openLayoutDatabase<Schema extends DBSchema>(
  name: string,
  layout: DatabaseLayout<Schema>,
  handlers: OpenHandlers,
): Promise<IDBPDatabase<Schema>> {
  requireIndexedDB();
  const version = layout.upgradeSteps.length;
  let db: IDBPDatabase<Schema>;
  let upgradeFailure: unknown;
  try {
    db = await openDB<Schema>(name, version, {
      upgrade(database, oldVersion, newVersion, transaction) {
        try {
          for (let step = oldVersion; step < (newVersion ?? version); step += 1) {
            layout.upgradeSteps[step]!(database, transaction);
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
          `(schema ${version}); update juncture-browser or use another dbName.`,
        { cause: error },
      );
    }
    if (upgradeFailure !== undefined) {
      throw new CheckpointError(
        'MIGRATION',
        `Upgrading IndexedDB database "${name}" to schema ${version} failed; it keeps its old version. ` +
          `Cause: ${String(upgradeFailure)}`,
        { cause: upgradeFailure },
      );
    }
    throw storageError(`Opening IndexedDB database "${name}"`, error);
  }
  const missing = layout.storeNames.filter((store) => !db.objectStoreNames.contains(store));
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

/**
 * Closes a connection once every transaction begun on it has finished. `close()` alone only marks it to close
 * when they have, and a worker that ends before it heard of their end never tells the browser that it closed:
 * WebKit then keeps the connection open for good, and a deletion of the database waits forever. A read-write
 * transaction on every store starts only once every transaction created before it on those stores has finished,
 * so the end of one is that moment.
 */
export async function closeWhenIdle(db: IDBDatabase): Promise<void> {
  try {
    const last = db.transaction([...db.objectStoreNames], 'readwrite', { durability: 'relaxed' });
    await new Promise<void>((resolve) => {
      last.oncomplete = () => resolve();
      last.onabort = () => resolve();
    });
  } catch {
    // Closed already (another tab's version change): no transaction can start on it any more.
  }
  db.close();
}

/** Opens (creating or upgrading) the checkpoint database and checks that it has our stores. */
export function openDatabase(name: string, handlers: OpenHandlers): Promise<JunctureDatabase> {
  return openLayoutDatabase<JunctureSchema>(name, { upgradeSteps: UPGRADE_STEPS, storeNames: [...STORE_NAMES, ...JOURNAL_STORE_NAMES] }, handlers);
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
