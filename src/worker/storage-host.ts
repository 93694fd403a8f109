import * as Comlink from 'comlink';
import { CheckpointError, storageError } from '../errors.js';
import { IndexedDBCheckpointStorage, type WriteOperation } from '../storage/checkpoint-store.js';
import { CoalescingWriter } from '../storage/coalescing-writer.js';
import type { Outcome, StorageHostApi, StorageSession } from './protocol.js';
import { buffersOfPage, buffersOfTuples } from './transfer.js';

/** One database served by the worker: its storage, the writer that batches its transactions, its ack mode. */
class HostedDatabase {
  readonly storage: IndexedDBCheckpointStorage;
  readonly writer: CoalescingWriter;
  readonly #ack: StorageSession['ack'];
  /** A queued write that failed after it was acknowledged: the next call reports it. */
  #failure: unknown;

  constructor(session: StorageSession) {
    this.storage = new IndexedDBCheckpointStorage({ dbName: session.dbName, durability: session.durability });
    this.writer = new CoalescingWriter((operations) => this.storage.commit(operations));
    this.#ack = session.ack;
  }

  #reportFailure(): void {
    if (this.#failure === undefined) return;
    const failure = this.#failure;
    this.#failure = undefined;
    throw failure;
  }

  async write(operation: WriteOperation): Promise<void> {
    this.#reportFailure();
    const committed = this.writer.submit(operation);
    if (this.#ack === 'committed') return committed;
    committed.catch((error: unknown) => {
      this.#failure ??= error;
    });
  }

  /** Reads wait for the writes submitted before them, so they always see them. */
  async read<T>(body: () => Promise<T>): Promise<T> {
    await this.writer.settled();
    this.#reportFailure();
    return body();
  }

  async flush(): Promise<void> {
    await this.writer.settled();
    this.#reportFailure();
  }
}

function sessionKey(session: StorageSession): string {
  return JSON.stringify([session.dbName, session.durability, session.ack]);
}

async function outcome<T>(body: () => Promise<T>, transferables: (value: T) => ArrayBuffer[] = () => []): Promise<Outcome<T>> {
  try {
    const value = await body();
    const buffers = transferables(value);
    const result: Outcome<T> = { ok: true, value };
    return buffers.length > 0 ? Comlink.transfer(result, buffers) : result;
  } catch (thrown) {
    const error = thrown instanceof CheckpointError ? thrown : storageError('Worker storage call', thrown);
    const cause = error.cause as { name?: unknown; message?: unknown } | undefined;
    return {
      ok: false,
      error: {
        code: error.code,
        message: error.message,
        ...(cause ? { cause: { name: String(cause.name ?? 'Error'), message: String(cause.message ?? cause) } } : {}),
      },
    };
  }
}

/** The storage side of `WorkerSaver`: IndexedDB and batching, in the worker that runs it. */
export function createStorageHost(): StorageHostApi {
  const databases = new Map<string, HostedDatabase>();
  const databaseOf = (session: StorageSession) => {
    const key = sessionKey(session);
    let database = databases.get(key);
    if (!database) {
      database = new HostedDatabase(session);
      databases.set(key, database);
    }
    return database;
  };

  return {
    write: (session, operation) => outcome(() => databaseOf(session).write(operation)),
    getTuple: (session, thread_id, checkpoint_ns, checkpoint_id) => {
      const database = databaseOf(session);
      return outcome(
        () => database.read(() => database.storage.getTuple(thread_id, checkpoint_ns, checkpoint_id)),
        (tuple) => buffersOfTuples([tuple]),
      );
    },
    listCheckpoints: (session, query, pageSize, resume) => {
      const database = databaseOf(session);
      return outcome(() => database.read(() => database.storage.listCheckpoints(query, pageSize, resume)), buffersOfPage);
    },
    loadTuples: (session, records) => {
      const database = databaseOf(session);
      return outcome(() => database.read(() => database.storage.loadTuples(records)), buffersOfTuples);
    },
    flush: (session) => outcome(() => databaseOf(session).flush()),
    close: (session) =>
      outcome(async () => {
        const key = sessionKey(session);
        const database = databases.get(key);
        if (!database) return;
        databases.delete(key);
        try {
          await database.flush();
        } finally {
          await database.storage.close();
        }
      }),
  };
}

/**
 * Serves checkpoint storage to `WorkerSaver`s on the other end of `endpoint`: the worker's global scope by
 * default, or a `MessagePort`. Call it in a worker of your own; the package's worker entry calls it for you.
 */
export function exposeCheckpointStorage(endpoint: Comlink.Endpoint = self as unknown as Comlink.Endpoint): void {
  Comlink.expose(createStorageHost(), endpoint);
}
