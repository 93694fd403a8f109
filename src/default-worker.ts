/**
 * Starts the package's own worker. Written so that bundlers (Vite, webpack, Rollup, esbuild) find and bundle the
 * worker entry with no configuration: `new Worker(new URL(..., import.meta.url), { type: 'module' })`.
 * This file sits beside `worker.ts` so the relative URL holds both in the sources and in `dist/`.
 */
export function startDefaultWorker(): Worker {
  return new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'juncture-browser' });
}
