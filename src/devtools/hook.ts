import type { ChangeListener } from '../storage/changes.js';
import { HOOK_SOURCE, readContentMessage, type HookMessage } from './protocol.js';
import type { GraphDescription } from './data-source.js';
import { describeGraph, forkAt, resumeAt, type TimeTravelGraph } from './time-travel.js';

/** What the devtools need of a saver: its database and its change notifications. */
export interface InspectableSaver {
  readonly dbName: string;
  subscribe(listener: ChangeListener): () => void;
}

export interface ConnectDevtoolsOptions {
  /** The compiled graph that uses the saver: the panel draws it, and can fork ("fork from here") and resume. */
  graph?: TimeTravelGraph;
}

/** At most one "changed" ping per database in this interval: a superstep commits several times. */
const PING_INTERVAL_MS = 50;

/**
 * Lets the juncture devtools extension show this saver's checkpoints, live. It tells the extension's content
 * script which database the page uses and pings it when that database changed; the content script reads the
 * data itself. With `graph`, the panel can also fork and resume the page's threads. Returns the function that
 * disconnects. Without the extension, the messages go unheard.
 */
export function connectDevtools(saver: InspectableSaver, options: ConnectDevtoolsOptions = {}): () => void {
  if (typeof window === 'undefined') return () => undefined;
  const { graph } = options;
  const post = (message: HookMessage) => window.postMessage(message, window.location.origin);
  const announce = () => post({ source: HOOK_SOURCE, type: 'announce', dbName: saver.dbName, timeTravel: graph !== undefined });

  const onMessage = (event: MessageEvent) => {
    const message = readContentMessage(event, window);
    if (!message) return;
    if (message.type === 'hello') {
      announce();
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
