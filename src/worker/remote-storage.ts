import * as Comlink from 'comlink';
import { CheckpointError } from '../errors.js';
import type {
  CheckpointPage,
  CheckpointQuery,
  CheckpointStorage,
  ListResume,
  StoredTuple,
  WriteOperation,
} from '../storage/checkpoint-store.js';
import type { CheckpointRecord } from '../storage/records.js';
import type { Outcome, StorageHostApi, StorageSession } from './protocol.js';
import { buffersOfOperation } from './transfer.js';

function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  const { code, message, cause } = outcome.error;
  const original = cause ? Object.assign(new Error(cause.message), { name: cause.name }) : undefined;
  throw new CheckpointError(code, message, original ? { cause: original } : undefined);
}

/** `CheckpointStorage` whose calls run in a worker's storage host. */
export class RemoteCheckpointStorage implements CheckpointStorage {
  readonly #host: Comlink.Remote<StorageHostApi>;
  readonly #session: StorageSession;
  readonly #onClose: () => void;
  #closed = false;

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

  async write(operation: WriteOperation): Promise<void> {
    this.#open();
    // The bytes were made for this call alone: hand their buffers over instead of copying them.
    unwrap(await this.#host.write(this.#session, Comlink.transfer(operation, buffersOfOperation(operation))));
  }

  async getTuple(thread_id: string, checkpoint_ns: string, checkpoint_id?: string): Promise<StoredTuple | undefined> {
    this.#open();
    return unwrap(await this.#host.getTuple(this.#session, thread_id, checkpoint_ns, checkpoint_id));
  }

  async listCheckpoints(query: CheckpointQuery, pageSize: number, resume?: ListResume): Promise<CheckpointPage> {
    this.#open();
    return unwrap(await this.#host.listCheckpoints(this.#session, query, pageSize, resume));
  }

  async loadTuples(records: CheckpointRecord[]): Promise<StoredTuple[]> {
    this.#open();
    if (records.length === 0) return [];
    return unwrap(await this.#host.loadTuples(this.#session, records));
  }

  async flush(): Promise<void> {
    this.#open();
    unwrap(await this.#host.flush(this.#session));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      unwrap(await this.#host.close(this.#session));
    } finally {
      this.#onClose();
    }
  }
}
