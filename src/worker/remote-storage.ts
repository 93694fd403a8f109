import * as Comlink from 'comlink';
import { CheckpointError, closedError } from '../errors.js';
import type { CheckpointRecord } from '../storage/records.js';
import type {
  CheckpointPage,
  CheckpointQuery,
  CheckpointStorage,
  DeltaHistory,
  ListResume,
  PruneOptions,
  StoredTuple,
  TuplePage,
  WriteOperation,
} from '../storage/storage.js';
import { threadOf } from '../storage/storage.js';
import type { HostConnection } from './host-connection.js';
import type { HostLoss } from './liveness.js';
import { valueOf } from './outcome.js';
import type { Acknowledgement, Outcome, StorageHostApi, StorageSession } from './protocol.js';
import { buffersOfOperation } from './transfer.js';

/** Most operations one message carries: a long burst still reaches the worker while it goes on. */
const MAX_BATCH = 256;

interface OutgoingWrite {
  operation: WriteOperation;
  settle(outcome: Outcome<void>): void;
}

/**
 * `CheckpointStorage` whose calls run in a worker's storage host. Writes leave in batches: those of a task go
 * together when it ends (or every `MAX_BATCH`), except that with ack 'committed' the first goes at once, since
 * its caller waits for it. A burst of writes (a graph running ahead of its checkpoints) then costs a few
 * messages instead of one each. Every other call first sends what waits, so the worker sees calls in the order
 * they were made. Once the host is gone (see `HostConnection`), every pending and later call rejects with `UNAVAILABLE`.
 */
export class RemoteCheckpointStorage implements CheckpointStorage {
  readonly #connection: HostConnection<StorageHostApi>;
  readonly #host: Comlink.Remote<StorageHostApi>;
  readonly #session: StorageSession;
  readonly #ack: Acknowledgement;
  #closed = false;
  #outbox: OutgoingWrite[] = [];
  /** Set once the current task has written: its later writes wait for its end. */
  #taskEnd: ReturnType<typeof setTimeout> | undefined;
  /** Every write not yet settled, so that `flush()` and `close()` can wait for those made before them. */
  readonly #unsettled = new Set<Promise<void>>();
  /** With ack 'queued': per thread, a write that failed after it resolved, for that thread's next write or `flush()`. */
  readonly #failures = new Map<string, CheckpointError>();

  constructor(connection: HostConnection<StorageHostApi>, session: StorageSession, ack: Acknowledgement) {
    this.#connection = connection;
    this.#host = connection.host;
    this.#session = session;
    this.#ack = ack;
  }

  /** Why the host cannot answer, once it cannot. */
  get loss(): HostLoss | undefined {
    return this.#connection.loss;
  }

