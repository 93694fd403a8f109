/**
 * `startSync`: keeps a saver's database in sync with a `createSyncHandler` endpoint. With several tabs open, the
 * one holding the database's sync lock (Web Locks) syncs and the others mirror its status; when it closes, the
 * lock and the syncing pass to another. Whatever tab commits, the change journal (written in the commit's own
 * transaction) holds it until the server acknowledged it.
 */
import { createParser } from 'eventsource-parser';
import { CheckpointError } from '../errors.js';
import { StoredCheckpointSaver } from '../saver/stored-saver.js';
import { IndexedDBCheckpointStorage } from '../storage/checkpoint-store.js';
import type { Durability } from '../storage/storage.js';
import type { LiveChange } from '../wire/protocol.js';
import { pull, push, readBookmark, type PullBookmark, type PushCommit, type Replica } from './replication.js';
import { storedValuesOf } from './stored-values.js';
import { SyncTransport, isRetried, type SyncHeaders } from './transport.js';

export type SyncStatus = 'idle' | 'syncing' | 'offline' | 'error';

export interface SyncOptions {
  /** The endpoint's base URL: requests go to `{url}/push`, `{url}/pull` and `{url}/live`. */
  url: string;
  /** Headers for every request (a bearer token), or a function giving them; called again once after a 401. */
  headers?: SyncHeaders;
  /** Which threads to sync: a list of thread ids, or `'all'` (default). Other threads stay local. */
  threads?: string[] | 'all';
  /** Keep a live stream open and pull as soon as the server has changes (default false: pull when syncing). */
  live?: boolean;
}

export interface SyncState {
  status: SyncStatus;
  /** Why the status is `'error'` (not retried until `syncNow`, `online` or a new commit) or `'offline'` (retried). */
  error?: CheckpointError;
  /** Whether this tab is the one that syncs. */
  leader: boolean;
}

export type SyncListener = (state: SyncState) => void;

export interface SyncController {
  readonly status: SyncStatus;
  readonly error: CheckpointError | undefined;
  readonly leader: boolean;
  /** Calls `listener` with every change of state; returns the function that stops it. */
  subscribe(listener: SyncListener): () => void;
  /**
   * Pushes and pulls now. In the tab that syncs, resolves once a whole round begun after the call succeeded, and
   * rejects with its error. In another tab, asks the syncing tab and resolves at once.
   */
  syncNow(): Promise<void>;
  /** Stops syncing in this tab (another tab takes over); the journal keeps what is not acknowledged. */
  stop(): Promise<void>;
}

const CLIENT_ID_SETTING = 'sync-client-id';
const FIRST_RETRY_MS = 500;
/** How many cursors of its own pushes' commits a device remembers between pulls (see `#held`). */
const HELD_CURSORS = 32;
const MAX_RETRY_MS = 30_000;

function invalid(message: string): CheckpointError {
  return new CheckpointError('INVALID_CONFIG', `startSync: ${message}`);
}

interface ResolvedOptions {
  url: string;
  headers: SyncHeaders | undefined;
  threads: string[] | 'all';
  live: boolean;
}

function resolveOptions(saver: unknown, options: unknown): ResolvedOptions {
  if (!(saver instanceof StoredCheckpointSaver)) throw invalid('the saver must be a BrowserSaver or a WorkerSaver.');
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object with at least `url`.');
  const { url, headers, threads = 'all', live = false } = options as Partial<SyncOptions>;
  if (typeof url !== 'string' || url === '') throw invalid(`url must be the sync endpoint's URL, got ${JSON.stringify(url)}.`);
  const base = (globalThis as { location?: { href: string } }).location?.href;
  if (!URL.canParse(url, base)) throw invalid(`url ${JSON.stringify(url)} is not a URL.`);
  const plain = headers === undefined || typeof headers === 'function' || headers instanceof Headers || Array.isArray(headers) || (typeof headers === 'object' && headers !== null);
  if (!plain) throw invalid('headers must be headers (an object, an array of pairs, Headers) or a function returning them.');
  if (threads !== 'all' && !(Array.isArray(threads) && threads.every((id) => typeof id === 'string' && id !== ''))) {
    throw invalid(`threads must be 'all' or an array of thread ids, got ${JSON.stringify(threads)}.`);
  }
  if (typeof live !== 'boolean') throw invalid(`live must be true or false, got ${JSON.stringify(live)}.`);
  return { url: new URL(url, base).href, headers, threads: threads === 'all' ? 'all' : [...new Set(threads)], live };
}

/** Waits `ms`, or less when woken or aborted. */
function pause(ms: number, signal: AbortSignal, wake: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const timer = ms === Infinity ? undefined : setTimeout(resolve, ms);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    void wake.then(done);
  });
}

