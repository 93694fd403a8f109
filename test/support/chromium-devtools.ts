// Chromium with DevTools open on the inspected tab, and an extension's panel shown in it, from Node.
// DevTools windows exist only in a headful Chromium, so it runs under Debian's `xvfb-run` on a display of its own.
// Showing a panel and reaching its frame go through DevTools' own (internal) modules: they are confined to
// `showExtensionPanel` below, which says so when they fail.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type Frame, type Page } from 'puppeteer-core';
import { CHROMIUM_FLAGS, findChromium, findXvfbRun } from '../../scripts/chromium.mjs';
import { waitForDevtoolsEndpoint } from './devtools-endpoint.js';

/** The size of the virtual screen and of the browser window on it. */
export const DEVTOOLS_SCREEN = { width: 1400, height: 1000 };
/** The height of DevTools docked under the inspected tab. */
const DEVTOOLS_HEIGHT = 700;

export interface ChromiumWithDevtools {
  browser: Browser;
  /** The tab (not a DevTools window) whose address starts with `url`. */
  tab(url: string): Promise<Page>;
  /** Ends Chromium, then xvfb-run and its X server. */
  close(): Promise<void>;
}

/**
 * Launches a headful Chromium under `xvfb-run` on a persistent profile with an unpacked extension, opening `url`
 * with DevTools docked at the bottom of its tab (`--auto-open-devtools-for-tabs`), and connects puppeteer-core.
 */
export async function launchChromiumWithDevtools(profileDir: string, options: { extensionDir: string; url: string }): Promise<ChromiumWithDevtools> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error('No Chromium found: run `npm test`, which installs one, or set CHROME_PATH.');
  const xvfbRun = findXvfbRun();
  if (!xvfbRun) throw new Error('No xvfb-run found: run `npm test`, which installs Debian\'s xvfb, or set XVFB_RUN_PATH.');
  // DevTools reads where to dock, and how tall it is docked at the bottom, from the profile's preferences (each a
  // JSON string inside JSON, as it stores them): tall enough for the panel's graph, the page keeps the rest.
  mkdirSync(join(profileDir, 'Default'), { recursive: true });
  const preferences = {
    currentDockState: JSON.stringify('bottom'),
    'inspector-view.split-view-state': JSON.stringify({ horizontal: { size: DEVTOOLS_HEIGHT } }),
  };
  writeFileSync(join(profileDir, 'Default/Preferences'), JSON.stringify({ devtools: { preferences } }));
  const extensionDir = resolve(options.extensionDir);
  const { width, height } = DEVTOOLS_SCREEN;
  // Detached: Chromium, xvfb-run and Xvfb form one process group, ended together by `close`.
  const child = spawn(
    xvfbRun,
    [
      '--auto-servernum',
      `--server-args=-screen 0 ${width}x${height}x24 -nolisten tcp`,
      executablePath,
      ...CHROMIUM_FLAGS,
      `--user-data-dir=${profileDir}`,
      '--remote-debugging-port=0',
      `--disable-extensions-except=${extensionDir}`,
      `--load-extension=${extensionDir}`,
      '--auto-open-devtools-for-tabs',
      '--window-position=0,0',
      `--window-size=${width},${height}`,
      options.url,
    ],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = once(child, 'exit');
  const running = () => child.exitCode === null && child.signalCode === null;
  /** Chromium closed (by `Browser.close` or the signal), xvfb-run removes its display and exits. */
  const stop = async (browser?: Browser) => {
    if (!running()) return;
    await browser?.close().catch(() => undefined);
    const timer = setTimeout(() => running() && process.kill(-child.pid!, 'SIGTERM'), browser ? 10_000 : 0);
    await exited;
    clearTimeout(timer);
  };
  try {
    const browser = await puppeteer.connect({ browserWSEndpoint: await waitForDevtoolsEndpoint(child, 'Chromium under xvfb-run', 60_000), defaultViewport: null, handleDevToolsAsPage: true });
    return {
      browser,
      tab: async (url) => {
        const target = await browser.waitForTarget((candidate) => candidate.type() === 'page' && candidate.url().startsWith(url));
        return (await target.page())!;
      },
      close: () => stop(browser),
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** What failing to show a panel means, so that a DevTools update reads as one and not as a broken panel. */
function internalsFailed(step: string, cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new Error(
    `Could not ${step} through DevTools internals (ui/legacy/legacy.js, ViewManager): this Chromium's DevTools may ` +
      `have changed, see test/support/chromium-devtools.ts. Cause: ${reason}`,
  );
}

/**
 * Shows the panel an extension added to the DevTools window of the inspected tab, by its title, and returns the
 * panel's frame (found by its URL). The view's id and the module that holds the views are DevTools internals.
 */
export async function showExtensionPanel(
  chromium: ChromiumWithDevtools,
  options: { extensionId: string; title: string; panelPath: string; timeoutMs?: number },
): Promise<{ devtools: Page; panel: Frame }> {
  const timeout = options.timeoutMs ?? 60_000;
  const extensionOrigin = `chrome-extension://${options.extensionId}`;
  let devtools: Page;
  try {
    const target = await chromium.browser.waitForTarget((candidate) => candidate.url().startsWith('devtools://devtools/'), { timeout });
    devtools = (await target.asPage())!;
  } catch (cause) {
    throw internalsFailed('find the DevTools window of the inspected tab', cause);
  }
  try {
    // The extension's panel is a view once its DevTools page has run `chrome.devtools.panels.create`.
    // Source text, not a function: the test runner's transform would rewrite a function's `import()`.
    const showView = `(async () => {
      const UI = await import('./ui/legacy/legacy.js');
      const manager = UI.ViewManager.ViewManager.instance();
      for (const [id, view] of manager.views) {
        if (id.startsWith(${JSON.stringify(extensionOrigin)}) && view.title() === ${JSON.stringify(options.title)}) {
          await manager.showView(id);
          return true;
        }
      }
      return false;
    })()`;
    // An extension loaded while DevTools was opening at startup may miss that window: reloading the DevTools
    // front end runs the extension's DevTools page in it.
    const attempts = 3;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await devtools.waitForFunction(showView, { timeout: timeout / attempts, polling: 250 });
        break;
      } catch (error) {
        if (attempt === attempts) throw error;
        await devtools.reload();
      }
    }
  } catch (cause) {
    throw internalsFailed(`show the "${options.title}" panel of ${extensionOrigin}`, cause);
  }
  const panelUrl = `${extensionOrigin}/${options.panelPath}`;
  const deadline = Date.now() + timeout;
  for (;;) {
    const panel = devtools.frames().find((frame) => frame.url().startsWith(panelUrl));
    if (panel) return { devtools, panel };
    if (Date.now() > deadline) throw internalsFailed(`find the frame of ${panelUrl} in the DevTools window`, 'no such frame');
    await new Promise((wait) => setTimeout(wait, 100));
  }
}
