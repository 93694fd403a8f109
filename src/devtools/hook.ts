import type { ChangeListener } from '../storage/changes.js';
import type { ItemChange } from '../storage/items/item-storage.js';
import type { TypedBytes } from '../storage/records.js';
import { HOOK_SOURCE, readContentMessage, type HookMessage } from './protocol.js';
import type { GraphDescription } from './data-source.js';
import { describeGraph, forkAt, resumeAt, type TimeTravelGraph } from './time-travel.js';

/** What the devtools need of a saver: its database and its change notifications (and its key, if it encrypts). */
export interface InspectableSaver {
  readonly dbName: string;
  subscribe(listener: ChangeListener): () => void;
  /** Whether it encrypts what it stores; then `decryptStored` opens a stored value for the panel. */
  readonly encrypted?: boolean;
  decryptStored?(stored: TypedBytes): Promise<TypedBytes>;
}

/** What the devtools need of a long-term memory store (`BrowserStore`, `WorkerStore`): the same, for items. */
export interface InspectableStore {
  readonly dbName: string;
  subscribe(listener: (change: ItemChange) => void): () => void;
}

export interface ConnectDevtoolsOptions {
  /** The compiled graph that uses the saver: the panel draws it, and can fork ("fork from here") and resume. */
  graph?: TimeTravelGraph;
  /** The graph's long-term memory store: the panel's Store view shows its items, live. */
  store?: InspectableStore;
}

/** At most one "changed" ping per database in this interval: a superstep commits several times. */
const PING_INTERVAL_MS = 50;

/**
 * Lets the juncture devtools extension show this saver's checkpoints, live. It tells the extension's content
 * script which database the page uses and pings it when that database changed; the content script reads the
 * data itself. With `graph`, the panel can also fork and resume the page's threads; with `store`, its Store view
 * shows that store's items the same way. Returns the function that disconnects. Without the extension, the
 * messages go unheard. A saver given `encryption` decrypts the values the panel asks for here, in the page;
 * without `connectDevtools` the panel shows them as "encrypted".
 */
export function connectDevtools(saver: InspectableSaver, options: ConnectDevtoolsOptions = {}): () => void {
  if (typeof window === 'undefined') return () => undefined;
  const { graph, store } = options;
  const post = (message: HookMessage) => window.postMessage(message, window.location.origin);
  const encrypted = saver.encrypted === true && saver.decryptStored !== undefined;
  // The content script tells a store database from a checkpoint database by its object stores.
  const announce = () => {
    post({ source: HOOK_SOURCE, type: 'announce', dbName: saver.dbName, timeTravel: graph !== undefined, encrypted });
    if (store) post({ source: HOOK_SOURCE, type: 'announce', dbName: store.dbName, timeTravel: false, encrypted: false });
  };

  const onMessage = (event: MessageEvent) => {
    const message = readContentMessage(event, window);
    if (!message) return;
    if (message.type === 'hello') {
      announce();
      return;
    }
    if (message.type === 'decrypt') {
      // The panel shows an encrypting saver's values only through the page, which holds the key.
      const { requestId, dbName, value } = message;
      if (!encrypted || dbName !== saver.dbName) return;
      saver.decryptStored!(value).then(
        (opened) => post({ source: HOOK_SOURCE, type: 'decrypt-result', requestId, ok: true, value: opened }),
        (error: unknown) => post({ source: HOOK_SOURCE, type: 'decrypt-result', requestId, ok: false, error: error instanceof Error ? error.message : String(error) }),
      );
      return;
    }
    const { requestId, request } = message;
    if (!graph || request.dbName !== saver.dbName) return;
    const done: Promise<{ checkpoint_id?: string; graph?: GraphDescription }> =
      request.action === 'fork'
        ? forkAt(graph, request.key, request.values).then((forked) => ({ checkpoint_id: forked.checkpoint_id }))
        : request.action === 'resume'
          ? resumeAt(graph, request.key, request.breakpoints).then(() => ({}))
          : describeGraph(graph).then((description) => ({ graph: description }));
    done.then(
      (result) => post({ source: HOOK_SOURCE, type: 'graph-result', requestId, ok: true, ...result }),
      (error: unknown) =>
        post({ source: HOOK_SOURCE, type: 'graph-result', requestId, ok: false, error: error instanceof Error ? error.message : String(error) }),
    );
  };

  /** Pings the content script at most once per `PING_INTERVAL_MS` after the database changed. */
  const pingOnChange = (watched: { dbName: string; subscribe(listener: () => void): () => void }) => {
    let pending: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = watched.subscribe(() => {
      pending ??= setTimeout(() => {
        pending = undefined;
        post({ source: HOOK_SOURCE, type: 'changed', dbName: watched.dbName });
      }, PING_INTERVAL_MS);
    });
    return () => {
      unsubscribe();
      if (pending !== undefined) clearTimeout(pending);
    };
  };
  const stopPinging = [saver, ...(store ? [store] : [])].map(pingOnChange);
  window.addEventListener('message', onMessage);
  announce();
  return () => {
    window.removeEventListener('message', onMessage);
    stopPinging.forEach((stop) => stop());
  };
}