/**
 * The delay before the next try after `failures` failures in a row, in ms: a random point in the upper half of a
 * ceiling that doubles from `FIRST_RETRY_MS` up to `MAX_RETRY_MS`, so that clients that failed together spread out.
 */
export function backoff(failures: number): number {
  const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** failures);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

type TabMessage = { type: 'state'; status: SyncStatus; error?: string } | { type: 'sync-now' };

class Sync implements SyncController {
  readonly #options: ResolvedOptions;
  readonly #storage: IndexedDBCheckpointStorage;
  readonly #transport: SyncTransport;
  readonly #saver: StoredCheckpointSaver;
  readonly #stopping = new AbortController();
  readonly #listeners = new Set<SyncListener>();
  readonly #tabs: BroadcastChannel | undefined;
  #state: SyncState = { status: 'idle', leader: false };
  #running: Promise<void> = Promise.resolve();
  #stopped: Promise<void> | undefined;
  /** What the next round does, and what wakes the loop. */
  #wantPush = true;
  #wantPull = true;
  #wake!: () => void;
  /** Settles once this tab knows whether it syncs or another tab does. */
  #markElected!: () => void;
  readonly #elected = new Promise<void>((resolve) => (this.#markElected = resolve));
  #woken: Promise<void> = new Promise((resolve) => (this.#wake = resolve));
  /** `syncNow` calls waiting for a round that begins after them. */
  #waiting: { resolve(): void; reject(error: unknown): void }[] = [];
  /** Why this tab stopped syncing for good (its database could not be prepared). */
  #failure: CheckpointError | undefined;
  /**
   * The cursor up to which this device holds every change: the last pull's, moved on by the commits of its own
   * pushes that follow it directly (see `PushResponse.commit`). `#held` has each such cursor since the last pull:
   * news of one of them needs no pull.
   */
  #cursor: string | null = null;
  #held = new Set<string>();
  /** News heard while a push was in flight, weighed once its answer (and commit) is known. */
  #heard: string | undefined;
  #pushing = false;
  /** The stored pull bookmark as the last pull left it; none before the first pull, or after a pull that failed. */
  #bookmark: PullBookmark | undefined;
  /** Whether the live stream is open: it announces what a push of this tab stored, and what others did. */
  #streaming = false;

  constructor(saver: StoredCheckpointSaver, options: ResolvedOptions) {
    this.#saver = saver;
    this.#options = options;
    const durability = (saver as { durability?: Durability }).durability ?? 'default';
    this.#storage = new IndexedDBCheckpointStorage({ dbName: saver.dbName, durability });
    this.#transport = new SyncTransport(options.url, options.headers);
    this.#tabs = typeof BroadcastChannel === 'undefined' ? undefined : new BroadcastChannel(`juncture-browser:sync:${saver.dbName}`);
    if (this.#tabs) this.#tabs.onmessage = (event: MessageEvent<TabMessage>) => this.#hear(event.data);
    this.#running = this.#elect();
  }

  get status(): SyncStatus {
    return this.#state.status;
  }

  get error(): CheckpointError | undefined {
    return this.#state.error;
  }

  get leader(): boolean {
    return this.#state.leader;
  }

  subscribe(listener: SyncListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async syncNow(): Promise<void> {
    if (this.#stopping.signal.aborted) throw new CheckpointError('CLOSED', 'startSync: this sync was stopped; start a new one.');
    await this.#elected;
    if (this.#failure) throw this.#failure;
    if (!this.#state.leader) {
      this.#tabs?.postMessage({ type: 'sync-now' } satisfies TabMessage);
      return;
    }
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#request('both');
    });
  }

  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#stopping.abort();
      this.#wake();
      await this.#running.catch(() => undefined);
      for (const waiter of this.#waiting.splice(0)) waiter.reject(new CheckpointError('CLOSED', 'startSync: the sync was stopped.'));
      this.#tabs?.close();
      await this.#storage.close();
    })();
    return this.#stopped;
  }