  #call<T>(call: () => Promise<Outcome<T>>): Promise<T> {
    return this.#connection.call(call);
  }

  #open(): void {
    if (this.#closed) throw closedError(this.#session.dbName);
  }

  /**
   * With ack 'committed', resolves once the operation committed. With 'queued', at once: a failure then
   * rejects the next write of the same thread, or `flush()`, whichever comes first.
   */
  write(operation: WriteOperation): Promise<void> {
    const thread_id = threadOf(operation);
    const failure = thread_id === undefined ? undefined : this.#failures.get(thread_id);
    try {
      this.#open();
      if (failure) {
        this.#failures.delete(thread_id!);
        throw failure;
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const committed = new Promise<void>((resolve, reject) => {
      this.#enqueue({
        operation,
        settle: (outcome) => {
          try {
            resolve(valueOf(outcome));
          } catch (error) {
            reject(error);
          }
        },
      });
    });
    const tracked = committed.catch((error: unknown) => {
      if (this.#ack === 'queued' && thread_id !== undefined && !this.#failures.has(thread_id)) {
        this.#failures.set(thread_id, error as CheckpointError);
      }
    });
    this.#unsettled.add(tracked);
    void tracked.then(() => this.#unsettled.delete(tracked));
    return this.#ack === 'queued' ? Promise.resolve() : committed;
  }

  #enqueue(write: OutgoingWrite): void {
    this.#outbox.push(write);
    if (this.#taskEnd === undefined) {
      // A write that resolves only once committed leaves at once; queued ones have no one waiting for them.
      if (this.#ack === 'committed') this.#send();
      this.#taskEnd = setTimeout(() => {
        this.#taskEnd = undefined;
        this.#send();
      }, 0);
    } else if (this.#outbox.length >= MAX_BATCH) {
      this.#send();
    }
  }

  /** Sends the waiting writes in one message. */
  #send(): void {
    const batch = this.#outbox;
    if (batch.length === 0) return;
    this.#outbox = [];
    this.#post(batch);
  }

  #post(batch: OutgoingWrite[]): void {
    const operations = batch.map((write) => write.operation);
    // The bytes were made for these calls alone: hand their buffers over instead of copying them.
    const buffers = operations.flatMap(buffersOfOperation);
    this.#call(() => this.#host.write(this.#session, Comlink.transfer(operations, buffers))).then(
      (outcomes) => {
        for (const [i, write] of batch.entries()) write.settle(outcomes[i] ?? { ok: true, value: undefined });
      },
      (error: unknown) => {
        // A message that could not be sent (one operation the structured clone refuses) fails every operation
        // in it: send them one by one, so that the failure stays with the operation it concerns.
        if (batch.length > 1 && !this.loss) {
          for (const write of batch) this.#post([write]);
          return;
        }
        const failure = error instanceof CheckpointError ? error : undefined;
        const outcome: Outcome<void> = {
          ok: false,
          error: { code: failure?.code ?? 'STORAGE', message: failure?.message ?? `Sending a write to the storage worker failed: ${String(error)}` },
        };
        for (const write of batch) write.settle(outcome);
      },
    );
  }

  /** Checks that the saver is open, and sends the waiting writes before a call, so it sees them. */
  #beforeCall(): void {
    this.#open();
    this.#send();
  }

  async getTuple(thread_id: string, checkpoint_ns: string, checkpoint_id?: string): Promise<StoredTuple | undefined> {
    this.#beforeCall();
    return this.#call(() => this.#host.getTuple(this.#session, thread_id, checkpoint_ns, checkpoint_id));
  }

  async listCheckpoints(query: CheckpointQuery, pageSize: number, resume?: ListResume): Promise<CheckpointPage> {
    this.#beforeCall();
    return this.#call(() => this.#host.listCheckpoints(this.#session, query, pageSize, resume));
  }

  async loadTuples(records: CheckpointRecord[]): Promise<StoredTuple[]> {
    this.#beforeCall();
    if (records.length === 0) return [];
    return this.#call(() => this.#host.loadTuples(this.#session, records));
  }

  async listTuples(query: CheckpointQuery, pageSize: number, resume?: ListResume): Promise<TuplePage> {
    this.#beforeCall();
    return this.#call(() => this.#host.listTuples(this.#session, query, pageSize, resume));
  }

  async deltaHistory(thread_id: string, checkpoint_ns: string, checkpoint_id: string | undefined, channels: string[]): Promise<DeltaHistory> {
    this.#beforeCall();
    return this.#call(() => this.#host.deltaHistory(this.#session, thread_id, checkpoint_ns, checkpoint_id, channels));
  }

  async prune(threadIds: string[] | undefined, options: PruneOptions): Promise<number> {
    this.#beforeCall();
    return this.#call(() => this.#host.prune(this.#session, threadIds, options));
  }

  async copyThread(from: string, to: string): Promise<number> {
    this.#beforeCall();
    return this.#call(() => this.#host.copyThread(this.#session, from, to));
  }

  /** Waits for every write made before it; rejects with the queued writes that failed and were not reported yet. */
  async flush(): Promise<void> {
    this.#beforeCall();
    await this.#settleWrites();
  }

  async #settleWrites(): Promise<void> {
    await Promise.all([...this.#unsettled]);
    const failures = [...this.#failures.entries()];
    this.#failures.clear();
    if (failures.length === 0) return;
    const [[, first]] = failures as [[string, CheckpointError], ...[string, CheckpointError][]];
    if (failures.length === 1) throw first;
    throw new CheckpointError(
      first.code,
      `Queued writes of ${failures.length} threads failed (${failures.map(([thread]) => `"${thread}"`).join(', ')}); the first: ${first.message}`,
      { cause: new AggregateError(failures.map(([, error]) => error)) },
    );
  }

  /** Waits for the writes made before it, then closes the database in the worker; reports failed queued writes. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#send();
    this.#closed = true;
    try {
      await this.#settleWrites();
    } finally {
      if (!this.loss) await this.#call(() => this.#host.close(this.#session));
    }
  }
}
