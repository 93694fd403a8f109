import type { ChangeListener } from '../storage/changes.js';
import type { TypedBytes } from '../storage/records.js';
import { HOOK_SOURCE, readContentMessage, type HookMessage } from './protocol.js';
import { forkAt, resumeAt, type TimeTravelGraph } from './time-travel.js';

/** What the devtools need of a saver: its database and its change notifications (and its key, if it encrypts). */
export interface InspectableSaver {
  readonly dbName: string;
  subscribe(listener: ChangeListener): () => void;
  /** Whether it encrypts what it stores; then `decryptStored` opens a stored value for the panel. */
  readonly encrypted?: boolean;
  decryptStored?(stored: TypedBytes): Promise<TypedBytes>;
}

export interface ConnectDevtoolsOptions {
  /** The compiled graph that uses the saver: lets the panel fork ("fork from here") and resume. */
  graph?: TimeTravelGraph;
}

/** At most one "changed" ping per database in this interval: a superstep commits several times. */
const PING_INTERVAL_MS = 50;

/**
 * Lets the juncture devtools extension show this saver's checkpoints, live. It tells the extension's content
 * script which database the page uses and pings it when that database changed; the content script reads the
 * data itself. With `graph`, the panel can also fork and resume the page's threads. Returns the function that
 * disconnects. Without the extension, the messages go unheard. A saver given `encryption` decrypts the values the
 * panel asks for here, in the page; without `connectDevtools` the panel shows them as "encrypted".
 */
export function connectDevtools(saver: InspectableSaver, options: ConnectDevtoolsOptions = {}): () => void {
  if (typeof window === 'undefined') return () => undefined;
  const { graph } = options;
  const post = (message: HookMessage) => window.postMessage(message, window.location.origin);
  const encrypted = saver.encrypted === true && saver.decryptStored !== undefined;
  const announce = () => post({ source: HOOK_SOURCE, type: 'announce', dbName: saver.dbName, timeTravel: graph !== undefined, encrypted });

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
    const done = request.action === 'fork' ? forkAt(graph, request.key, request.values) : resumeAt(graph, request.key);
    done.then(
      (forked) => post({ source: HOOK_SOURCE, type: 'time-travel-result', requestId, ok: true, ...(forked ? { checkpoint_id: forked.checkpoint_id } : {}) }),
      (error: unknown) =>
        post({ source: HOOK_SOURCE, type: 'time-travel-result', requestId, ok: false, error: error instanceof Error ? error.message : String(error) }),
    );
  };

  let pending: ReturnType<typeof setTimeout> | undefined;
  const unsubscribe = saver.subscribe(() => {
    pending ??= setTimeout(() => {
      pending = undefined;
      post({ source: HOOK_SOURCE, type: 'changed', dbName: saver.dbName });
    }, PING_INTERVAL_MS);
  });
  window.addEventListener('message', onMessage);
  announce();
  return () => {
    window.removeEventListener('message', onMessage);
    unsubscribe();
    if (pending !== undefined) clearTimeout(pending);
  };
}
