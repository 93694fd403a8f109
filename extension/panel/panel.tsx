// The "Checkpoints" panel, in DevTools or as a tab (`panel/panel.html?tabId=N`) where `chrome.devtools` is absent.
import { createRoot } from 'react-dom/client';
import { DevtoolsPanel } from '../../src/panel/DevtoolsPanel.js';
import { PANEL_CSS } from '../../src/panel/styles.js';
import { createExtensionDataSource } from './extension-source.js';

const style = document.createElement('style');
style.textContent = `html, body, #root { height: 100%; margin: 0; } ${PANEL_CSS}`;
document.head.append(style);

const tabId = chrome.devtools?.inspectedWindow.tabId ?? Number(new URLSearchParams(location.search).get('tabId'));
const theme = chrome.devtools?.panels.themeName === 'dark' ? 'dark' : chrome.devtools ? 'light' : 'auto';
const root = createRoot(document.getElementById('root')!);
if (!Number.isInteger(tabId) || tabId <= 0) {
  root.render(<p role="alert">No inspected tab: open this panel from DevTools, or as panel.html?tabId=N.</p>);
} else {
  root.render(<DevtoolsPanel source={createExtensionDataSource(tabId)} theme={theme} />);
}
