import type { CheckpointDataSource, CheckpointDetail, CheckpointKey, GraphDescription } from '../../src/devtools/data-source.js';
import {
  PANEL_PORT_NAME,
  RELAY_PORT_PREFIX,
  type PanelPortMessage,
  type PanelRequest,
  type PanelResponse,
  type RelayRequest,
} from '../../src/devtools/protocol.js';

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 4000;

/** How the panel reaches the inspected tab's content script: a request with its answer, and a port for pings. */
interface TabChannel {
  send(request: PanelRequest): Promise<PanelResponse | undefined>;
  connect(): chrome.runtime.Port;
}

/** Straight to the tab, as Chromium lets DevTools panels do. */
function directChannel(tabId: number): TabChannel {
  return {
    send: (request) => chrome.tabs.sendMessage(tabId, request),
    connect: () => chrome.tabs.connect(tabId, { name: PANEL_PORT_NAME }),
  };
}

/** Through the background relay, naming the tab: Firefox's DevTools panels have no `tabs` API. */
function relayedChannel(tabId: number): TabChannel {
  return {
    send: (request) => chrome.runtime.sendMessage({ type: 'relay', tabId, request } satisfies RelayRequest),
    connect: () => chrome.runtime.connect({ name: `${RELAY_PORT_PREFIX}${tabId}` }),
  };
}

/**
 * The panel's data source in the extension: requests go to the inspected tab's content script, which reads the
 * page's IndexedDB; "changed" pings come back over a port that is reopened whenever it drops (the page
 * reloaded or navigated). The build whose manifest declares a background script (Firefox's) goes through it;
 * nothing is kept there.
 */
export function createExtensionDataSource(tabId: number): CheckpointDataSource {
  const channel = chrome.runtime.getManifest().background ? relayedChannel(tabId) : directChannel(tabId);

  async function request<T>(message: PanelRequest): Promise<T> {
    const response = await channel.send(message);
    if (!response) throw new Error('The page did not answer; reload it so the extension can read it.');
    if (!response.ok) throw new Error(response.error);
    return response.value as T;
  }

  return {
    databases: () => request({ type: 'databases' }),
    threads: (dbName) => request({ type: 'threads', dbName }),
    history: (dbName, query) => request({ type: 'history', dbName, query }),
    checkpoint: async (dbName, key) => (await request<CheckpointDetail | null>({ type: 'checkpoint', dbName, key })) ?? undefined,
    search: (dbName, thread_id, text) => request({ type: 'search', dbName, thread_id, text }),
    exportThread: (dbName, thread_id) => request({ type: 'export', dbName, thread_id }),
    fork: async (dbName, key, values) => {
      const forked = await request<CheckpointKey | null>({ type: 'graph', request: { action: 'fork', dbName, key, values } });
      if (!forked) throw new Error('The page forked but named no checkpoint.');
      return forked;
    },
    resume: async (dbName, key, breakpoints) => {
      await request({ type: 'graph', request: { action: 'resume', dbName, key, ...(breakpoints ? { breakpoints } : {}) } });
    },
    graph: (dbName) => request<GraphDescription | null>({ type: 'graph', request: { action: 'describe', dbName } }),
    storeDatabases: () => request({ type: 'store-databases' }),
    storeNamespaces: (dbName) => request({ type: 'store-namespaces', dbName }),
    storeItems: (dbName, query) => request({ type: 'store-items', dbName, query }),
    subscribe(listener) {
      let port: chrome.runtime.Port | undefined;
      let stopped = false;
      let delay = RECONNECT_MIN_MS;
      let retry: ReturnType<typeof setTimeout> | undefined;
      const connect = () => {
        const connection = channel.connect();
        port = connection;
        connection.onMessage.addListener((message: PanelPortMessage) => {
          delay = RECONNECT_MIN_MS;
          // `ready`: a content script (perhaps of a reloaded page) answers: everything may have changed.
          listener(message.type === 'changed' ? message.dbName : '');
        });
        connection.onDisconnect.addListener(() => {
          if (stopped) return;
          retry = setTimeout(connect, delay);
          delay = Math.min(delay * 2, RECONNECT_MAX_MS);
        });
      };
      connect();
      return () => {
        stopped = true;
        if (retry !== undefined) clearTimeout(retry);
        port?.disconnect();
      };
    },
  };
}
