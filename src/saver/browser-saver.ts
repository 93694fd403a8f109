import { CheckpointError } from '../errors.js';
import { IndexedDBCheckpointStorage } from '../storage/checkpoint-store.js';
import type { Durability } from '../storage/storage.js';
import { StoredCheckpointSaver, type SaverOptions } from './stored-saver.js';

export interface BrowserSaverOptions extends SaverOptions {
  /** IndexedDB database name; savers on the same name share their checkpoints. Default `'juncture'`. */
  dbName?: string;
  /**
   * IndexedDB transaction durability. `'default'` and `'relaxed'` resolve once data reaches the OS (survives a
   * tab or browser crash); `'strict'` waits for the disk flush (also survives power loss), at a higher cost.
   */
  durability?: Durability;
}

const DURABILITIES: readonly Durability[] = ['default', 'strict', 'relaxed'];

/** Checks the options shared by both savers and fills in their defaults. */
export function resolveStorageOptions(options: { dbName?: unknown; durability?: unknown }): {
  dbName: string;
  durability: Durability;
} {
  const { dbName = 'juncture', durability = 'default' } = options;
  if (typeof dbName !== 'string' || dbName === '') {
    throw new CheckpointError('INVALID_CONFIG', `dbName must be a non-empty string, got ${JSON.stringify(dbName)}.`);
  }
  if (!DURABILITIES.includes(durability as Durability)) {
    throw new CheckpointError(
      'INVALID_CONFIG',
      `durability must be one of ${DURABILITIES.join(', ')}, got ${JSON.stringify(durability)}.`,
    );
  }
  return { dbName, durability: durability as Durability };
}

/**
 * A LangGraph.js checkpointer on IndexedDB: `graph.compile({ checkpointer: new BrowserSaver() })`.
 * The database opens on first use; another saver on the same `dbName` (after a reload) sees everything.
 */
export class BrowserSaver extends StoredCheckpointSaver {
  readonly durability: Durability;

  constructor(options: BrowserSaverOptions = {}) {
    const { dbName, durability } = resolveStorageOptions(options);
    super(new IndexedDBCheckpointStorage({ dbName, durability }), dbName, options);
    this.durability = durability;
  }

  /** Deletes a saver database and everything in it. Open savers on it step aside and reopen an empty one. */
  static deleteDatabase(dbName = 'juncture'): Promise<void> {
    return IndexedDBCheckpointStorage.deleteDatabase(resolveStorageOptions({ dbName }).dbName);
  }
}
