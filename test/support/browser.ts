// Helpers for tests that drive real Chromium, Firefox and WebKit from Node: profiles, launching, serving built pages.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import puppeteer, { type Browser as FirefoxBrowser } from 'puppeteer-core';
import { build, preview, type PreviewServer } from 'vite';
import { CHROMIUM_FLAGS, findChromium } from '../../scripts/chromium.mjs';
import { FIREFOX_PREFS, findFirefox } from '../../scripts/firefox.mjs';
import { buildApp, productionBuild } from './build-app.js';
import { waitForDevtoolsEndpoint } from './devtools-endpoint.js';
import { launchWebKit } from './webkit.js';

/** A new, empty browser profile directory; IndexedDB in it lives on disk, as it does for users. */
export function freshProfile(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'juncture-e2e-profile-'));
  // A browser that has just closed may still be writing its caches: removal retries on ENOTEMPTY and EBUSY.
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }) };
}

export interface LaunchOptions {
  /** An unpacked extension to load. */
  extensionDir?: string;
  /** Command-line switches beyond `CHROMIUM_FLAGS`. */
  args?: string[];
}

/** Launches headless Chromium on a persistent profile. */
export async function launchChromium(profileDir: string, options: LaunchOptions = {}): Promise<BrowserContext> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error('No Chromium found: run `npm test`, which installs one, or set CHROME_PATH.');
  const args = [...CHROMIUM_FLAGS, ...(options.args ?? [])];
  if (options.extensionDir) {
    const dir = resolve(options.extensionDir);
    args.push(`--disable-extensions-except=${dir}`, `--load-extension=${dir}`);
  }
  return chromium.launchPersistentContext(profileDir, { executablePath, headless: true, args });
}

/**
 * Launches headless Firefox on a persistent profile, through puppeteer-core over WebDriver BiDi: Playwright drives
 * only its own patched Firefox, not the system's.
 */
export async function launchFirefox(profileDir: string, options: { prefs?: Record<string, unknown>; args?: string[] } = {}): Promise<FirefoxBrowser> {
  const executablePath = findFirefox();
  if (!executablePath) throw new Error('No Firefox found: run `npm test`, which installs one, or set FIREFOX_PATH.');
  return puppeteer.launch({
    browser: 'firefox',
    executablePath,
    headless: true,
    userDataDir: profileDir,
    extraPrefsFirefox: { ...FIREFOX_PREFS, ...options.prefs },
    args: options.args ?? [],
    // A first start on a new profile has taken over Puppeteer's default 30 s on loaded cores.
    timeout: 90_000,
  });
}

export type BrowserEngine = 'chromium' | 'firefox' | 'webkit';

/** What the tests that run in every engine use of a page: Playwright's, Puppeteer's and ours for WebKit have it. */
export interface EnginePage extends HarnessPage {
  reload(): Promise<unknown>;
  close(): Promise<unknown>;
}

/** What the tests that run in every engine use of a browser: Playwright's context, Puppeteer's browser, WebKit's. */
export interface EngineBrowser extends HarnessBrowser<EnginePage> {
  close(): Promise<void>;
}

/** Launches an engine on a profile, for the tests that run in every engine. */
export const launchBrowser: Record<BrowserEngine, (profileDir: string) => Promise<EngineBrowser>> = {
  chromium: launchChromium,
  firefox: (profileDir) => launchFirefox(profileDir),
  webkit: launchWebKit,
};

/**
 * Whether an engine keeps IndexedDB on the profile across a relaunch. WebKitGTK's automation mode keeps website
 * data in memory only (see `launchWebKit`), so its data lasts until the browser ends.
 */
export const keepsStorageAcrossRelaunch: Record<BrowserEngine, boolean> = { chromium: true, firefox: true, webkit: false };

declare module 'vitest' {
  export interface ProvidedContext {
    /** The engine an end-to-end project drives (its `provide` in the Vitest config). */
    browserEngine: BrowserEngine;
  }
}

export interface KillableChromium {
  context: BrowserContext;
  /** Ends Chromium with SIGKILL, as a crash or a killed process would, and waits until it is gone. */
  kill(): Promise<void>;
}

/**
 * Launches headless Chromium as a process of its own on a persistent profile and connects to it over CDP, so a
 * test can kill it mid-write and launch it again on the same profile.
 */
