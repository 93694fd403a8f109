// `npm run package:extension`: builds the devtools extension and writes what the stores take, into
// dist/extension-packages/: the Chrome Web Store zip, the addons.mozilla.org zip, and the sources zip AMO asks for
// when the submitted code is built (it rebuilds it with `npm ci && npm run package:extension`).
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, relative, resolve } from 'node:path';
import { zipSync } from 'fflate';
import { CHROME_EXTENSION_DIR, FIREFOX_EXTENSION_DIR, buildExtension } from './build-extension.mjs';

const checkout = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const PACKAGES_DIR = resolve(checkout, 'dist/extension-packages');

/** What rebuilds the extension: its sources, the library code it bundles, the build scripts and the lockfile. */
const SOURCES = [
  'README.md',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'extension',
  'src',
  'scripts/build-extension.mjs',
  'scripts/package-extension.mjs',
];

/** Every file under `dir` (or `dir` itself), as paths relative to `root`, in a stable order. */
function filesUnder(root, dir) {
  const path = resolve(root, dir);
  if (!statSync(path).isDirectory()) return [relative(root, path)];
  return readdirSync(path, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

/** A zip of `paths` (relative to `root`), with one fixed date so that the same files make the same zip. */
function zipFiles(root, paths, zipPath) {
  const entries = Object.fromEntries(paths.map((path) => [path.split('\\').join('/'), readFileSync(resolve(root, path))]));
  writeFileSync(zipPath, zipSync(entries, { level: 9, mtime: new Date('2020-01-01T00:00:00Z') }));
  return zipPath;
}

/** Zips the built extensions (dist/extension, dist/extension-firefox) and the sources into `outDir`. */
export function zipExtensionPackages(outDir = PACKAGES_DIR) {
  const { version } = JSON.parse(readFileSync(resolve(CHROME_EXTENSION_DIR, 'manifest.json'), 'utf8'));
  mkdirSync(outDir, { recursive: true });
  return {
    chrome: zipFiles(CHROME_EXTENSION_DIR, filesUnder(CHROME_EXTENSION_DIR, '.'), resolve(outDir, `juncture-devtools-${version}-chrome.zip`)),
    firefox: zipFiles(FIREFOX_EXTENSION_DIR, filesUnder(FIREFOX_EXTENSION_DIR, '.'), resolve(outDir, `juncture-devtools-${version}-firefox.zip`)),
    sources: zipFiles(checkout, SOURCES.flatMap((source) => filesUnder(checkout, source)), resolve(outDir, `juncture-devtools-${version}-sources.zip`)),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildExtension();
  for (const [store, path] of Object.entries(zipExtensionPackages())) console.log(`${store}: ${relative(checkout, path)}`);
}
