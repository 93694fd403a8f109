// `npm test`: makes sure a Chromium exists (installing Debian's where it may), then runs every test layer.
import { spawnSync } from 'node:child_process';
import { findChromium } from './chromium.mjs';

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function canInstallWithApt() {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return isRoot && spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
}

let chromium = findChromium();
if (!chromium) {
  if (!canInstallWithApt()) {
    console.error(
      'No Chromium found. Install one (Debian: `sudo apt-get install -y chromium`) or set CHROME_PATH, then run `npm test` again.',
    );
    process.exit(1);
  }
  console.log("No Chromium found: installing Debian's chromium with apt-get.");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (run('apt-get', ['update'], { env }) !== 0 || run('apt-get', ['install', '-y', 'chromium'], { env }) !== 0) {
    console.error('Installing chromium failed; run `apt-get install -y chromium` as root and try again.');
    process.exit(1);
  }
  chromium = findChromium();
  if (!chromium) {
    console.error('apt-get installed chromium, but it is not at a known path; set CHROME_PATH.');
    process.exit(1);
  }
}
console.log(`Browser tests use ${chromium}`);

process.exit(run('npx', ['vitest', 'run', ...process.argv.slice(2)], { env: { ...process.env, CHROME_PATH: chromium } }));
