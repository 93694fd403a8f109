/**
 * Every message between the devtools' execution contexts, in one place:
 * - page (MAIN world hook) ↔ content script (ISOLATED world), over `window.postMessage`;
 * - panel ↔ content script, over extension messaging (`chrome.tabs.sendMessage`, `chrome.tabs.connect`);
 * - in Firefox, whose DevTools panels have no `tabs` API, panel ↔ background relay ↔ content script.
 * The page is untrusted: its messages only name databases; data is always read by the content script itself. The
 * one exception is an encrypting saver's: the content script reads the encrypted value and asks the page, which
 * holds the key, to decrypt it; the page's answer is decoded as JSON and shown as text like any value.
 */
import type { TypedBytes } from '../storage/records.js';
import { isByteArray } from './bytes.js';
import type { Breakpoints, CheckpointKey, GraphDescription, HistoryQuery, JsonValue, StoreItemQuery } from './data-source.js';

export const HOOK_SOURCE = 'juncture-devtools:hook';
export const CONTENT_SOURCE = 'juncture-devtools:content';
export const PANEL_PORT_NAME = 'juncture-devtools:panel';
/** A panel's port to the background relay is named this, followed by the inspected tab's id. */
export const RELAY_PORT_PREFIX = 'juncture-devtools:relay:';

/**
 * Page → content script: "this database is in use here (and its graph can time-travel, its saver encrypts)", "it
 * changed", the outcome of a request to the page's graph (a forked checkpoint's id, or the graph's description),
 * or a value it was asked to decrypt.
 */
export type HookMessage =
  | { source: typeof HOOK_SOURCE; type: 'announce'; dbName: string; timeTravel: boolean; encrypted: boolean }
  | { source: typeof HOOK_SOURCE; type: 'changed'; dbName: string }
  | {
      source: typeof HOOK_SOURCE;
      type: 'graph-result';
      requestId: string;
      ok: boolean;
      checkpoint_id?: string;
      graph?: GraphDescription;
      error?: string;
    }
  | { source: typeof HOOK_SOURCE; type: 'decrypt-result'; requestId: string; ok: boolean; value?: TypedBytes; error?: string };

/** What the panel asks of the page's graph: fork, resume (with breakpoints), or its description. */
export type GraphRequest =
  | { action: 'fork'; dbName: string; key: CheckpointKey; values: Record<string, JsonValue> }
  | { action: 'resume'; dbName: string; key: CheckpointKey; breakpoints?: Breakpoints }
  | { action: 'describe'; dbName: string };

/**
 * Content script → page: "announce your databases" (it may load after the hook did), a request to its graph, or
 * an encrypted value (as stored) to decrypt.
 */
export type ContentMessage =
  | { source: typeof CONTENT_SOURCE; type: 'hello' }
  | { source: typeof CONTENT_SOURCE; type: 'graph-request'; requestId: string; request: GraphRequest }
  | { source: typeof CONTENT_SOURCE; type: 'decrypt'; requestId: string; dbName: string; value: TypedBytes };

/** Panel → content script, answered with a `PanelResponse`. */
export type PanelRequest =
  | { type: 'databases' }
  | { type: 'threads'; dbName: string }
  | { type: 'history'; dbName: string; query: HistoryQuery }
  | { type: 'checkpoint'; dbName: string; key: CheckpointKey }
  | { type: 'search'; dbName: string; thread_id: string; text: string }
  | { type: 'export'; dbName: string; thread_id: string }
  | { type: 'graph'; request: GraphRequest }
  | { type: 'store-databases' }
  | { type: 'store-namespaces'; dbName: string }
  | { type: 'store-items'; dbName: string; query: StoreItemQuery };

export type PanelResponse = { ok: true; value: unknown } | { ok: false; error: string };

/** Content script → panel, over the port: `ready` when it connects (the page may be new), then `changed`. */
export type PanelPortMessage = { type: 'ready' } | { type: 'changed'; dbName: string };

const MAX_NAME_LENGTH = 256;
const MAX_ERROR_LENGTH = 2000;
/** Far beyond any agent's graph; a page that sends more is not describing one. */
const MAX_GRAPH_NODES = 2000;
const MAX_GRAPH_EDGES = 10_000;

const isName = (value: unknown): value is string => typeof value === 'string' && value !== '' && value.length <= MAX_NAME_LENGTH;

function isCheckpointKey(value: unknown): value is CheckpointKey {
  const key = value as Partial<CheckpointKey> | null;
  return typeof key === 'object' && key !== null && isName(key.thread_id) && typeof key.checkpoint_ns === 'string' && isName(key.checkpoint_id);
}

function isTypedBytes(value: unknown): value is TypedBytes {
  const typed = value as Partial<TypedBytes> | null;
  return typeof typed === 'object' && typed !== null && isName(typed.type) && isByteArray(typed.bytes);
}

const isNameList = (value: unknown): value is string[] => Array.isArray(value) && value.length <= MAX_GRAPH_NODES && value.every(isName);

function isBreakpoints(value: unknown): value is Breakpoints {
  const breakpoints = value as Partial<Breakpoints> | null;
  return typeof breakpoints === 'object' && breakpoints !== null && isNameList(breakpoints.interruptBefore) && isNameList(breakpoints.interruptAfter);
}

