// `npm test`: makes sure Chromium (and xvfb-run), Firefox and WebKitGTK exist (installing Debian's where it may), then runs every
// test layer.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { ensureChromium, ensureFirefox, ensurePostgres, ensureWebKit, ensureXvfbRun } from './ensure-browser.mjs';

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

// The Firefox and WebKit layers are skipped only when JUNCTURE_SKIP_FIREFOX=1 or JUNCTURE_SKIP_WEBKIT=1 asks for
// it; otherwise what is missing is installed or reported, as Chromium is.
const skipped = {
  firefox: process.env.JUNCTURE_SKIP_FIREFOX === '1' ? 'JUNCTURE_SKIP_FIREFOX=1' : undefined,
  webkit: process.env.JUNCTURE_SKIP_WEBKIT === '1' ? 'JUNCTURE_SKIP_WEBKIT=1' : undefined,
};
const browserEnv = {
  CHROME_PATH: ensureChromium('npm test'),
  // The panel inside DevTools needs a headful Chromium, on a display of its own.
  XVFB_RUN_PATH: ensureXvfbRun('npm test'),
};
if (!skipped.firefox) {
  browserEnv.FIREFOX_PATH = ensureFirefox('npm test');
}
if (!skipped.webkit) {
  const webkit = ensureWebKit('npm test');
  Object.assign(browserEnv, { WEBKIT_BROWSER_PATH: webkit.browser, WEBKIT_DRIVER_PATH: webkit.driver, XVFB_PATH: webkit.xvfb });
}
const skips = Object.values(skipped).filter(Boolean);
console.log(`Browser tests use ${Object.values(browserEnv).join(', ')}${skips.length ? ` (skipped: ${skips.join(', ')})` : ''}`);
// The server layer starts its own throwaway PostgreSQL cluster from these binaries.
browserEnv.JUNCTURE_PG_BIN = ensurePostgres('npm test');
console.log(`Server tests use PostgreSQL from ${browserEnv.JUNCTURE_PG_BIN}`);

// Each layer runs on its own, so its count is reported on its own line at the end.
const LAYERS = [
  { project: 'node', label: 'node (fake-indexeddb)' },
  { project: 'server', label: 'server (Node, PostgreSQL)' },
  { project: 'chromium', label: 'chromium (Vitest browser mode)' },
  { project: 'firefox', label: 'firefox (Vitest browser mode, puppeteer-core)', engine: 'firefox' },
  { project: 'webkit', label: 'webkit (Vitest browser mode, WebKitGTK over WebKitWebDriver)', engine: 'webkit' },
  { project: 'e2e', label: 'e2e (Chromium pages via playwright-core)' },
  { project: 'e2e-firefox', label: 'e2e-firefox (Firefox pages via puppeteer-core)', engine: 'firefox' },
  { project: 'e2e-webkit', label: 'e2e-webkit (WebKitGTK pages via WebKitWebDriver)', engine: 'webkit' },
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
for (const { project, label, engine } of LAYERS) {
  if (engine && skipped[engine]) {
    summary.push({ label, skippedBy: skipped[engine] });
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
for (const { label, passed, failed: failures, skipped: skippedTests, status, skippedBy } of summary) {
  if (skippedBy) {
    console.log(`${label}: not run (${skippedBy})`);
    continue;
  }
  console.log(`${label}: ${passed} passed, ${failures} failed, ${skippedTests} skipped${status === 0 ? '' : ` (exit ${status})`}`);
}
const total = (key) => summary.reduce((sum, layer) => sum + (layer[key] ?? 0), 0);
console.log(`tests: ${total('passed')} passed, ${total('failed')} failed`);
process.exit(failed ? 1 : 0);
