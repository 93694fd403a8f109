/**
 * Notices that the storage host has gone, so that no call waits forever for an answer that cannot come.
 * Comlink leaves a call pending when its endpoint dies; these are the signals a page can have instead.
 */
import type { HostGreeting } from './protocol.js';

/** Why the host cannot answer, and whether a new worker could. */
export interface HostLoss {
  reason: string;
  /** True when the host ran and then ended: a new `WorkerSaver` starts a new worker. */
  canRestart: boolean;
}

/** A timer that fires this much after it was due was held up: by a busy page, or by a hidden page's throttling. */
const LATE = 100;
/** How long a timer held up by a busy page waits once more, so that answers that came meanwhile are heard first. */
const GRACE = 500;

/**
 * Calls `expired` once `ms` have passed. A page busy for longer than `ms` (one long task) fires the timer late, with
 * an answer that arrived meanwhile still queued behind it: a late timer then waits `GRACE` ms more, once, so that
 * what is queued runs first, rather than take a busy page for a silent host. Once only: a hidden page's timers are
 * late too (throttled), and there every answer was heard long before. Returns the function that cancels it.
 */
export function answerTimeout(ms: number, expired: () => void): () => void {
  const due = performance.now() + ms;
  let timer = setTimeout(() => {
    if (performance.now() - due <= LATE) {
      expired();
      return;
    }
    timer = setTimeout(expired, GRACE);
  }, ms);
  return () => clearTimeout(timer);
}

export interface WatchOptions {
  /** The worker or port the host answers on. */
  endpoint: Worker | MessagePort;
  /** Resolves with the host's greeting once it runs. */
  greeting: Promise<HostGreeting>;
  /** How long the host may take to answer its first message. */
  startTimeout: number;
  onLoss(loss: HostLoss): void;
}

/**
 * Watches the host: an `error` event before it answered (the worker script failed to load: a 404, a CSP that
 * forbids it, a syntax error), no answer within `startTimeout`, the port's `close` event (the far end closed,
 * where the platform reports it), and its lifetime lock (granted to us once the host's context ended: it was
 * terminated, crashed or ran out of memory). Calls `onLoss` once; returns the function that stops watching.
 */
export function watchHost({ endpoint, greeting, startTimeout, onLoss }: WatchOptions): () => void {
  let watching = true;
  let started = false;
  const lose = (loss: HostLoss) => {
    if (!watching) return;
    stop();
    onLoss(loss);
  };
  const onError = (event: Event) => {
    // After the host answered, an error event is an uncaught error inside a running worker, which lives on.
    if (started) return;
    const detail = (event as ErrorEvent).message;
    lose({
      reason: `the storage worker failed to start${detail ? ` (${detail})` : ''}: its script could not be loaded or run (a missing file, a Content-Security-Policy that forbids workers, a syntax error)`,
      canRestart: false,
    });
  };
  const onClose = () => lose({ reason: 'the storage worker\'s port was closed', canRestart: true });
  const cancelTimeout = answerTimeout(startTimeout, () =>
    lose({ reason: `the storage worker did not answer within ${startTimeout} ms of starting`, canRestart: false }),
  );
  const lockAbort = typeof AbortController === 'undefined' ? undefined : new AbortController();
  function stop(): void {
    watching = false;
    cancelTimeout();
    endpoint.removeEventListener('error', onError);
    endpoint.removeEventListener('close', onClose);
    lockAbort?.abort();
  }
  endpoint.addEventListener('error', onError);
  endpoint.addEventListener('close', onClose);
  greeting.then(
    ({ lifetimeLock }) => {
      started = true;
      cancelTimeout();
      const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
      if (!watching || !lifetimeLock || !locks) return;
      locks
        .request(lifetimeLock, { signal: lockAbort?.signal }, () =>
          lose({ reason: 'the storage worker ended (it was terminated, crashed or ran out of memory)', canRestart: true }),
        )
        .catch(() => undefined);
    },
    (error: unknown) => lose({ reason: `the storage worker could not be reached (${String(error)})`, canRestart: false }),
  );
  return stop;
}
