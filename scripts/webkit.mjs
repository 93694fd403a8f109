// Finds what WebKit tests drive: WebKitGTK's MiniBrowser, its WebDriver server (WebKitWebDriver) and Xvfb, the
// display they need. Shared by the test command, the Vitest config and test helpers.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable } from './find-executable.mjs';

/** Where Debian (by architecture), Fedora and others put WebKitGTK's MiniBrowser, which is not on the PATH. */
function miniBrowserCandidates() {
  const multiarch = existsSync('/usr/lib') ? readdirSync('/usr/lib').filter((name) => name.endsWith('-linux-gnu')) : [];
  return [
    ...multiarch.map((triplet) => join('/usr/lib', triplet, 'webkit2gtk-4.1/MiniBrowser')),
    '/usr/libexec/webkit2gtk-4.1/MiniBrowser',
  ];
}

/**
 * `{ browser, driver, xvfb }`: `WEBKIT_BROWSER_PATH`, `WEBKIT_DRIVER_PATH` and `XVFB_PATH` when set, else the usual
 * places; undefined unless all three are found.
 */
export function findWebKit() {
  const browser = findExecutable('WEBKIT_BROWSER_PATH', miniBrowserCandidates());
  const driver = findExecutable('WEBKIT_DRIVER_PATH', ['/usr/bin/WebKitWebDriver', '/usr/local/bin/WebKitWebDriver']);
  const xvfb = findExecutable('XVFB_PATH', ['/usr/bin/Xvfb', '/usr/local/bin/Xvfb']);
  return browser && driver && xvfb ? { browser, driver, xvfb } : undefined;
}
