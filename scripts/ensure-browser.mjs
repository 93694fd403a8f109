// Finds Chromium, Firefox, WebKit and PostgreSQL for the commands that use them (`npm test`, `npm run bench`),
// installing Debian's packages when running as root with apt-get; otherwise says how to get them and exits.
import { spawnSync } from 'node:child_process';
import { findChromium, findXvfbRun } from './chromium.mjs';
import { findFirefox } from './firefox.mjs';
import { findPostgresBin } from './postgres.mjs';
import { findWebKit } from './webkit.mjs';

/** Runs apt-get non-interactively; true when it succeeded. */
function aptGet(args) {
  const result = spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (result.error) throw result.error;
  return result.status === 0;
}

function canInstallWithApt() {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return isRoot && spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
}

let aptUpdated = false;

/** What `find` found, or installed from Debian when running as root with apt-get; otherwise exits. */
function ensureInstalled({ name, find, envVar, debianPackages }, command) {
  const found = find();
  if (found) return found;
  const packages = debianPackages.join(' ');
  if (!canInstallWithApt()) {
    console.error(`No ${name} found. Install it (Debian: \`sudo apt-get install -y ${packages}\`) or set ${envVar}, then run \`${command}\` again.`);
    process.exit(1);
  }
  console.log(`No ${name} found: installing Debian's ${packages} with apt-get.`);
  if ((!aptUpdated && !aptGet(['update'])) || !aptGet(['install', '-y', ...debianPackages])) {
    console.error(`Installing ${packages} failed; run \`apt-get install -y ${packages}\` as root and try again.`);
    process.exit(1);
  }
  aptUpdated = true;
  const installed = find();
  if (!installed) {
    console.error(`apt-get installed ${packages}, but ${name} is not at a known path; set ${envVar}.`);
    process.exit(1);
  }
  return installed;
}

/** Chromium's path, found or installed; `command` is what to run again once the user installed one. */
export function ensureChromium(command) {
  return ensureInstalled({ name: 'Chromium', find: findChromium, envVar: 'CHROME_PATH', debianPackages: ['chromium'] }, command);
}

/** `xvfb-run`'s path, found or installed: the test of the panel inside DevTools runs a headful Chromium in it. */
export function ensureXvfbRun(command) {
  return ensureInstalled({ name: 'xvfb-run', find: findXvfbRun, envVar: 'XVFB_RUN_PATH', debianPackages: ['xvfb'] }, command);
}

/** Firefox's path, found or installed; `command` is what to run again once the user installed one. */
export function ensureFirefox(command) {
  return ensureInstalled({ name: 'Firefox', find: findFirefox, envVar: 'FIREFOX_PATH', debianPackages: ['firefox-esr'] }, command);
}

/**
 * WebKitGTK's MiniBrowser, its WebDriver server and Xvfb (`{ browser, driver, xvfb }`), found or installed
 * (`webkit2gtk-driver` brings the driver and, through libwebkit2gtk, MiniBrowser); `command` as above.
 */
export function ensureWebKit(command) {
  return ensureInstalled(
    {
      name: 'WebKitGTK (MiniBrowser, WebKitWebDriver and Xvfb)',
      find: findWebKit,
      envVar: 'WEBKIT_BROWSER_PATH, WEBKIT_DRIVER_PATH and XVFB_PATH',
      debianPackages: ['webkit2gtk-driver', 'xvfb'],
    },
    command,
  );
}

/** The folder of PostgreSQL's server binaries (initdb, pg_ctl), found or installed. */
export function ensurePostgres(command) {
  return ensureInstalled({ name: 'PostgreSQL server', find: findPostgresBin, envVar: 'JUNCTURE_PG_BIN', debianPackages: ['postgresql'] }, command);
}
