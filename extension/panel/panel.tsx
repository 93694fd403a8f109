// The "Checkpoints" panel, in DevTools or as a tab (`panel/panel.html?tabId=N`) where `chrome.devtools` is absent.
import { createRoot } from 'react-dom/client';
import { CheckpointsPanel } from '../../src/panel/CheckpointsPanel.js';
import { createExtensionDataSource } from './extension-source.js';

const tabId = chrome.devtools?.inspectedWindow.tabId ?? Number(new URLSearchParams(location.search).get('tabId'));
const root = createRoot(document.getElementById('root')!);
if (!Number.isInteger(tabId) || tabId <= 0) {
  root.render(<p role="alert">No inspected tab: open this panel from DevTools, or as panel.html?tabId=N.</p>);
} else {
  root.render(<CheckpointsPanel source={createExtensionDataSource(tabId)} />);
}
