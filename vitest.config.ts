import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { CHROMIUM_FLAGS, findChromium } from './scripts/chromium.mjs';

const chromium = findChromium();

export default defineConfig({
  test: {
    // LangGraph's validation suite uses the global describe/it/expect.
    globals: true,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/shared/**/*.test.ts', 'test/node/**/*.test.ts'],
          setupFiles: ['test/support/setup-node.ts'],
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        // Pre-bundled up front, so that discovering them mid-run never reloads a test page.
        optimizeDeps: {
          include: [
            '@langchain/core/messages',
            '@langchain/core/singletons',
            '@langchain/langgraph/web',
            '@langchain/langgraph-checkpoint',
            '@langchain/langgraph-checkpoint-validation',
            'comlink',
            'idb',
            'react',
            'react/jsx-runtime',
            'react-dom/client',
          ],
        },
        test: {
          name: 'chromium',
          include: ['test/shared/**/*.test.ts', 'test/browser/**/*.test.{ts,tsx}'],
          setupFiles: ['test/support/setup-browser.ts'],
          testTimeout: 60_000,
          // One page at a time, so the persistent (on-disk) profile is used: IndexedDB as users have it.
          fileParallelism: false,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: { executablePath: chromium, args: CHROMIUM_FLAGS },
              persistentContext: mkdtempSync(join(tmpdir(), 'juncture-profile-')),
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
      {
        extends: true,
        test: {
          // Node drives Chromium through playwright-core: reloads, relaunches, extensions.
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
