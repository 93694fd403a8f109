import * as Comlink from 'comlink';
import { startDefaultWorker } from '../default-worker.js';
import { CheckpointError } from '../errors.js';
import { answerTimeout, watchHost, type HostLoss } from './liveness.js';
import { valueOf } from './outcome.js';
import type { HostGreeting, Outcome } from './protocol.js';

/** What every storage host answers, whatever else it serves. */
export interface HostLifecycleApi {
  /** Answers once the host runs; the page learns from it how to notice that the host has gone. */
  hello(): Promise<Outcome<HostGreeting>>;
  /** Closes every database, then ends the worker from inside once it has answered. */
  end(): Promise<Outcome<void>>;
}

/** The page-side classes that talk to a host, and the one each user can fall back to, which needs no worker. */
const FALLBACK = { WorkerSaver: 'BrowserSaver', WorkerStore: 'BrowserStore' } as const;

export interface HostConnectionOptions {
  /** The worker or port the host answers on; without it, the package's own worker is started (and ended on release). */
  worker?: Worker | MessagePort | undefined;
  /** The database the caller works on, named in errors. */
  dbName: string;
  /** How long the host may take to answer its first message. */
  startTimeout?: number | undefined;
  owner: keyof typeof FALLBACK;
}

export const DEFAULT_START_TIMEOUT = 10_000;

/**
 * While calls wait for answers, the worker is asked every `PING_EVERY` ms whether it still answers; no answer
 * within `PING_TIMEOUT` ms means it is gone. The other signals (see `liveness.ts`) miss a worker terminated in
 * WebKit, which may keep its lifetime lock.
 */
const PING_EVERY = 2_000;
const PING_TIMEOUT = 5_000;
/** How long `release()` waits for its own worker to end itself before terminating it. */
const END_GRACE = 2_000;

function startOwnWorker(owner: keyof typeof FALLBACK): Worker {
  if (typeof Worker === 'undefined') {
    throw new CheckpointError('UNAVAILABLE', `${owner} needs Web Workers, which this context lacks; use ${FALLBACK[owner]}.`);
  }
  try {
    return startDefaultWorker();
  } catch (error) {
    // A Content-Security-Policy that forbids the worker may refuse it here already.
    throw new CheckpointError('UNAVAILABLE', `${owner} could not start its worker (${String(error)}); allow it (worker-src) or use ${FALLBACK[owner]}.`, {
      cause: error,
    });
  }
}

/**
 * The page's link to a storage host in a worker, shared by `WorkerSaver` and `WorkerStore`: it watches the host
 * (`watchHost`: start timeout, failed script, closed port, lifetime lock), pings it while calls wait, and once
 * the host is gone rejects every pending and later call with `UNAVAILABLE` instead of letting it wait forever.
 */
export class HostConnection<Api extends HostLifecycleApi> {
  readonly host: Comlink.Remote<Api>;
  readonly #owner: keyof typeof FALLBACK;
  readonly #dbName: string;
  /** The worker this connection started, which it ends on release; a caller's worker may serve others. */
  readonly #ownWorker: Worker | undefined;
  readonly #stopWatching: () => void;
  /** Rejects once the host is gone; every call races it. */
  readonly #gone: Promise<never>;
  #markGone!: (error: CheckpointError) => void;
  #loss: HostLoss | undefined;
  #waiting = 0;
  #ping: ReturnType<typeof setInterval> | undefined;
  #released = false;

  constructor({ worker, dbName, startTimeout = DEFAULT_START_TIMEOUT, owner }: HostConnectionOptions) {
    if (!(typeof startTimeout === 'number' && startTimeout > 0 && Number.isFinite(startTimeout))) {
      throw new CheckpointError('INVALID_CONFIG', `startTimeout must be a positive number of milliseconds, got ${JSON.stringify(startTimeout)}.`);
    }
    this.#owner = owner;
    this.#dbName = dbName;
    this.#ownWorker = worker === undefined ? startOwnWorker(owner) : undefined;
    const endpoint = worker ?? this.#ownWorker!;
    this.host = Comlink.wrap<Api>(endpoint);
    this.#gone = new Promise<never>((_, reject) => (this.#markGone = reject));
    this.#gone.catch(() => undefined);
    this.#stopWatching = watchHost({
      endpoint,
      greeting: this.#lifecycle.hello().then((outcome) => (outcome.ok ? outcome.value : {})),
      startTimeout,
      onLoss: (loss) => this.lose(loss),
    });
  }

  /** Comlink's types see the generic `Api` as opaque; its lifecycle calls are there whatever it serves. */
  get #lifecycle(): Comlink.Remote<HostLifecycleApi> {
    return this.host as unknown as Comlink.Remote<HostLifecycleApi>;
  }

  /** Why the host cannot answer, once it cannot. */
  get loss(): HostLoss | undefined {
    return this.#loss;
  }

  /** The host is gone: pending calls reject now, and later ones at once. */
  lose(loss: HostLoss): void {
    if (this.#loss) return;
    this.#loss = loss;
    this.#stopPinging();
    const advice = loss.canRestart
      ? `Calls that were pending did not complete; create a new ${this.#owner} to start a new worker.`
      : `A new ${this.#owner} would fail the same way: fix the worker, or use ${FALLBACK[this.#owner]}, which needs no worker.`;
    this.#markGone(new CheckpointError('UNAVAILABLE', `IndexedDB database "${this.#dbName}" cannot be reached: ${loss.reason}. ${advice}`));
  }

  /** A call to the host that rejects with `UNAVAILABLE` instead of waiting, once the host is gone. */
  call<T>(call: () => Promise<Outcome<T>>): Promise<T> {
    this.#waiting += 1;
    this.#ping ??= setInterval(() => this.#checkHost(), PING_EVERY);
    const answered = Promise.race([call(), this.#gone]);
    const done = () => {
      this.#waiting -= 1;
      if (this.#waiting === 0) this.#stopPinging();
    };
    answered.then(done, done);
    return answered.then(valueOf);
  }

  #stopPinging(): void {
    if (this.#ping !== undefined) clearInterval(this.#ping);
    this.#ping = undefined;
  }

  /** Asks the worker for a sign of life; a worker busy with IndexedDB still answers, a gone one never does. */
  #checkHost(): void {
    const answered = answerTimeout(PING_TIMEOUT, () => this.lose({ reason: `the storage worker stopped answering (nothing for ${PING_TIMEOUT} ms)`, canRestart: true }));
    this.#lifecycle.hello().then(answered, answered);
  }

  /**
   * Stops watching. A worker this connection started is asked to close its databases and end itself, and is
   * waited for (up to `END_GRACE` ms) so that its connections are closed before anything else opens the database;
   * then it is terminated. A caller's worker is left running.
   */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    if (this.#ownWorker && !this.#loss) {
      try {
        await this.call(() => this.#lifecycle.end());
        await Promise.race([this.#gone, new Promise((resolve) => setTimeout(resolve, END_GRACE))]);
      } catch {
        // Gone already, or it ended itself: either way it is over.
      }
    }
    this.#stopWatching();
    this.#stopPinging();
    if (!this.#ownWorker) return;
    this.host[Comlink.releaseProxy]();
    this.#ownWorker.terminate();
  }
}
