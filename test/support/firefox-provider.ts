// A Vitest browser provider for Firefox on puppeteer-core: Vitest's own providers drive only Playwright's patched
// Firefox (or need geckodriver), not the system's. Vitest serves the test page; this opens it in Firefox.
import { defineBrowserProvider } from '@vitest/browser';
import type { BrowserProvider } from 'vitest/node';
import type { Browser as FirefoxBrowser, Page } from 'puppeteer-core';
import { freshProfile, launchFirefox } from './browser.js';

class FirefoxProvider implements BrowserProvider {
  readonly name = 'firefox-puppeteer';
  // One page at a time, on one persistent profile, as the Chromium project runs.
  readonly supportsParallelism = false;
  private profile: ReturnType<typeof freshProfile> | undefined;
  private browser: Promise<FirefoxBrowser> | undefined;
  private readonly pages = new Map<string, Page>();

  getCommandsContext(sessionId: string) {
    return { page: this.pages.get(sessionId) };
  }

  async openPage(sessionId: string, url: string): Promise<void> {
    if (!this.browser) {
      this.profile = freshProfile();
      this.browser = launchFirefox(this.profile.dir);
    }
    const browser = await this.browser;
    await this.pages.get(sessionId)?.close();
    const page = await browser.newPage();
    this.pages.set(sessionId, page);
    await page.goto(url, { timeout: 0 });
  }

  async close(): Promise<void> {
    const { browser, profile } = this;
    this.browser = undefined;
    this.profile = undefined;
    this.pages.clear();
    // A failed launch was reported by openPage already.
    await (await browser?.catch(() => undefined))?.close();
    profile?.remove();
  }
}

/** Runs Vitest browser-mode tests in the system's Firefox, headless, on a fresh on-disk profile. */
export function puppeteerFirefox() {
  return defineBrowserProvider({
    name: 'firefox-puppeteer',
    supportedBrowser: ['firefox'],
    providerFactory: () => new FirefoxProvider(),
  });
}
