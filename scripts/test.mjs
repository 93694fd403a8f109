// `npm test`: makes sure Chromium and Firefox exist (installing Debian's where it may), then runs every test layer.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { ensureChromium, ensureFirefox, ensurePostgres } from './ensure-browser.mjs';

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

// The Firefox layers are skipped only when JUNCTURE_SKIP_FIREFOX=1 asks for it; otherwise a missing Firefox is
// installed or reported, as Chromium is.
const skipFirefox = process.env.JUNCTURE_SKIP_FIREFOX === '1';
const browserEnv = {
  CHROME_PATH: ensureChromium('npm test'),
};
if (!skipFirefox) {
  browserEnv.FIREFOX_PATH = ensureFirefox('npm test');
}
console.log(`Browser tests use ${Object.values(browserEnv).join(' and ')}${skipFirefox ? ' (Firefox skipped: JUNCTURE_SKIP_FIREFOX=1)' : ''}`);
// The server layer starts its own throwaway PostgreSQL cluster from these binaries.
browserEnv.JUNCTURE_PG_BIN = ensurePostgres('npm test');
console.log(`Server tests use PostgreSQL from ${browserEnv.JUNCTURE_PG_BIN}`);

// Each layer runs on its own, so its count is reported on its own line at the end.
const LAYERS = [
  { project: 'node', label: 'node (fake-indexeddb)' },
  { project: 'server', label: 'server (Node, PostgreSQL)' },
  { project: 'chromium', label: 'chromium (Vitest browser mode)' },
  { project: 'firefox', label: 'firefox (Vitest browser mode, puppeteer-core)', firefox: true },
  { project: 'e2e', label: 'e2e (Chromium pages via playwright-core)' },
  { project: 'e2e-firefox', label: 'e2e-firefox (Firefox pages via puppeteer-core)', firefox: true },
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
for (const { project, label, firefox } of LAYERS) {
  if (firefox && skipFirefox) {
    summary.push({ label, skippedLayer: true });
    continue;
  }
  const resultsFile = `test-results/${project}.json`;
  rmSync(resultsFile, { force: true });
  const status = run(
    'npx',
    ['vitest', 'run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`, ...process.argv.slice(2)],
    { env: { ...process.env, ...browserEnv } },
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
for (const { label, passed, failed: failures, skipped, status, skippedLayer } of summary) {
  if (skippedLayer) {
    console.log(`${label}: not run (JUNCTURE_SKIP_FIREFOX=1)`);
    continue;
  }
  console.log(`${label}: ${passed} passed, ${failures} failed, ${skipped} skipped${status === 0 ? '' : ` (exit ${status})`}`);
}
const total = (key) => summary.reduce((sum, layer) => sum + (layer[key] ?? 0), 0);
console.log(`tests: ${total('passed')} passed, ${total('failed')} failed`);
process.exit(failed ? 1 : 0);