export async function launchKillableChromium(profileDir: string): Promise<KillableChromium> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error('No Chromium found: run `npm test`, which installs one, or set CHROME_PATH.');
  const child = spawn(executablePath, [...CHROMIUM_FLAGS, '--headless', `--user-data-dir=${profileDir}`, '--remote-debugging-port=0', 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const endpoint = await waitForDevtoolsEndpoint(child, 'Chromium', 30_000);
  const browser = await chromium.connectOverCDP(endpoint);
  return {
    context: browser.contexts()[0]!,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** The id Chromium gives an unpacked extension: from the sha256 of its absolute path, hex digits 0–f as a–p. */
export function extensionIdOf(extensionDir: string): string {
  const hex = createHash('sha256').update(resolve(extensionDir)).digest('hex').slice(0, 32);
  return [...hex].map((digit) => String.fromCharCode(97 + Number.parseInt(digit, 16))).join('');
}

/** What `openPanelTab` uses of a page: Playwright's and Puppeteer's both have it. */
export interface ExtensionTabPage {
  goto(url: string): Promise<unknown>;
  evaluate(pageFunction: () => Promise<number[]>): Promise<number[]>;
}

/**
 * Opens the extension's panel as a tab, inspecting the one other open tab (as DevTools would pass its id):
 * `<extensionOrigin>/panel/panel.html?tabId=N`, since `chrome.devtools` exists only inside DevTools. `navigate`
 * loads an address in the tab (by default `goto`).
 */
export async function openPanelTab<P extends ExtensionTabPage>(
  browser: { newPage(): Promise<P> },
  extensionOrigin: string,
  navigate: (page: P, url: string) => Promise<unknown> = (page, url) => page.goto(url),
): Promise<P> {
  const panel = await browser.newPage();
  await navigate(panel, `${extensionOrigin}/panel/panel.html`);
  const tabIds = await panel.evaluate(async () => {
    const current = await chrome.tabs.getCurrent();
    return (await chrome.tabs.query({})).map((tab) => tab.id!).filter((id) => id !== current?.id);
  });
  if (tabIds.length !== 1) throw new Error(`Expected one inspected tab, found ${tabIds.length}; close the others first.`);
  await navigate(panel, `${extensionOrigin}/panel/panel.html?tabId=${tabIds[0]}`);
  return panel;
}

/** `openPanelTab` for Chromium's unpacked extension with this id. */
export function openPanelForOnlyTab(context: BrowserContext, extensionId: string): Promise<Page> {
  return openPanelTab(context, `chrome-extension://${extensionId}`);
}

export interface ServedPages {
  /** The build's folder, for serving it elsewhere too. */
  readonly outDir: string;
  /** The address of a page, for example `url('agent.html')`. */
  url(path: string): string;
  close(): Promise<void>;
}

/** Serves a finished build on localhost with `vite preview`; `close` also removes the build. */
async function previewBuild(root: string, outDir: string): Promise<ServedPages> {
  const server: PreviewServer = await preview({
    root,
    configFile: false,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: false },
  });
  const base = server.resolvedUrls?.local[0];
  if (!base) throw new Error('The preview server did not report an address.');
  return {
    outDir,
    url: (path) => new URL(path, base).toString(),
    close: async () => {
      await server.close();
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}

/**
 * Builds the pages under `root` with Vite (as an app would ship them) and serves the build on localhost.
 * `alias` maps import names to paths, for example the package name to this checkout.
 */
export async function serveBuiltPages(
  root: string,
  inputs: Record<string, string>,
  alias: Record<string, string> = {},
): Promise<ServedPages> {
  const outDir = mkdtempSync(join(tmpdir(), 'juncture-pages-'));
  await productionBuild(() =>
    build({
      root,
      logLevel: 'warn',
      configFile: false,
      resolve: { alias },
      build: { outDir, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4096, rolldownOptions: { input: inputs } },
    }),
  );
  return previewBuild(root, outDir);
}

/** Builds an app with its own Vite config (into a temporary folder) and serves it on localhost. */
export async function serveBuiltApp(configFile: string): Promise<ServedPages> {
  return serveBuildOutput(await buildApp(configFile));
}

/** Serves a folder an app's own build wrote on localhost; `close` also removes it. */
export function serveBuildOutput(outDir: string): Promise<ServedPages> {
  return previewBuild(outDir, outDir);
}

/** One call into a page's harness, as `callHarness` sends it. */
interface HarnessCall {
  method: string;
  args: unknown[];
}

/** What the harness helpers use of a page: Playwright's pages and Puppeteer's both have it. */
export interface HarnessPage {
  goto(url: string): Promise<unknown>;
  waitForFunction(predicate: () => boolean): Promise<unknown>;
  evaluate(pageFunction: (call: HarnessCall) => Promise<unknown>, call: HarnessCall): Promise<unknown>;
}

/** What `openHarness` uses of a browser: its open tabs and a new one (Playwright's context, Puppeteer's browser). */
export interface HarnessBrowser<P extends HarnessPage> {
  pages(): P[] | Promise<P[]>;
  newPage(): Promise<P>;
}

/** Calls a function the page put on `window.harness` and returns its JSON result. */
export async function callHarness<T>(page: HarnessPage, method: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(
    async ({ method, args }) => {
      const harness = (window as unknown as { harness?: Record<string, (...a: unknown[]) => Promise<unknown>> }).harness;
      if (!harness?.[method]) throw new Error(`The page has no harness.${method}`);
      const result = await harness[method]!(...args);
      return result === undefined ? null : JSON.parse(JSON.stringify(result));
    },
    { method, args },
  ) as Promise<T>;
}

/** Opens a page (in the first tab, or a new one) and waits until its harness is ready. */
export async function openHarness<P extends HarnessPage>(browser: HarnessBrowser<P>, url: string, options: { newTab?: boolean } = {}): Promise<P> {
  const page = (!options.newTab && (await browser.pages())[0]) || (await browser.newPage());
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { harness?: unknown }).harness !== undefined);
  return page;
}
