// Builds the devtools extension from `extension/` for two browsers, from the same sources:
// - dist/extension: Chromium's. Its pages as ES modules, its content script as one classic (IIFE) script, as
//   Chrome loads content scripts, and the manifest beside them.
// - dist/extension-firefox: the same files, plus the background relay (Firefox's DevTools panels have no `tabs`
//   API) and the manifest with what Firefox needs (gecko id, background scripts).
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { build } from 'vite';

const checkout = resolve(fileURLToPath(new URL('..', import.meta.url)));
const source = resolve(checkout, 'extension');
export const CHROME_EXTENSION_DIR = resolve(checkout, 'dist/extension');
export const FIREFOX_EXTENSION_DIR = resolve(checkout, 'dist/extension-firefox');

/** The add-on's id on addons.mozilla.org; Firefox needs one for MV3 and for storage that survives an update. */
export const GECKO_ID = 'devtools@juncture-browser';
/** Firefox 140 (an ESR) is the first to read `data_collection_permissions`, which addons.mozilla.org requires. */
const GECKO_MIN_VERSION = '140.0';

/** Builds one classic (IIFE) script into `outDir`, as content and background scripts are loaded. */
function buildClassicScript(entry, fileName, outDir) {
  return build({
    configFile: false,
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: false,
      target: 'es2022',
      lib: { entry, formats: ['iife'], name: 'junctureDevtools', fileName: () => fileName },
    },
  });
}

/** Firefox's manifest: Chromium's, without Chromium-only keys, with the gecko id and the background relay. */
export function firefoxManifest(chromeManifest) {
  const { minimum_chrome_version: _chromeOnly, ...manifest } = chromeManifest;
  return {
    ...manifest,
    background: { scripts: ['background.js'] },
    browser_specific_settings: {
      // It collects nothing: it reads the inspected page's IndexedDB and shows it in DevTools, on this machine.
      gecko: { id: GECKO_ID, strict_min_version: GECKO_MIN_VERSION, data_collection_permissions: { required: ['none'] } },
      // Firefox for Android has no DevTools; it reads the key above from 142 on.
      gecko_android: { strict_min_version: '142.0' },
    },
  };
}

/**
 * Builds both. Always a production build: Vite keeps a `NODE_ENV` already set (Vitest sets `test`), which would
 * bundle React's development build with the checkout's paths in it.
 */
export async function buildExtension() {
  const previous = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await buildBoth();
  } finally {
    process.env.NODE_ENV = previous;
  }
}

async function buildBoth() {
  await build({
    configFile: false,
    root: source,
    base: './',
    logLevel: 'warn',
    build: {
      outDir: CHROME_EXTENSION_DIR,
      emptyOutDir: true,
      target: 'es2022',
      rolldownOptions: {
        input: {
          devtools: resolve(source, 'devtools-page/devtools.html'),
          panel: resolve(source, 'panel/panel.html'),
        },
        // React DOM in a chunk of its own, so that what `web-ext lint` says of its code is told apart from ours.
        checks: { pluginTimings: false },
        output: { codeSplitting: { groups: [{ name: 'react-dom', test: /node_modules[\\/]react-dom[\\/]/ }] } },
      },
    },
  });
  await buildClassicScript(resolve(source, 'content-script/index.ts'), 'content-script.js', CHROME_EXTENSION_DIR);
  const manifest = JSON.parse(readFileSync(resolve(source, 'manifest.json'), 'utf8'));
  writeFileSync(resolve(CHROME_EXTENSION_DIR, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  rmSync(FIREFOX_EXTENSION_DIR, { recursive: true, force: true });
  cpSync(CHROME_EXTENSION_DIR, FIREFOX_EXTENSION_DIR, { recursive: true });
  await buildClassicScript(resolve(source, 'background/relay.ts'), 'background.js', FIREFOX_EXTENSION_DIR);
  writeFileSync(resolve(FIREFOX_EXTENSION_DIR, 'manifest.json'), `${JSON.stringify(firefoxManifest(manifest), null, 2)}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildExtension();
}
