// Background script of the Firefox build. Firefox gives DevTools panels no `tabs` API, so the panel names its
// inspected tab and this script carries its requests and its port to that tab's content script. It keeps no
// state: a request is forwarded and answered, and each panel port lives exactly as long as its twin to the tab.
import { PANEL_PORT_NAME, isRelayRequest, readRelayPortTabId, type PanelResponse } from '../../src/devtools/protocol.js';

chrome.runtime.onMessage.addListener((message: unknown, sender, sendResponse: (response: PanelResponse) => void) => {
  if (sender.id !== chrome.runtime.id || !isRelayRequest(message)) return false;
  chrome.tabs.sendMessage(message.tabId, message.request).then(
    (response: PanelResponse | undefined) => sendResponse(response ?? { ok: false, error: 'The page did not answer; reload it so the extension can read it.' }),
    (error: unknown) => sendResponse({ ok: false, error: error instanceof Error ? error.message : String(error) }),
  );
  return true;
});

chrome.runtime.onConnect.addListener((panel) => {
  const tabId = readRelayPortTabId(panel.name);
  if (tabId === undefined || panel.sender?.id !== chrome.runtime.id) return;
  const page = chrome.tabs.connect(tabId, { name: PANEL_PORT_NAME });
  page.onMessage.addListener((message: unknown) => panel.postMessage(message));
  // Either end going away ends the other: the panel then reconnects as it does when a page reloads.
  page.onDisconnect.addListener(() => panel.disconnect());
  panel.onDisconnect.addListener(() => page.disconnect());
});
