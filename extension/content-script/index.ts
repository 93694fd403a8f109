// ISOLATED world, in every page: answers the panel with data it reads from the page origin's IndexedDB itself.
// From the page it accepts only names of databases, "changed" pings, the outcome of requests to its graph, and
// the values of an encrypting saver it asked the page to decrypt.
import {
  readCheckpoint,
  readDatabaseNames,
  readHistory,
  readThreadExport,
  readThreads,
  searchThread,
  type ValueOpener,
} from '../../src/devtools/reader.js';
import type { GraphDescription } from '../../src/devtools/data-source.js';
import { readStoreDatabaseNames, readStoreItems, readStoreNamespaces } from '../../src/devtools/store-reader.js';
import type { TypedBytes } from '../../src/storage/records.js';
import {
  CONTENT_SOURCE,
  PANEL_PORT_NAME,
  isPanelRequest,
  readHookMessage,
  type ContentMessage,
  type PanelPortMessage,
  type PanelRequest,
  type GraphRequest,
  type PanelResponse,
} from '../../src/devtools/protocol.js';

/** How long the page's graph may take to fork, resume or describe itself before the panel is told it failed. */
const GRAPH_REQUEST_TIMEOUT_MS = 120_000;

/** How long the page may take to decrypt one value before it shows as unreadable. */
const DECRYPT_TIMEOUT_MS = 10_000;

/**
 * Databases (checkpoints or store) the page announced with `connectDevtools` (they ping on change), whether they
 * can time-travel, and whether their saver encrypts (then the page decrypts their values for the panel).
 */
const announced = new Map<string, { timeTravel: boolean; encrypted: boolean }>();
const panels = new Set<chrome.runtime.Port>();
interface GraphResult {
  checkpoint_id?: string;
  graph?: GraphDescription;
}
const graphRequests = new Map<string, { resolve(result: GraphResult): void; reject(error: Error): void }>();
const decryptions = new Map<string, { resolve(value: TypedBytes): void; reject(error: Error): void }>();

function notifyPanels(dbName: string): void {
  const message: PanelPortMessage = { type: 'changed', dbName };
  for (const port of panels) port.postMessage(message);
}

function postToPage(message: ContentMessage): void {
  window.postMessage(message, window.location.origin);
}

window.addEventListener('message', (event) => {
  const message = readHookMessage(event, window);
  if (!message) return;
  if (message.type === 'graph-result') {
    const pending = graphRequests.get(message.requestId);
    graphRequests.delete(message.requestId);
    if (message.ok) pending?.resolve({ ...(message.checkpoint_id ? { checkpoint_id: message.checkpoint_id } : {}), ...(message.graph ? { graph: message.graph } : {}) });
    else pending?.reject(new Error(message.error ?? 'The page\'s graph could not answer.'));
    return;
  }
  if (message.type === 'decrypt-result') {
    const pending = decryptions.get(message.requestId);
    decryptions.delete(message.requestId);
    if (message.ok && message.value) pending?.resolve(message.value);
    else pending?.reject(new Error(message.error ?? 'The page could not decrypt the value.'));
    return;
  }
  if (message.type === 'announce') announced.set(message.dbName, { timeTravel: message.timeTravel, encrypted: message.encrypted });
  notifyPanels(message.dbName);
});

// The page's hook may have announced before this script ran: ask again.
postToPage({ source: CONTENT_SOURCE, type: 'hello' });

/**
 * Asks the page's hook to fork, resume or describe its graph; the page answers with a status, a checkpoint id
 * or the graph's description, and the panel re-reads IndexedDB itself.
 */
function askGraph(request: GraphRequest): Promise<GraphResult> {
  if (!announced.get(request.dbName)?.timeTravel) {
    return Promise.reject(new Error(`The page did not pass a graph to connectDevtools for "${request.dbName}".`));
  }
  const requestId = crypto.randomUUID();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      graphRequests.delete(requestId);
      reject(new Error('The page did not answer the request to its graph.'));
    }, GRAPH_REQUEST_TIMEOUT_MS);
    graphRequests.set(requestId, {
      resolve: (result) => {
        clearTimeout(timer);
        resolve(result);
      },
      reject: (error) => {
        clearTimeout(timer);
        reject(error);
      },
    });
    postToPage({ source: CONTENT_SOURCE, type: 'graph-request', requestId, request });
  });
}

/** The answer the panel gets: the forked checkpoint's key, the graph's description, or nothing for a resume. */
async function graphAnswer(request: GraphRequest): Promise<unknown> {
  if (request.action === 'describe' && !announced.get(request.dbName)?.timeTravel) return null;
  const result = await askGraph(request);
  if (request.action === 'fork') {
    return result.checkpoint_id ? { thread_id: request.key.thread_id, checkpoint_ns: request.key.checkpoint_ns, checkpoint_id: result.checkpoint_id } : null;
  }
  return request.action === 'describe' ? (result.graph ?? null) : null;
}

/** For a database whose saver encrypts, asks the page to decrypt each value; otherwise encrypted values stay so. */
function openerOf(dbName: string): ValueOpener | undefined {
  if (!announced.get(dbName)?.encrypted) return undefined;
  return (value) =>
    new Promise((resolve, reject) => {
      const requestId = crypto.randomUUID();
      const timer = setTimeout(() => {
        decryptions.delete(requestId);
        reject(new Error('The page did not answer.'));
      }, DECRYPT_TIMEOUT_MS);
      decryptions.set(requestId, {
        resolve: (opened) => {
          clearTimeout(timer);
          resolve(opened);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      postToPage({ source: CONTENT_SOURCE, type: 'decrypt', requestId, dbName, value });
    });
}

async function answer(request: PanelRequest): Promise<unknown> {
  switch (request.type) {
    case 'databases':
      return (await readDatabaseNames(announced.keys())).map((name) => ({
        name,
        live: announced.has(name),
        timeTravel: announced.get(name)?.timeTravel ?? false,
      }));
    case 'threads':
      return readThreads(request.dbName, openerOf(request.dbName));
    case 'history':
      return readHistory(request.dbName, request.query, openerOf(request.dbName));
    case 'checkpoint':
      return (await readCheckpoint(request.dbName, request.key, openerOf(request.dbName))) ?? null;
    case 'search':
      return searchThread(request.dbName, request.thread_id, request.text, openerOf(request.dbName));
    case 'export':
      return readThreadExport(request.dbName, request.thread_id, openerOf(request.dbName));
    case 'graph':
      return graphAnswer(request.request);
    case 'store-databases':
      return readStoreDatabaseNames(announced.keys());
    case 'store-namespaces':
      return readStoreNamespaces(request.dbName);
    case 'store-items':
      return readStoreItems(request.dbName, request.query);
  }
}

chrome.runtime.onMessage.addListener((request: unknown, sender, sendResponse: (response: PanelResponse) => void) => {
  if (sender.id !== chrome.runtime.id) return false;
  if (!isPanelRequest(request)) {
    sendResponse({ ok: false, error: 'Unknown request.' });
    return false;
  }
  answer(request).then(
    (value) => sendResponse({ ok: true, value }),
    (error: unknown) => sendResponse({ ok: false, error: error instanceof Error ? error.message : String(error) }),
  );
  return true;
});

chrome.runtime.onConnect.addListener((port) => {
  if (port.name !== PANEL_PORT_NAME || port.sender?.id !== chrome.runtime.id) return;
  panels.add(port);
  port.onDisconnect.addListener(() => panels.delete(port));
  const ready: PanelPortMessage = { type: 'ready' };
  port.postMessage(ready);
});