  #set(state: Omit<SyncState, 'leader'>, leader = this.#state.leader): void {
    this.#state = { ...state, leader };
    if (leader) {
      const message: TabMessage = { type: 'state', status: state.status };
      if (state.error) message.error = state.error.message;
      this.#tabs?.postMessage(message);
    }
    for (const listener of [...this.#listeners]) listener(this.#state);
  }

  #hear(message: TabMessage): void {
    if (message.type === 'sync-now') {
      if (this.#state.leader) this.#request('both');
      return;
    }
    if (this.#state.leader) return;
    const error = message.error === undefined ? undefined : new CheckpointError(message.status === 'offline' ? 'UNAVAILABLE' : 'SYNC', message.error);
    this.#set(error ? { status: message.status, error } : { status: message.status }, false);
  }

  /** Asks the loop for a round: a push, a pull, or both (`syncNow`, `online`). */
  #request(what: 'push' | 'pull' | 'both'): void {
    if (what !== 'pull') this.#wantPush = true;
    if (what !== 'push') this.#wantPull = true;
    // While offline, a new commit waits for the retry; a request to sync (or `online`, or news) does not.
    if (what !== 'push' || this.#state.status !== 'offline') this.#wake();
  }

  /**
   * Syncs while this tab holds the database's sync lock; without Web Locks, this context is the only one. Settles
   * `#elected` once it knows whether it leads now or waits for the lock behind another tab.
   */
  async #elect(): Promise<void> {
    const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
    const signal = this.#stopping.signal;
    if (!locks) return this.#lead();
    const name = `juncture-browser:sync:${this.#saver.dbName}`;
    try {
      let led = false;
      await locks.request(name, { ifAvailable: true }, async (lock) => {
        if (!lock) return;
        led = true;
        await this.#lead();
      });
      if (led || signal.aborted) return;
      this.#markElected();
      await locks.request(name, { signal }, () => this.#lead());
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      this.#markElected();
    }
  }

  async #lead(): Promise<void> {
    const signal = this.#stopping.signal;
    if (signal.aborted) return;
    this.#set({ status: 'syncing' }, true);
    this.#markElected();
    const unsubscribe = this.#saver.subscribe((change) => {
      // A commit in any tab: push it. Pulled changes land here too, and then find the journal empty.
      if (change.kind !== 'versionchange') this.#request('push');
    });
    const online = () => this.#request('both');
    const events = typeof addEventListener === 'function';
    if (events) addEventListener('online', online);
    try {
      const replica = await this.#prepare();
      if (this.#options.live) void this.#listen(signal);
      await this.#loop(replica);
    } catch (error) {
      if (signal.aborted) return;
      // The database could not be prepared: this tab stops syncing (and lets another try), saying why.
      const typed = CheckpointError.is(error) ? error : new CheckpointError('SYNC', String(error), { cause: error });
      this.#failure = typed;
      this.#set({ status: 'error', error: typed });
      for (const waiter of this.#waiting.splice(0)) waiter.reject(typed);
    } finally {
      unsubscribe();
      if (events) removeEventListener('online', online);
    }
  }

  /** Turns the journal on (journaling what is stored, the first time) and names this database for the server. */
  async #prepare(): Promise<Replica> {
    await this.#storage.enableJournal();
    let clientId = await this.#storage.readSetting(CLIENT_ID_SETTING);
    if (typeof clientId !== 'string') {
      clientId = `db-${crypto.randomUUID()}`;
      await this.#storage.applyChanges([], { [CLIENT_ID_SETTING]: clientId });
    }
    return { storage: this.#storage, transport: this.#transport, values: storedValuesOf(this.#saver), clientId: clientId as string, threads: this.#options.threads, signal: this.#stopping.signal };
  }

  async #loop(replica: Replica): Promise<void> {
    const signal = this.#stopping.signal;
    let failures = 0;
    while (!signal.aborted) {
      if (!this.#wantPush && !this.#wantPull) {
        await pause(Infinity, signal, this.#woken);
        continue;
      }
      this.#woken = new Promise((resolve) => (this.#wake = resolve));
      const waiting = this.#waiting.splice(0);
      const wantPush = this.#wantPush;
      const wantPull = this.#wantPull;
      this.#wantPush = false;
      this.#wantPull = false;
      try {
        if ((globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false) {
          throw new CheckpointError('UNAVAILABLE', 'The browser is offline; syncing resumes when it is back online.');
        }
        if (this.#state.status !== 'syncing') this.#set({ status: 'syncing' });
        await this.#round(replica, wantPush, wantPull);
        failures = 0;
        for (const waiter of waiting) waiter.resolve();
        if (!this.#wantPush && !this.#wantPull) this.#set({ status: 'idle' });
      } catch (error) {
        if (signal.aborted) return;
        const typed = CheckpointError.is(error) ? error : new CheckpointError('SYNC', String(error), { cause: error });
        const retried = isRetried(typed);
        this.#set({ status: retried ? 'offline' : 'error', error: typed });
        for (const waiter of waiting) waiter.reject(typed);
        // A retried failure owes the round again after a delay, which commits made meanwhile wait for (`syncNow`
        // and `online` do not). Any other waits for the next request (made during this round, or later).
        if (retried) {
          this.#wantPush = true;
          this.#wantPull = true;
          this.#woken = new Promise((resolve) => (this.#wake = resolve));
          await pause(backoff(failures), signal, this.#woken);
          failures += 1;
        }
      }
    }
  }

  /** Pushes when asked to (a commit, `syncNow`), then pulls when asked to or when a push without a live stream sent something. */
  async #round(replica: Replica, wantPush: boolean, pullAsked: boolean): Promise<void> {
    let wantPull = pullAsked;
    let sent = 0;
    if (wantPush) {
      this.#pushing = true;
      try {
        const pushed = await push(replica);
        sent = pushed.sent;
        this.#follow(pushed.commits);
      } catch (error) {
        // News deferred for a push that failed: pulled as news otherwise is.
        if (this.#newsUnheld()) this.#request('pull');
        throw error;
      } finally {
        this.#pushing = false;
      }
    }
    if (this.#newsUnheld()) wantPull = true;
    // A push asks for a pull only without a live stream: an open one announces the push's commit, and pulling then
    // would hold up the next push (of the commits that followed) by a round trip.
    if (!wantPull && (sent === 0 || this.#streaming)) return;
    // Read once while this tab syncs: it alone writes the bookmark meanwhile, and keeps this copy as it does.
    const bookmark = this.#bookmark ?? (await readBookmark(this.#storage, this.#options.url, this.#options.threads));
    this.#bookmark = undefined;
    // Threads that stayed local under another thread set may have to go out now.
    if (bookmark.rescoped) await this.#storage.rejournalAll();
    const pulled = await pull(replica, bookmark);
    this.#cursor = pulled.cursor;
    this.#held = new Set([pulled.cursor]);
    this.#bookmark = { ...bookmark, cursor: pulled.cursor, rescoped: false };
    // What that refilled the journal with goes out now: everything after a resync or a new thread set; after
    // checkpoint tombstones, the checkpoints a branch here still needs (rare; otherwise the journal is empty).
    if (pulled.resynced || bookmark.rescoped || pulled.prunes > 0) this.#follow((await push(replica)).commits);
  }

  /** Whether news deferred during a push announced a cursor this device does not hold; forgets it. */
  #newsUnheld(): boolean {
    const heard = this.#heard;
    this.#heard = undefined;
    return heard !== undefined && !this.#held.has(heard);
  }

  /** Moves the cursor over the commits of this device's pushes that follow it directly: they hold nothing new. */
  #follow(commits: PushCommit[]): void {
    for (const { from, to } of commits) {
      if (from !== this.#cursor) continue;
      this.#cursor = to;
      this.#held.add(to);
      // News comes within moments of its commit: older cursors need not be remembered long.
      if (this.#held.size > HELD_CURSORS) this.#held.delete(this.#held.values().next().value!);
    }
  }

  /** Keeps `GET {url}/live` open while syncing, and pulls when it announces a cursor other than ours. */
  async #listen(signal: AbortSignal): Promise<void> {
    let failures = 0;
    let retryMs = FIRST_RETRY_MS;
    while (!signal.aborted) {
      try {
        const response = await this.#transport.live(signal);
        this.#streaming = true;
        const parser = createParser({
          onEvent: (event) => {
            if (event.event === 'change') {
              failures = 0;
              const { cursor } = JSON.parse(event.data) as Partial<LiveChange>;
              if (typeof cursor === 'string' && this.#held.has(cursor)) return;
              // During a push, the news may be of its own commit, known once it is answered.
              if (this.#pushing && typeof cursor === 'string') this.#heard = cursor;
              else this.#request('pull');
            } else if (event.event === 'unauthorized') {
              this.#transport.expireHeaders();
            }
          },
          onRetry: (ms) => (retryMs = ms),
        });
        const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            parser.feed(value);
          }
        } finally {
          this.#streaming = false;
        }
      } catch (error) {
        if (signal.aborted) return;
        // A refusal other than 401 (which the transport retried) ends live updates; syncing goes on by request.
        if (!isRetried(error) && CheckpointError.is(error, 'SYNC')) return;
      }
      // Dropped: reconnect after a while, and pull what was missed meanwhile.
      await pause(Math.max(retryMs, backoff(failures)), signal, new Promise(() => undefined));
      failures += 1;
    }
  }
}

/**
 * Starts syncing `saver`'s database with the sync endpoint at `options.url`; see `SyncOptions`. Returns the
 * controller. Bad options throw a `CheckpointError` with code `INVALID_CONFIG`.
 */
export function startSync(saver: StoredCheckpointSaver, options: SyncOptions): SyncController {
  const resolved = resolveOptions(saver, options);
  return new Sync(saver, resolved);
}
