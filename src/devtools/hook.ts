import type { ChangeListener } from '../storage/changes.js';
import { HOOK_SOURCE, isContentHello, type HookMessage } from './protocol.js';

/** What the devtools need of a saver: its database and its change notifications. */
export interface InspectableSaver {
  readonly dbName: string;
  subscribe(listener: ChangeListener): () => void;
}

/** At most one "changed" ping per database in this interval: a superstep commits several times. */
const PING_INTERVAL_MS = 50;

/**
 * Lets the juncture devtools extension show this saver's checkpoints, live. It tells the extension's content
 * script which database the page uses and pings it when that database changed; the content script reads the
 * data itself. Returns the function that disconnects. Without the extension, the messages go unheard.
 */
export function connectDevtools(saver: InspectableSaver): () => void {
  if (typeof window === 'undefined') return () => undefined;
  const post = (type: HookMessage['type']) => {
    const message: HookMessage = { source: HOOK_SOURCE, type, dbName: saver.dbName };
    window.postMessage(message, window.location.origin);
  };
  const onMessage = (event: MessageEvent) => {
    if (isContentHello(event, window)) post('announce');
  };
  let pending: ReturnType<typeof setTimeout> | undefined;
  const unsubscribe = saver.subscribe(() => {
    pending ??= setTimeout(() => {
      pending = undefined;
      post('changed');
    }, PING_INTERVAL_MS);
  });
  window.addEventListener('message', onMessage);
  post('announce');
  return () => {
    window.removeEventListener('message', onMessage);
    unsubscribe();
    if (pending !== undefined) clearTimeout(pending);
  };
}
