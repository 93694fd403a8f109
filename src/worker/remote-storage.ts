import * as Comlink from 'comlink';
import { CheckpointError } from '../errors.js';
import type {
  CheckpointPage,
  CheckpointQuery,
  CheckpointStorage,
  ListResume,
  StoredTuple,
  TuplePage,
  WriteOperation,
} from '../storage/checkpoint-store.js';
import type { CheckpointRecord } from '../storage/records.js';
import type { PruneOptions } from '../storage/retention.js';
import type { Outcome, SerializedCheckpointError, StorageHostApi, StorageSession, WriteAnswer } from './protocol.js';
import { buffersOfOperation } from './transfer.js';

/** Most operations one message carries: a long burst still reaches the worker while it goes on. */
const MAX_BATCH = 256;

function deserializeError({ code, message, cause }: SerializedCheckpointError): CheckpointError {
  const original = cause ? Object.assign(new Error(cause.message), { name: cause.name }) : undefined;
  return new CheckpointError(code, message, original ? { cause: original } : undefined);
}

function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw deserializeError(outcome.error);
}

interface OutgoingWrite {
  operation: WriteOperation;
  settle(outcome: Outcome<void>): void;
}

/**
 * `CheckpointStorage` whose calls run in a worker's storage host. Writes leave in batches: those of a task go
 * together when it ends (or every `MAX_BATCH`), except that with ack 'committed' the first goes at once, since
 * its caller waits for it. A burst of writes (a graph running ahead of its checkpoints) then costs a few
 * messages instead of one each. Every other call first sends what waits, so the worker sees calls in the order
 * they were made.
 */
export class RemoteCheckpointStorage implements CheckpointStorage {
  readonly #host: Comlink.Remote<StorageHostApi>;
  readonly #session: StorageSession;
  readonly #onClose: () => void;
  #closed = false;
  #outbox: OutgoingWrite[] = [];
  /** Set once the current task has written: its later writes wait for its end. */
  #taskEnd: ReturnType<typeof setTimeout> | undefined;
  /** With ack 'queued': a write that failed after it resolved, for the next call to report. */
  #failure: CheckpointError | undefined;

  constructor(host: Comlink.Remote<StorageHostApi>, session: StorageSession, onClose: () => void) {
    this.#host = host;
    this.#session = session;
    this.#onClose = onClose;
  }

  #open(): void {
    if (this.#closed) {
      throw new CheckpointError('CLOSED', `The saver on IndexedDB database "${this.#session.dbName}" was closed; create a new one.`);
    }
  }

  #reportFailure(): void {
    const failure = this.#failure;
    this.#failure = undefined;
    if (failure) throw failure;
  }

  /**
   * With ack 'committed', resolves once the operation committed. With 'queued', at once: a failure then
   * reaches the next call, or `flush()`.
   */
  write(operation: WriteOperation): Promise<void> {
    try {
      this.#open();
      this.#reportFailure();
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#session.ack === 'queued') {
      this.#enqueue({ operation, settle: () => undefined });
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.#enqueue({ operation, settle: (outcome) => (outcome.ok ? resolve() : reject(deserializeError(outcome.error))) });
    });
  }

  #enqueue(write: OutgoingWrite): void {
    this.#outbox.push(write);
    if (this.#taskEnd === undefined) {
      // A write that resolves only once committed leaves at once; queued ones have no one waiting for them.
      if (this.#session.ack === 'committed') this.#send();
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
    const operations = batch.map((write) => write.operation);
    // The bytes were made for these calls alone: hand their buffers over instead of copying them.
    const buffers = operations.flatMap(buffersOfOperation);
    this.#host.write(this.#session, Comlink.transfer(operations, buffers)).then(
      (outcome) => this.#settle(batch, outcome),
      (error: unknown) => this.#settle(batch, { ok: false, error: { code: 'STORAGE', message: `The storage worker failed: ${String(error)}` } }),
    );
  }

  #settle(batch: OutgoingWrite[], outcome: Outcome<WriteAnswer>): void {
    if (!outcome.ok) {
      for (const write of batch) write.settle(outcome);
      if (this.#session.ack === 'queued') this.#failure ??= deserializeError(outcome.error);
      return;
    }
    const { outcomes, failure } = outcome.value;
    for (const [i, write] of batch.entries()) write.settle(outcomes[i] ?? { ok: true, value: undefined });
    if (failure) this.#failure ??= deserializeError(failure);
  }

  /** Checks that the saver is open, reports a failed queued write, and sends the waiting writes before a call. */
  #beforeCall(): void {
    this.#open();
    this.#reportFailure();
    this.#send();
  }

  async getTuple(thread_id: string, checkpoint_ns: string, checkpoint_id?: string): Promise<StoredTuple | undefined> {
    this.#beforeCall();
    return unwrap(await this.#host.getTuple(this.#session, thread_id, checkpoint_ns, checkpoint_id));
  }

  async listCheckpoints(query: CheckpointQuery, pageSize: number, resume?: ListResume): Promise<CheckpointPage> {
    this.#beforeCall();
    return unwrap(await this.#host.listCheckpoints(this.#session, query, pageSize, resume));
  }

  async loadTuples(records: CheckpointRecord[]): Promise<StoredTuple[]> {
    this.#beforeCall();
    if (records.length === 0) return [];
    return unwrap(await this.#host.loadTuples(this.#session, records));
  }

  async listTuples(query: CheckpointQuery, pageSize: number, resume?: ListResume): Promise<TuplePage> {
    this.#beforeCall();
    return unwrap(await this.#host.listTuples(this.#session, query, pageSize, resume));
  }

  async prune(threadIds: string[] | undefined, options: PruneOptions): Promise<number> {
    this.#beforeCall();
    return unwrap(await this.#host.prune(this.#session, threadIds, options));
  }

  async copyThread(from: string, to: string): Promise<number> {
    this.#beforeCall();
    return unwrap(await this.#host.copyThread(this.#session, from, to));
  }

  async flush(): Promise<void> {
    this.#beforeCall();
    unwrap(await this.#host.flush(this.#session));
    // Answers to writes arrive before the flush's own: a failure they brought is reported now.
    this.#reportFailure();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#send();
    try {
      unwrap(await this.#host.close(this.#session));
      this.#reportFailure();
    } finally {
      this.#onClose();
    }
  }
}
