// Finds the Firefox that browser tests drive; shared by the test command, the Vitest config and test helpers.
import { findExecutable } from './find-executable.mjs';

/**
 * Preferences for a headless Firefox in tests. Firefox asks the user before it persists an origin's storage
 * (`navigator.storage.persist()`), and the promise waits for the answer; with no one to answer, the test profile
 * answers as a user who allows it. Chromium decides on its own and never asks.
 */
export const FIREFOX_PREFS = {
  'dom.storageManager.prompt.testing': true,
  'dom.storageManager.prompt.testing.allow': true,
};

const CANDIDATES = [
  '/usr/bin/firefox-esr',
  '/usr/bin/firefox',
  '/usr/lib/firefox-esr/firefox-esr',
  '/usr/lib/firefox/firefox',
  '/Applications/Firefox.app/Contents/MacOS/firefox',
];

/** `FIREFOX_PATH` when set, else the first Firefox (ESR or release) found in the usual places, else undefined. */
export function findFirefox() {
  return findExecutable('FIREFOX_PATH', CANDIDATES);
}
