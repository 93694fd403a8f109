// The panel row: how long until a long thread is interactive in the devtools panel, rendered as an app renders it.
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import type { CheckpointDataSource } from '../../src/devtools/data-source.js';
import { DevtoolsPanel } from '../../src/panel/DevtoolsPanel.js';
import { PANEL_CSS } from '../../src/panel/styles.js';

const PANEL_WIDTH = 1200;
const PANEL_HEIGHT = 700;
const ROW_SELECTOR = '.juncture-timeline [role="option"]';

const style = document.createElement('style');
style.textContent = PANEL_CSS;
document.head.append(style);

/** Resolves with `found()` once it is defined, checked after every change under `root` (and at once). */
function whenFound<T>(root: Node, found: () => T | undefined): Promise<T> {
  return new Promise((resolve) => {
    const now = found();
    if (now !== undefined) return resolve(now);
    const observer = new MutationObserver(() => {
      const value = found();
      if (value === undefined) return;
      observer.disconnect();
      resolve(value);
    });
    observer.observe(root, { childList: true, subtree: true, attributes: true, attributeFilter: ['aria-selected'] });
  });
}

/**
 * Milliseconds from rendering the panel over `source` until its timeline shows rows and a click on the second
 * row is reflected as that row's selection: the time until a user can work with the thread.
 */
export async function timeUntilInteractive(source: CheckpointDataSource): Promise<number> {
  const container = document.createElement('div');
  container.style.cssText = `width: ${PANEL_WIDTH}px; height: ${PANEL_HEIGHT}px;`;
  document.body.append(container);
  const root = createRoot(container);
  try {
    const start = performance.now();
    root.render(createElement(DevtoolsPanel, { source, theme: 'light' }));
    const second = await whenFound(container, () => container.querySelectorAll<HTMLElement>(ROW_SELECTOR)[1]);
    const id = second.dataset['checkpointId'];
    second.click();
    // Looked up again each time: the row may be rendered anew once selected.
    await whenFound(container, () => container.querySelector(`${ROW_SELECTOR}[data-checkpoint-id="${id}"][aria-selected="true"]`) ?? undefined);
    return performance.now() - start;
  } finally {
    root.unmount();
    container.remove();
  }
}
