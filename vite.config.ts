import { defineConfig } from 'vite';

// Library build: ESM entry points; peer and runtime dependencies stay imports, resolved by the app's bundler.
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    lib: {
      entry: { index: 'src/index.ts' },
      formats: ['es'],
    },
    rolldownOptions: {
      external: [/^@langchain\//, 'idb', 'comlink'],
    },
  },
});
