import { defineConfig } from 'vitest/config';

// Node layer: fake-indexeddb stands in for the browser. LangGraph's validation suite needs `globals: true`.
export default defineConfig({
  test: {
    name: 'node',
    globals: true,
    environment: 'node',
    include: ['test/shared/**/*.test.ts', 'test/node/**/*.test.ts'],
    setupFiles: ['fake-indexeddb/auto'],
    testTimeout: 20_000,
  },
});
