// ISOLATED world, in every page: answers the panel with data it reads from the page origin's IndexedDB itself.
// From the page it accepts only names of databases (announce) and "changed" pings; never data.
import { readCheckpoint, readDatabaseNames, readHistory, readThreads } from '../../src/devtools/reader.js';
import {
  CONTENT_SOURCE,
  PANEL_PORT_NAME,
  isPanelRequest,
  readHookMessage,
  type ContentMessage,
  type PanelPortMessage,
  type PanelRequest,
  type PanelResponse,
} from '../../src/devtools/protocol.js';

/** Databases the page announced with `connectDevtools`: they ping on change. */
const announced = new Set<string>();
const panels = new Set<chrome.runtime.Port>();

function notifyPanels(dbName: string): void {
  const message: PanelPortMessage = { type: 'changed', dbName };
  for (const port of panels) port.postMessage(message);
}

window.addEventListener('message', (event) => {
  const message = readHookMessage(event, window);
  if (!message) return;
  if (message.type === 'announce') announced.add(message.dbName);
  notifyPanels(message.dbName);
});

// The page's hook may have announced before this script ran: ask again.
const hello: ContentMessage = { source: CONTENT_SOURCE, type: 'hello' };
window.postMessage(hello, window.location.origin);

async function answer(request: PanelRequest): Promise<unknown> {
  switch (request.type) {
    case 'databases':
      return (await readDatabaseNames(announced)).map((name) => ({ name, live: announced.has(name) }));
    case 'threads':
      return readThreads(request.dbName);
    case 'history':
      return readHistory(request.dbName, request.query);
    case 'checkpoint':
      return (await readCheckpoint(request.dbName, request.key)) ?? null;
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
