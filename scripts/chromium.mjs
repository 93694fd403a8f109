// Finds the Chromium that browser tests drive; shared by the test command, the Vitest config and test helpers.
import { findExecutable } from './find-executable.mjs';

/** Flags for a headless Chromium on a machine without network or GPU, run as root in CI. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

/** `CHROME_PATH` when set, else the first Chromium or Chrome found in the usual places, else undefined. */
export function findChromium() {
  return findExecutable('CHROME_PATH', CANDIDATES);
}

/**
 * `XVFB_RUN_PATH` when set, else Debian's `xvfb-run` (package xvfb): it gives a headful Chromium, the one that opens
 * DevTools windows, a display of its own and removes it when Chromium ends.
 */
export function findXvfbRun() {
  return findExecutable('XVFB_RUN_PATH', ['/usr/bin/xvfb-run', '/usr/local/bin/xvfb-run']);
}
