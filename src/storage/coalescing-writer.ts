import type { WriteOperation } from './storage.js';

interface Pending {
  operation: WriteOperation;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Groups write operations into as few transactions as possible: the first ones commit at once, and every
 * operation that arrives while a transaction is in flight joins the next one (a superstep's `put` and its
 * `putWrites`, the writes of parallel tasks). If a batch fails, its operations are committed one by one, so
 * that an error fails exactly the calls whose data it concerns.
 */
export class CoalescingWriter {
  readonly #commit: (operations: WriteOperation[]) => Promise<void>;
  #pending: Pending[] = [];
  #inFlight: Promise<void> | undefined;
  /** Settles with the latest submitted operation: operations settle in the order they were submitted. */
  #latest: Promise<void> = Promise.resolve();

  constructor(commit: (operations: WriteOperation[]) => Promise<void>) {
    this.#commit = commit;
  }

  /** Resolves once the operation is committed; rejects with the error of its own commit. */
  submit(operation: WriteOperation): Promise<void> {
    const committed = new Promise<void>((resolve, reject) => {
      this.#pending.push({ operation, resolve, reject });
      if (!this.#inFlight) this.#inFlight = this.#drain();
    });
    this.#latest = committed.catch(() => undefined);
    return committed;
  }

  /**
   * Resolves once every operation submitted before this call is committed or has failed. Operations submitted
   * later are not waited for, so a read is never held up by writes that began after it.
   */
  settled(): Promise<void> {
    return this.#latest;
  }

  /** How many operations wait for a transaction (including the one in flight). */
  get backlog(): number {
    return this.#pending.length;
  }

  async #drain(): Promise<void> {
    // Operations submitted in the same synchronous run (a batch from the page) join the first transaction.
    await undefined;
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0);
      try {
        await this.#commit(batch.map((entry) => entry.operation));
        for (const entry of batch) entry.resolve();
      } catch (error) {
        if (batch.length === 1) {
          batch[0]!.reject(error);
          continue;
        }
        // The batch was rolled back whole: find out which operations fail on their own.
        for (const entry of batch) {
          try {
            await this.#commit([entry.operation]);
            entry.resolve();
          } catch (own) {
            entry.reject(own);
          }
        }
      }
    }
    this.#inFlight = undefined;
  }
}
