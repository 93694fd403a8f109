/**
 * Every message between the devtools' execution contexts, in one place:
 * - page (MAIN world hook) ↔ content script (ISOLATED world), over `window.postMessage`;
 * - panel ↔ content script, over extension messaging (`chrome.tabs.sendMessage`, `chrome.tabs.connect`);
 * - in Firefox, whose DevTools panels have no `tabs` API, panel ↔ background relay ↔ content script.
 * The page is untrusted: its messages only name databases; data is always read by the content script itself.
 */
import type { CheckpointKey, HistoryQuery, JsonValue } from './data-source.js';

export const HOOK_SOURCE = 'juncture-devtools:hook';
export const CONTENT_SOURCE = 'juncture-devtools:content';
export const PANEL_PORT_NAME = 'juncture-devtools:panel';
/** A panel's port to the background relay is named this, followed by the inspected tab's id. */
export const RELAY_PORT_PREFIX = 'juncture-devtools:relay:';

/**
 * Page → content script: "this database is in use here (and its graph can time-travel)", "it changed", or the
 * outcome of a time-travel request. Never checkpoint data.
 */
export type HookMessage =
  | { source: typeof HOOK_SOURCE; type: 'announce'; dbName: string; timeTravel: boolean }
  | { source: typeof HOOK_SOURCE; type: 'changed'; dbName: string }
  | { source: typeof HOOK_SOURCE; type: 'time-travel-result'; requestId: string; ok: boolean; checkpoint_id?: string; error?: string };

export type TimeTravelRequest =
  | { action: 'fork'; dbName: string; key: CheckpointKey; values: Record<string, JsonValue> }
  | { action: 'resume'; dbName: string; key: CheckpointKey };

/** Content script → page: "announce your databases" (it may load after the hook did), or a time-travel request. */
export type ContentMessage =
  | { source: typeof CONTENT_SOURCE; type: 'hello' }
  | { source: typeof CONTENT_SOURCE; type: 'time-travel'; requestId: string; request: TimeTravelRequest };

/** Panel → content script, answered with a `PanelResponse`. */
export type PanelRequest =
  | { type: 'databases' }
  | { type: 'threads'; dbName: string }
  | { type: 'history'; dbName: string; query: HistoryQuery }
  | { type: 'checkpoint'; dbName: string; key: CheckpointKey }
  | { type: 'search'; dbName: string; thread_id: string; text: string }
  | { type: 'export'; dbName: string; thread_id: string }
  | { type: 'time-travel'; request: TimeTravelRequest };

export type PanelResponse = { ok: true; value: unknown } | { ok: false; error: string };

/** Content script → panel, over the port: `ready` when it connects (the page may be new), then `changed`. */
export type PanelPortMessage = { type: 'ready' } | { type: 'changed'; dbName: string };

const MAX_NAME_LENGTH = 256;
const MAX_ERROR_LENGTH = 2000;

const isName = (value: unknown): value is string => typeof value === 'string' && value !== '' && value.length <= MAX_NAME_LENGTH;

function isCheckpointKey(value: unknown): value is CheckpointKey {
  const key = value as Partial<CheckpointKey> | null;
  return typeof key === 'object' && key !== null && isName(key.thread_id) && typeof key.checkpoint_ns === 'string' && isName(key.checkpoint_id);
}

function isTimeTravelRequest(value: unknown): value is TimeTravelRequest {
  const request = value as { action?: unknown; dbName?: unknown; key?: unknown; values?: unknown } | null;
  if (typeof request !== 'object' || request === null || !isName(request.dbName) || !isCheckpointKey(request.key)) return false;
  if (request.action === 'resume') return true;
  return request.action === 'fork' && typeof request.values === 'object' && request.values !== null && !Array.isArray(request.values);
}

