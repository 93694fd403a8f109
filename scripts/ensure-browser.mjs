// Finds Chromium, Firefox and PostgreSQL for the commands that use them (`npm test`, `npm run bench`), installing
// Debian's package when running as root with apt-get; otherwise says how to get one and exits.
import { spawnSync } from 'node:child_process';
import { findChromium } from './chromium.mjs';
import { findFirefox } from './firefox.mjs';
import { findPostgresBin } from './postgres.mjs';

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

/** The program's path: found, or installed from Debian when running as root with apt-get; otherwise exits. */
function ensureInstalled({ name, find, envVar, debianPackage }, command) {
  const found = find();
  if (found) return found;
  if (!canInstallWithApt()) {
    console.error(
      `No ${name} found. Install one (Debian: \`sudo apt-get install -y ${debianPackage}\`) or set ${envVar}, then run \`${command}\` again.`,
    );
    process.exit(1);
  }
  console.log(`No ${name} found: installing Debian's ${debianPackage} with apt-get.`);
  if ((!aptUpdated && !aptGet(['update'])) || !aptGet(['install', '-y', debianPackage])) {
    console.error(`Installing ${debianPackage} failed; run \`apt-get install -y ${debianPackage}\` as root and try again.`);
    process.exit(1);
  }
  aptUpdated = true;
  const installed = find();
  if (!installed) {
    console.error(`apt-get installed ${debianPackage}, but it is not at a known path; set ${envVar}.`);
    process.exit(1);
  }
  return installed;
}

/** Chromium's path, found or installed; `command` is what to run again once the user installed one. */
export function ensureChromium(command) {
  return ensureInstalled({ name: 'Chromium', find: findChromium, envVar: 'CHROME_PATH', debianPackage: 'chromium' }, command);
}

/** Firefox's path, found or installed; `command` is what to run again once the user installed one. */
export function ensureFirefox(command) {
  return ensureInstalled({ name: 'Firefox', find: findFirefox, envVar: 'FIREFOX_PATH', debianPackage: 'firefox-esr' }, command);
}

/** The folder of PostgreSQL's server binaries (initdb, pg_ctl), found or installed. */
export function ensurePostgres(command) {
  return ensureInstalled({ name: 'PostgreSQL server', find: findPostgresBin, envVar: 'JUNCTURE_PG_BIN', debianPackage: 'postgresql' }, command);
}
