import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { CHROMIUM_FLAGS, findChromium } from './scripts/chromium.mjs';
import type { BrowserEngine } from './test/support/browser.js';
import { crossOriginSyncCommands } from './test/support/cross-origin-sync.js';
import { puppeteerFirefox } from './test/support/firefox-provider.js';
import { webkitWebDriver } from './test/support/webkit-provider.js';

type BrowserOptions = NonNullable<NonNullable<TestProjectInlineConfiguration['test']>['browser']>;

/** The browser-mode layer of one engine: the same `test/shared` and `test/browser` suites in a real browser. */
function browserLayer(browser: BrowserEngine, provider: BrowserOptions['provider']): TestProjectInlineConfiguration {
  return {
    extends: true,
    // Pre-bundled up front, so that discovering them mid-run never reloads a test page.
    optimizeDeps: {
      include: [
        '@dagrejs/dagre',
        '@langchain/core/messages',
        '@langchain/core/singletons',
        '@langchain/langgraph/web',
        '@langchain/langgraph-checkpoint',
        '@langchain/langgraph-checkpoint-validation',
        'comlink',
        'eventsource-parser',
        'idb',
        'react',
        'react/jsx-runtime',
        'react-dom/client',
      ],
    },
    test: {
      name: browser,
      include: ['test/shared/**/*.test.ts', 'test/browser/**/*.test.{ts,tsx}'],
      setupFiles: ['test/support/setup-browser.ts'],
      testTimeout: 60_000,
      // One page at a time, so the persistent (on-disk) profile is used: IndexedDB as users have it.
      fileParallelism: false,
      browser: { enabled: true, headless: true, screenshotFailures: false, provider, instances: [{ browser }], commands: crossOriginSyncCommands },
    },
  };
}

/** The end-to-end layer of one engine: Node drives its pages (`inject('browserEngine')` names the engine). */
function endToEndLayer(
  name: string,
  engine: BrowserEngine,
  files: { include: string[]; exclude?: string[]; globalSetup?: string[] },
): TestProjectInlineConfiguration {
  return {
    extends: true,
    test: {
      name,
      environment: 'node',
      ...files,
      provide: { browserEngine: engine },
      testTimeout: 120_000,
      hookTimeout: 180_000,
    },
  };
}

const chromiumProvider = playwright({
  launchOptions: { executablePath: findChromium(), args: CHROMIUM_FLAGS },
  persistentContext: mkdtempSync(join(tmpdir(), 'juncture-profile-')),
});

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
        test: {
          name: 'server',
          environment: 'node',
          include: ['test/server/**/*.test.ts'],
          // Devices are savers on fake-indexeddb; the server runs on a PostgreSQL cluster of its own.
          setupFiles: ['test/support/setup-node.ts'],
          globalSetup: ['test/server/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      browserLayer('chromium', chromiumProvider),
      // Playwright drives only its own patched Firefox, so the system's runs through a provider on puppeteer-core.
      browserLayer('firefox', puppeteerFirefox()),
      // WebKit, Safari's engine, as WebKitGTK's MiniBrowser over WebDriver on an Xvfb display.
      browserLayer('webkit', webkitWebDriver()),
      // Node drives Chromium through playwright-core: reloads, relaunches, extensions, the demo.
      endToEndLayer('e2e', 'chromium', {
        include: ['test/e2e/**/*.test.ts'],
        exclude: ['test/e2e/demo-webkit.test.ts', 'test/e2e/devtools-extension-firefox.test.ts', 'test/e2e/demo-sync-firefox.test.ts'],
        globalSetup: ['test/e2e/global-setup.ts'],
      }),
      // The agent tests, the Firefox build of the extension and the real quota, in Firefox through puppeteer-core.
      endToEndLayer('e2e-firefox', 'firefox', {
        include: ['test/e2e/agent-reload.test.ts', 'test/e2e/devtools-extension-firefox.test.ts', 'test/e2e/demo-sync-firefox.test.ts', 'test/e2e/quota.test.ts'],
        globalSetup: ['test/e2e/global-setup.ts'],
      }),
      // The agent tests and the demo with its in-page panel, in WebKitGTK through WebKitWebDriver.
      endToEndLayer('e2e-webkit', 'webkit', { include: ['test/e2e/agent-reload.test.ts', 'test/e2e/demo-webkit.test.ts'] }),
    ],
  },
});