function isGraphRequest(value: unknown): value is GraphRequest {
  const request = value as { action?: unknown; dbName?: unknown; key?: unknown; values?: unknown; breakpoints?: unknown } | null;
  if (typeof request !== 'object' || request === null || !isName(request.dbName)) return false;
  if (request.action === 'describe') return true;
  if (!isCheckpointKey(request.key)) return false;
  if (request.action === 'resume') return request.breakpoints === undefined || isBreakpoints(request.breakpoints);
  return request.action === 'fork' && typeof request.values === 'object' && request.values !== null && !Array.isArray(request.values);
}

/** A graph description from the page, rebuilt from checked fields: names and labels are shown as text only. */
function readGraphDescription(value: unknown): GraphDescription | undefined {
  const graph = value as { nodes?: unknown; edges?: unknown } | null;
  if (typeof graph !== 'object' || graph === null || !Array.isArray(graph.nodes) || !Array.isArray(graph.edges)) return undefined;
  if (graph.nodes.length > MAX_GRAPH_NODES || graph.edges.length > MAX_GRAPH_EDGES) return undefined;
  const nodes: GraphDescription['nodes'] = [];
  for (const node of graph.nodes as { id?: unknown; name?: unknown }[]) {
    if (!isName(node?.id) || !isName(node.name)) return undefined;
    nodes.push({ id: node.id, name: node.name });
  }
  const edges: GraphDescription['edges'] = [];
  for (const edge of graph.edges as { source?: unknown; target?: unknown; conditional?: unknown; label?: unknown }[]) {
    if (!isName(edge?.source) || !isName(edge.target)) return undefined;
    const label = isName(edge.label) ? edge.label : null;
    edges.push({ source: edge.source, target: edge.target, conditional: edge.conditional === true, label });
  }
  return { nodes, edges };
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
      ? { source: HOOK_SOURCE, type: 'announce', dbName: data['dbName'], timeTravel: data['timeTravel'] === true, encrypted: data['encrypted'] === true }
      : { source: HOOK_SOURCE, type: 'changed', dbName: data['dbName'] };
  }
  if (data['type'] === 'graph-result' && isName(data['requestId']) && typeof data['ok'] === 'boolean') {
    const result: HookMessage = { source: HOOK_SOURCE, type: 'graph-result', requestId: data['requestId'], ok: data['ok'] };
    if (isName(data['checkpoint_id'])) result.checkpoint_id = data['checkpoint_id'];
    const graph = readGraphDescription(data['graph']);
    if (graph) result.graph = graph;
    if (typeof data['error'] === 'string') result.error = data['error'].slice(0, MAX_ERROR_LENGTH);
    return result;
  }
  if (data['type'] === 'decrypt-result' && isName(data['requestId']) && typeof data['ok'] === 'boolean') {
    const result: HookMessage = { source: HOOK_SOURCE, type: 'decrypt-result', requestId: data['requestId'], ok: data['ok'] && isTypedBytes(data['value']) };
    if (result.ok) result.value = { type: (data['value'] as TypedBytes).type, bytes: (data['value'] as TypedBytes).bytes };
    else result.error = typeof data['error'] === 'string' ? data['error'].slice(0, MAX_ERROR_LENGTH) : 'The page sent no value.';
    return result;
  }
  return undefined;
}

/** A content-script message as the page's hook receives it (the page cannot tell who posted it). */
export function readContentMessage(event: MessageEvent, window: Window): ContentMessage | undefined {
  const data = fromThisWindow(event, window, CONTENT_SOURCE);
  if (!data) return undefined;
  if (data['type'] === 'hello') return { source: CONTENT_SOURCE, type: 'hello' };
  if (data['type'] === 'graph-request' && isName(data['requestId']) && isGraphRequest(data['request'])) {
    return { source: CONTENT_SOURCE, type: 'graph-request', requestId: data['requestId'], request: data['request'] };
  }
  if (data['type'] === 'decrypt' && isName(data['requestId']) && isName(data['dbName']) && isTypedBytes(data['value'])) {
    const { type, bytes } = data['value'];
    return { source: CONTENT_SOURCE, type: 'decrypt', requestId: data['requestId'], dbName: data['dbName'], value: { type, bytes } };
  }
  return undefined;
}

/** Panel requests come from our own extension, but are checked all the same before they reach IndexedDB. */
export function isPanelRequest(value: unknown): value is PanelRequest {
  const request = value as {
    type?: unknown;
    dbName?: unknown;
    thread_id?: unknown;
    text?: unknown;
    query?: { thread_id?: unknown; limit?: unknown; namespace?: unknown; text?: unknown };
    key?: unknown;
    request?: unknown;
  } | null;
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
    case 'graph':
      return isGraphRequest(request.request);
    case 'store-databases':
      return true;
    case 'store-namespaces':
      return isName(request.dbName);
    case 'store-items':
      return (
        isName(request.dbName) &&
        Array.isArray(request.query?.namespace) &&
        request.query.namespace.every((label) => typeof label === 'string') &&
        (request.query.text === undefined || typeof request.query.text === 'string') &&
        typeof request.query.limit === 'number'
      );
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
