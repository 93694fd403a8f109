// Builds the devtools extension into dist/extension: its pages as ES modules, its content script as one classic
// (IIFE) script, as Chrome loads content scripts, and the manifest beside them.
import { copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { build } from 'vite';

const checkout = resolve(fileURLToPath(new URL('..', import.meta.url)));
const source = resolve(checkout, 'extension');
const outDir = resolve(checkout, 'dist/extension');

export async function buildExtension() {
  await build({
    configFile: false,
    root: source,
    base: './',
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      rolldownOptions: {
        input: {
          devtools: resolve(source, 'devtools-page/devtools.html'),
          panel: resolve(source, 'panel/panel.html'),
        },
      },
    },
  });
  await build({
    configFile: false,
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: false,
      target: 'es2022',
      lib: {
        entry: resolve(source, 'content-script/index.ts'),
        formats: ['iife'],
        name: 'junctureDevtoolsContentScript',
        fileName: () => 'content-script.js',
      },
    },
  });
  copyFileSync(resolve(source, 'manifest.json'), resolve(outDir, 'manifest.json'));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildExtension();
}
