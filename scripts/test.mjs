// `npm test`: makes sure a Chromium exists (installing Debian's where it may), then runs every test layer.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
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

// Each layer runs on its own, so its count is reported on its own line at the end.
const LAYERS = [
  { project: 'node', label: 'node (fake-indexeddb)' },
  { project: 'chromium', label: 'chromium (Vitest browser mode)' },
  { project: 'e2e', label: 'e2e (Chromium pages via playwright-core)' },
];
mkdirSync('test-results', { recursive: true });
const summary = [];
let failed = false;

console.log('Type-checking (tsc --noEmit)');
const typecheck = run('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
if (typecheck !== 0) {
  console.error('Type errors: fix them first (npm run typecheck).');
  failed = true;
}
for (const { project, label } of LAYERS) {
  const resultsFile = `test-results/${project}.json`;
  rmSync(resultsFile, { force: true });
  const status = run(
    'npx',
    ['vitest', 'run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`, ...process.argv.slice(2)],
    { env: { ...process.env, CHROME_PATH: chromium } },
  );
  let counts = { passed: 0, failed: 0, skipped: 0 };
  try {
    const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
    counts = { passed: results.numPassedTests, failed: results.numFailedTests, skipped: results.numPendingTests + results.numTodoTests };
  } catch {
    console.error(`The ${label} layer wrote no results.`);
  }
  if (status !== 0 || counts.failed > 0) failed = true;
  summary.push({ label, ...counts, status });
}

console.log('');
for (const { label, passed, failed: failures, skipped, status } of summary) {
  console.log(`${label}: ${passed} passed, ${failures} failed, ${skipped} skipped${status === 0 ? '' : ` (exit ${status})`}`);
}
const total = (key) => summary.reduce((sum, layer) => sum + layer[key], 0);
console.log(`tests: ${total('passed')} passed, ${total('failed')} failed`);
process.exit(failed ? 1 : 0);