/** The message, rebuilt from checked fields, if it comes from this page's own window; anything else is dropped. */
function fromThisWindow(event: MessageEvent, window: Window, source: string): Record<string, unknown> | undefined {
  if (event.source !== window || event.origin !== window.location.origin) return undefined;
  const data = event.data as Record<string, unknown> | null;
  return typeof data === 'object' && data !== null && data['source'] === source ? data : undefined;
}

/** A hook message, well-formed and rebuilt from its checked fields only. */
export function readHookMessage(event: MessageEvent, window: Window): HookMessage | undefined {
  const data = fromThisWindow(event, window, HOOK_SOURCE);
  if (!data) return undefined;
  if ((data['type'] === 'announce' || data['type'] === 'changed') && isName(data['dbName'])) {
    return data['type'] === 'announce'
      ? { source: HOOK_SOURCE, type: 'announce', dbName: data['dbName'], timeTravel: data['timeTravel'] === true }
      : { source: HOOK_SOURCE, type: 'changed', dbName: data['dbName'] };
  }
  if (data['type'] === 'time-travel-result' && isName(data['requestId']) && typeof data['ok'] === 'boolean') {
    const result: HookMessage = { source: HOOK_SOURCE, type: 'time-travel-result', requestId: data['requestId'], ok: data['ok'] };
    if (isName(data['checkpoint_id'])) result.checkpoint_id = data['checkpoint_id'];
    if (typeof data['error'] === 'string') result.error = data['error'].slice(0, MAX_ERROR_LENGTH);
    return result;
  }
  return undefined;
}

/** A content-script message as the page's hook receives it (the page cannot tell who posted it). */
export function readContentMessage(event: MessageEvent, window: Window): ContentMessage | undefined {
  const data = fromThisWindow(event, window, CONTENT_SOURCE);
  if (!data) return undefined;
  if (data['type'] === 'hello') return { source: CONTENT_SOURCE, type: 'hello' };
  if (data['type'] === 'time-travel' && isName(data['requestId']) && isTimeTravelRequest(data['request'])) {
    return { source: CONTENT_SOURCE, type: 'time-travel', requestId: data['requestId'], request: data['request'] };
  }
  return undefined;
}

/** Panel requests come from our own extension, but are checked all the same before they reach IndexedDB. */
export function isPanelRequest(value: unknown): value is PanelRequest {
  const request = value as { type?: unknown; dbName?: unknown; thread_id?: unknown; text?: unknown; query?: { thread_id?: unknown; limit?: unknown }; key?: unknown; request?: unknown } | null;
  if (typeof request !== 'object' || request === null) return false;
  switch (request.type) {
    case 'databases':
      return true;
    case 'threads':
      return isName(request.dbName);
    case 'history':
      return isName(request.dbName) && isName(request.query?.thread_id) && typeof request.query.limit === 'number';
    case 'checkpoint':
      return isName(request.dbName) && isCheckpointKey(request.key);
    case 'search':
      return isName(request.dbName) && isName(request.thread_id) && typeof request.text === 'string';
    case 'export':
      return isName(request.dbName) && isName(request.thread_id);
    case 'time-travel':
      return isTimeTravelRequest(request.request);
    default:
      return false;
  }
}

/** Panel → background relay (Firefox): a panel request for the content script of the tab it names. */
export type RelayRequest = { type: 'relay'; tabId: number; request: PanelRequest };

/** A relay request from one of our own pages, with a tab id and a well-formed panel request. */
export function isRelayRequest(value: unknown): value is RelayRequest {
  const relay = value as { type?: unknown; tabId?: unknown; request?: unknown } | null;
  return typeof relay === 'object' && relay !== null && relay.type === 'relay' && isTabId(relay.tabId) && isPanelRequest(relay.request);
}

/** The inspected tab's id in a relay port's name, or undefined when the name is not one. */
export function readRelayPortTabId(portName: string): number | undefined {
  if (!portName.startsWith(RELAY_PORT_PREFIX)) return undefined;
  const tabId = Number(portName.slice(RELAY_PORT_PREFIX.length));
  return isTabId(tabId) ? tabId : undefined;
}

function isTabId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}
