/**
 * Every message between the devtools' execution contexts, in one place:
 * - page (MAIN world hook) ↔ content script (ISOLATED world), over `window.postMessage`;
 * - panel ↔ content script, over extension messaging (`chrome.tabs.sendMessage`, `chrome.tabs.connect`).
 * The page is untrusted: its messages only name databases; data is always read by the content script itself.
 */
import type { CheckpointKey, HistoryQuery } from './data-source.js';

export const HOOK_SOURCE = 'juncture-devtools:hook';
export const CONTENT_SOURCE = 'juncture-devtools:content';
export const PANEL_PORT_NAME = 'juncture-devtools:panel';

/** Page → content script: "this database is in use here" or "it changed". Nothing else. */
export interface HookMessage {
  source: typeof HOOK_SOURCE;
  type: 'announce' | 'changed';
  dbName: string;
}

/** Content script → page: "announce your databases" (the content script may load after the hook did). */
export interface ContentMessage {
  source: typeof CONTENT_SOURCE;
  type: 'hello';
}

/** Panel → content script, answered with a `PanelResponse`. */
export type PanelRequest =
  | { type: 'databases' }
  | { type: 'threads'; dbName: string }
  | { type: 'history'; dbName: string; query: HistoryQuery }
  | { type: 'checkpoint'; dbName: string; key: CheckpointKey };

export type PanelResponse = { ok: true; value: unknown } | { ok: false; error: string };

/** Content script → panel, over the port: `ready` when it connects (the page may be new), then `changed`. */
export type PanelPortMessage = { type: 'ready' } | { type: 'changed'; dbName: string };

const MAX_DB_NAME_LENGTH = 256;

/** A message from this page's own window, from our hook, well-formed; anything else is dropped. */
export function readHookMessage(event: MessageEvent, window: Window): HookMessage | undefined {
  if (event.source !== window || event.origin !== window.location.origin) return undefined;
  const data = event.data as Partial<HookMessage> | null;
  if (typeof data !== 'object' || data === null || data.source !== HOOK_SOURCE) return undefined;
  if (data.type !== 'announce' && data.type !== 'changed') return undefined;
  if (typeof data.dbName !== 'string' || data.dbName === '' || data.dbName.length > MAX_DB_NAME_LENGTH) return undefined;
  return { source: HOOK_SOURCE, type: data.type, dbName: data.dbName };
}

export function isContentHello(event: MessageEvent, window: Window): boolean {
  if (event.source !== window || event.origin !== window.location.origin) return false;
  const data = event.data as Partial<ContentMessage> | null;
  return typeof data === 'object' && data !== null && data.source === CONTENT_SOURCE && data.type === 'hello';
}

/** Panel requests come from our own extension, but are checked all the same before they reach IndexedDB. */
export function isPanelRequest(value: unknown): value is PanelRequest {
  const request = value as { type?: unknown; dbName?: unknown; query?: { thread_id?: unknown; limit?: unknown }; key?: { thread_id?: unknown; checkpoint_ns?: unknown; checkpoint_id?: unknown } } | null;
  if (typeof request !== 'object' || request === null) return false;
  switch (request.type) {
    case 'databases':
      return true;
    case 'threads':
      return typeof request.dbName === 'string';
    case 'history':
      return typeof request.dbName === 'string' && typeof request.query?.thread_id === 'string' && typeof request.query.limit === 'number';
    case 'checkpoint':
      return (
        typeof request.dbName === 'string' &&
        typeof request.key?.thread_id === 'string' &&
        typeof request.key.checkpoint_ns === 'string' &&
        typeof request.key.checkpoint_id === 'string'
      );
    default:
      return false;
  }
}
