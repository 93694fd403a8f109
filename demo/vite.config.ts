import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { demoSyncPlugin } from './server/sync-endpoint.js';

const checkout = fileURLToPath(new URL('..', import.meta.url));

// The demo app (index.html): built like any app that uses the library, and served by `vite preview` with the sync
// endpoint beside it (demo/server).
export default defineConfig({
  root: checkout,
  base: './',
  publicDir: 'demo/public',
  build: {
    outDir: 'dist/demo',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    rolldownOptions: { input: fileURLToPath(new URL('../index.html', import.meta.url)) },
  },
  plugins: [demoSyncPlugin()],
  preview: { host: '127.0.0.1', port: 4173 },
});
