import { createRoot } from 'react-dom/client';
import type { InspectableSaver, InspectableStore } from '../devtools/hook.js';
import { createPageDataSource, type InspectedSaver } from '../devtools/page-source.js';
import type { TimeTravelGraph } from '../devtools/time-travel.js';
import { DevtoolsPanel, type PanelTheme } from './DevtoolsPanel.js';
import { PANEL_CSS } from './styles.js';

export interface MountDevtoolsPanelOptions {
  /** The page's saver; or several, with `savers`. */
  saver?: InspectableSaver;
  /** The graph that uses `saver`: the Graph tab draws it, and "fork from here" and "resume from here" turn on. */
  graph?: TimeTravelGraph;
  savers?: InspectedSaver[];
  /** The page's long-term memory store (`BrowserStore`, `WorkerStore`), shown in the Store view. */
  store?: InspectableStore;
  theme?: PanelTheme;
  /** Open the panel at once instead of showing only the toggle button. */
  open?: boolean;
  /** The corner of the toggle button; bottom right by default. */
  position?: 'bottom-right' | 'bottom-left';
}

export interface MountedDevtoolsPanel {
  open(): void;
  close(): void;
  toggle(): void;
  /** Removes the button and the panel from the page. */
  unmount(): void;
}

const FRAME_CSS = `
:host { all: initial; }
.toggle { position: fixed; bottom: 12px; z-index: 2147483646; font: 600 12px system-ui, sans-serif; padding: 6px 10px;
  border-radius: 16px; border: 1px solid #0969da; background: #0969da; color: #fff; cursor: pointer; box-shadow: 0 1px 4px rgb(0 0 0 / 0.3); }
.toggle.bottom-right { right: 12px; } .toggle.bottom-left { left: 12px; }
.drawer { position: fixed; left: 0; right: 0; bottom: 0; height: 45vh; z-index: 2147483645; border-top: 2px solid #0969da; background: #fff; }
.drawer[hidden] { display: none; }
`;

/**
 * Adds a small "Checkpoints" button to the page that opens the devtools panel over the page's own saver (and
 * store), with no extension installed. Styles live in a shadow root, so the page's CSS and the panel's never mix.
 */
export function mountDevtoolsPanel(options: MountDevtoolsPanelOptions): MountedDevtoolsPanel {
  const inspected = options.savers ?? (options.saver ? [{ saver: options.saver, ...(options.graph ? { graph: options.graph } : {}) }] : []);
  const stores = options.store ? [options.store] : [];
  if (inspected.length === 0 && stores.length === 0) throw new TypeError('mountDevtoolsPanel needs a saver (or savers, or a store) to inspect.');
  const host = document.createElement('div');
  host.setAttribute('data-juncture-devtools', '');
  const shadow = host.attachShadow({ mode: 'open' });
  const style = document.createElement('style');
  style.textContent = FRAME_CSS + PANEL_CSS;
  const toggleButton = document.createElement('button');
  toggleButton.className = `toggle ${options.position ?? 'bottom-right'}`;
  toggleButton.textContent = 'Checkpoints';
  toggleButton.setAttribute('aria-expanded', 'false');
  const drawer = document.createElement('div');
  drawer.className = 'drawer';
  drawer.hidden = true;
  drawer.setAttribute('role', 'dialog');
  drawer.setAttribute('aria-label', 'Checkpoints');
  shadow.append(style, toggleButton, drawer);
  document.body.append(host);

  const root = createRoot(drawer);
  const source = createPageDataSource(inspected, stores);
  let rendered = false;
  const setOpen = (open: boolean) => {
    drawer.hidden = !open;
    toggleButton.setAttribute('aria-expanded', String(open));
    if (open && !rendered) {
      rendered = true;
      root.render(<DevtoolsPanel source={source} theme={options.theme ?? 'auto'} />);
    }
  };
  toggleButton.addEventListener('click', () => setOpen(drawer.hidden));
  if (options.open) setOpen(true);

  return {
    open: () => setOpen(true),
    close: () => setOpen(false),
    toggle: () => setOpen(drawer.hidden),
    unmount: () => {
      root.unmount();
      host.remove();
    },
  };
}
