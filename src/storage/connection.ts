import type { DBSchema, IDBPDatabase } from 'idb';
import { CheckpointError, storageError } from '../errors.js';
import { openLayoutDatabase, type DatabaseLayout } from './database.js';

/**
 * One lazily opened connection to a database of a given layout. When another tab upgrades or deletes the
 * database, or the quota refuses a write on it, the connection steps aside and the next call reopens it; a call
 * that lost its connection midway changed nothing and runs once more.
 */
export class LazyConnection<Schema extends DBSchema> {
  readonly dbName: string;
  readonly #layout: DatabaseLayout<Schema>;
  /** Names what holds the connection, for the message of a call made after `close()`. */
  readonly #owner: string;
  #connection: Promise<IDBPDatabase<Schema>> | undefined;
  #closed = false;

  constructor(dbName: string, layout: DatabaseLayout<Schema>, owner: string) {
    this.dbName = dbName;
    this.#layout = layout;
    this.#owner = owner;
  }

  #database(): Promise<IDBPDatabase<Schema>> {
    if (this.#closed) {
      return Promise.reject(
        new CheckpointError('CLOSED', `The ${this.#owner} on IndexedDB database "${this.dbName}" was closed; create a new one.`),
      );
    }
    if (!this.#connection) {
      const opening = openLayoutDatabase(this.dbName, this.#layout, {
        onVersionChange: () => this.#drop(opening),
        onTerminated: () => this.#drop(opening),
      });
      this.#connection = opening;
      opening.catch(() => {
        if (this.#connection === opening) this.#connection = undefined;
      });
    }
    return this.#connection;
  }

  #drop(connection: Promise<IDBPDatabase<Schema>>): void {
    if (this.#connection === connection) this.#connection = undefined;
    void connection.then((db) => db.close(), () => undefined);
  }

  /** Runs `body` on the open database; whatever IndexedDB throws arrives as a `CheckpointError`. */
  async run<T>(action: string, body: (db: IDBPDatabase<Schema>) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      const connection = this.#database();
      const db = await connection;
      try {
        return await body(db);
      } catch (error) {
        const dropped = this.#connection !== connection && !this.#closed;
        if (attempt === 0 && dropped && (error as { name?: string }).name === 'InvalidStateError') continue;
        const failure = storageError(action, error);
        // Firefox invalidates a connection on which a write ran out of quota: the next call reopens.
        if (failure.code === 'QUOTA') this.#drop(connection);
        throw failure;
      }
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection) await connection.then((db) => db.close(), () => undefined);
  }
}
