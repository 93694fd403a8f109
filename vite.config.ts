import { defineConfig, type Plugin } from 'vite';

/**
 * Keeps `new Worker(new URL('./worker.js', import.meta.url))` as written. Vite would bundle the worker into an
 * asset with a root-absolute URL, which breaks once the library is installed in an app; left as is, the app's
 * bundler finds `dist/worker.js` beside `dist/index.js` and bundles it itself.
 */
function keepWorkerUrlsForTheAppBundler(): Plugin {
  return {
    name: 'juncture:keep-worker-urls',
    configResolved(config) {
      const plugins = config.plugins as Plugin[];
      for (const name of ['vite:worker-import-meta-url', 'vite:asset-import-meta-url']) {
        const index = plugins.findIndex((plugin) => plugin.name === name);
        if (index >= 0) plugins.splice(index, 1);
      }
    },
  };
}

// Library build: ESM entry points; peer and runtime dependencies stay imports, resolved by the app's bundler.
export default defineConfig({
  plugins: [keepWorkerUrlsForTheAppBundler()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    lib: {
      entry: { index: 'src/index.ts', worker: 'src/worker.ts', devtools: 'src/devtools/index.ts', panel: 'src/panel/index.ts', server: 'src/server/index.ts', sync: 'src/sync/index.ts' },
      formats: ['es'],
    },
    rolldownOptions: {
      external: [/^@langchain\//, /^node:/, 'pg', 'idb', 'comlink', /^react(-dom)?(\/|$)/, 'react-json-view-lite', /^jsondiffpatch(\/|$)/, /^@tanstack\//, /^@dagrejs\//, 'eventsource-parser'],
    },
  },
});
