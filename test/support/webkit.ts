// WebKit, Safari's engine, from Node: WebKitGTK's MiniBrowser driven over WebDriver (selenium-webdriver talking to
// WebKitWebDriver), on an Xvfb display of its own. Playwright and Puppeteer drive only their own WebKit builds.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { WebDriver } from 'selenium-webdriver';
import { findWebKit } from '../../scripts/webkit.mjs';

// selenium-webdriver is CommonJS, and its subpaths are folders, which only require() resolves.
const require = createRequire(import.meta.url);
const { DriverService } = require('selenium-webdriver/remote') as typeof import('selenium-webdriver/remote');
const { Executor, HttpClient } = require('selenium-webdriver/http') as typeof import('selenium-webdriver/http');

/** Starts Xvfb on the first free display (it reports the number itself, `-displayfd`); resolves to `:N`. */
async function startDisplay(xvfb: string): Promise<{ display: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(xvfb, ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  const display = await new Promise<string>((resolve, reject) => {
    let errors = '';
    child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    (child.stdio[3] as NodeJS.ReadableStream).once('data', (chunk: Buffer) => resolve(`:${chunk.toString().trim()}`));
    child.once('exit', (code) => reject(new Error(`Xvfb exited with ${code} before it had a display:\n${errors}`)));
  });
  return {
    display,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The live processes whose environment holds `entry` (zombies excluded: they hold no files). */
function processesWith(entry: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${name}/stat`, 'utf8'))) continue;
      if (readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').includes(entry)) pids.push(Number(name));
    } catch {
      // The process ended while it was read, or is not ours to read.
    }
  }
  return pids;
}

/**
 * Ends the processes that MiniBrowser left behind on `profileDir` (its network and web processes outlive the
 * session by seconds and keep writing caches there), so that the profile folder can be removed.
 */
async function endBrowserProcesses(profileDir: string): Promise<void> {
  const entry = `XDG_CACHE_HOME=${profileDir}`;
  const deadline = Date.now() + 5_000;
  for (let pids = processesWith(entry); pids.length > 0; pids = processesWith(entry)) {
    for (const pid of pids) {
      try {
        process.kill(pid, Date.now() < deadline ? 'SIGTERM' : 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** What the tests use of a WebKit page: the same as of Playwright's and Puppeteer's (see `EnginePage`). */
export interface WebKitPage {
  goto(url: string): Promise<void>;
  reload(): Promise<void>;
  evaluate<A, R>(pageFunction: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  waitForFunction(predicate: () => boolean): Promise<void>;
  close(): Promise<void>;
}

export interface WebKitBrowser {
  pages(): WebKitPage[];
  newPage(): Promise<WebKitPage>;
  /** Ends the session, MiniBrowser, WebKitWebDriver and the display. */
  close(): Promise<void>;
  readonly version: string;
}

/** WebDriver's async script that runs a page function with its argument and reports its result or its error. */
function runInPage(pageFunction: string): string {
  return `const done = arguments[arguments.length - 1];
    Promise.resolve()
      .then(() => (${pageFunction})(arguments[0]))
      .then((value) => done({ value: value === undefined ? null : value }), (error) => done({ error: String((error && error.stack) || error) }));`;
}

/**
 * Launches MiniBrowser in automation mode. Its automation sessions keep website data in memory only (MiniBrowser
 * creates an ephemeral data manager for `--automation`), so `profileDir` holds only the browser's caches and
 * settings, and IndexedDB lasts as long as the browser: reloads keep it, a relaunch does not.
 */
export async function launchWebKit(profileDir: string): Promise<WebKitBrowser> {
  const found = findWebKit();
  if (!found) throw new Error('No WebKitGTK found: run `npm test`, which installs webkit2gtk-driver and xvfb, or set WEBKIT_BROWSER_PATH.');
  const screen = await startDisplay(found.xvfb);
  const env = { ...process.env, DISPLAY: screen.display, XDG_CACHE_HOME: profileDir, XDG_CONFIG_HOME: profileDir, XDG_DATA_HOME: profileDir };
  const service = new DriverService.Builder(found.driver).setLoopback(true).setEnvironment(env).build();
  let driver: WebDriver;
  try {
    driver = WebDriver.createSession(new Executor(service.start().then((url: string) => new HttpClient(url))), {
      browserName: 'MiniBrowser',
      'webkitgtk:browserOptions': { binary: found.browser, args: ['--automation'] },
      timeouts: { script: 120_000, pageLoad: 60_000 },
    });
    await driver.getSession();
  } catch (error) {
    await service.kill();
    await screen.stop();
    throw error;
  }
  const version = (await driver.getCapabilities()).getBrowserVersion() ?? 'unknown';

  // WebDriver works on one window at a time: each page's command switches to it first, one command at a time.
  let turn: Promise<unknown> = Promise.resolve();
  const serially = <T>(command: () => Promise<T>): Promise<T> => {
    const next = turn.then(command);
    turn = next.catch(() => undefined);
    return next;
  };
  const inWindow = <T>(handle: string, command: () => Promise<T>): Promise<T> =>
    serially(async () => {
      await driver.switchTo().window(handle);
      return command();
    });

  const pageOf = (handle: string): WebKitPage => {
    const page: WebKitPage = {
      goto: (url) => inWindow(handle, () => driver.get(url)),
      reload: () => inWindow(handle, () => driver.navigate().refresh()),
      evaluate: async <A, R>(pageFunction: (arg: A) => R | Promise<R>, arg: A) => {
        const outcome = await inWindow(handle, () => driver.executeAsyncScript<{ value?: R; error?: string }>(runInPage(pageFunction.toString()), arg));
        if (outcome.error !== undefined) throw new Error(`In the WebKit page: ${outcome.error}`);
        return outcome.value as R;
      },
      waitForFunction: async (predicate) => {
        const deadline = Date.now() + 30_000;
        while (!(await page.evaluate(predicate, undefined))) {
          if (Date.now() > deadline) throw new Error(`Timed out waiting for ${predicate.toString()}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      },
      close: () =>
        inWindow(handle, async () => {
          await driver.close();
          open.delete(handle);
        }),
    };
    return page;
  };

  const open = new Map<string, WebKitPage>();
  const first = await driver.getWindowHandle();
  open.set(first, pageOf(first));
  return {
    version,
    pages: () => [...open.values()],
    newPage: async () => {
      const handle = await serially(async () => {
        // From a window still open: the one commands went to last may have been closed.
        const [opened] = open.keys();
        if (opened !== undefined) await driver.switchTo().window(opened);
        await driver.switchTo().newWindow('tab');
        return driver.getWindowHandle();
      });
      const page = pageOf(handle);
      open.set(handle, page);
      return page;
    },
    close: async () => {
      await turn;
      await driver.quit().catch(() => undefined);
      await service.kill();
      await endBrowserProcesses(profileDir);
      await screen.stop();
    },
  };
}
