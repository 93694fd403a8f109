import * as Comlink from 'comlink';
import { CheckpointError, storageError } from '../errors.js';
import { IndexedDBCheckpointStorage, type WriteOperation } from '../storage/checkpoint-store.js';
import type { Outcome, SerializedCheckpointError, StorageHostApi, StorageSession, WriteAnswer } from './protocol.js';
import { buffersOfPage, buffersOfTuplePage, buffersOfTuples } from './transfer.js';

/** One database served by the worker: its storage (which batches its transactions) and its ack mode. */
class HostedDatabase {
  readonly storage: IndexedDBCheckpointStorage;
  readonly #ack: StorageSession['ack'];
  /** A queued write that failed after it was acknowledged: the next call reports it. */
  #failure: unknown;

  constructor(session: StorageSession) {
    this.storage = new IndexedDBCheckpointStorage({ dbName: session.dbName, durability: session.durability });
    this.#ack = session.ack;
  }

  #takeFailure(): unknown {
    const failure = this.#failure;
    this.#failure = undefined;
    return failure;
  }

  #reportFailure(): void {
    const failure = this.#takeFailure();
    if (failure !== undefined) throw failure;
  }

  /**
   * Submits operations in order. With ack 'committed', answers once each committed or failed; with 'queued',
   * at once, with the failure of an earlier queued write if there was one (the page reports it on its next call).
   */
  async write(operations: WriteOperation[]): Promise<WriteAnswer> {
    const committed = operations.map((operation) => this.storage.write(operation));
    if (this.#ack === 'committed') {
      const settled = await Promise.allSettled(committed);
      return {
        outcomes: settled.map((result): Outcome<void> =>
          result.status === 'fulfilled' ? { ok: true, value: undefined } : { ok: false, error: serializeError(result.reason) },
        ),
      };
    }
    for (const commit of committed) {
      commit.catch((error: unknown) => {
        this.#failure ??= error;
      });
    }
    const failure = this.#takeFailure();
    return failure === undefined ? { outcomes: [] } : { outcomes: [], failure: serializeError(failure) };
  }

  /** Reads wait for the writes submitted before them, so they always see them. */
  async read<T>(body: () => Promise<T>): Promise<T> {
    await this.storage.settled();
    this.#reportFailure();
    return body();
  }

  async flush(): Promise<void> {
    await this.storage.settled();
    this.#reportFailure();
  }
}

function sessionKey(session: StorageSession): string {
  return JSON.stringify([session.dbName, session.durability, session.ack]);
}

function serializeError(thrown: unknown): SerializedCheckpointError {
  const error = thrown instanceof CheckpointError ? thrown : storageError('Worker storage call', thrown);
  const cause = error.cause as { name?: unknown; message?: unknown } | undefined;
  return {
    code: error.code,
    message: error.message,
    ...(cause ? { cause: { name: String(cause.name ?? 'Error'), message: String(cause.message ?? cause) } } : {}),
  };
}

async function outcome<T>(body: () => Promise<T>, transferables: (value: T) => ArrayBuffer[] = () => []): Promise<Outcome<T>> {
  try {
    const value = await body();
    const buffers = transferables(value);
    const result: Outcome<T> = { ok: true, value };
    return buffers.length > 0 ? Comlink.transfer(result, buffers) : result;
  } catch (thrown) {
    return { ok: false, error: serializeError(thrown) };
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
    write: (session, operations) => outcome(() => databaseOf(session).write(operations)),
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
    listTuples: (session, query, pageSize, resume) => {
      const database = databaseOf(session);
      return outcome(() => database.read(() => database.storage.listTuples(query, pageSize, resume)), buffersOfTuplePage);
    },
    prune: (session, threadIds, options) => {
      const database = databaseOf(session);
      return outcome(() => database.read(() => database.storage.prune(threadIds, options)));
    },
    copyThread: (session, from, to) => {
      const database = databaseOf(session);
      return outcome(() => database.read(() => database.storage.copyThread(from, to)));
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
