// A Vitest browser provider for WebKit: WebKitGTK's MiniBrowser through WebKitWebDriver (see `launchWebKit`).
// Vitest's WebdriverIO provider is not published for this Vitest version; Playwright drives only its own WebKit.
// Vitest serves the test page; this opens it in MiniBrowser.
import { defineBrowserProvider } from '@vitest/browser';
import type { BrowserProvider } from 'vitest/node';
import { freshProfile } from './browser.js';
import { launchWebKit, type WebKitBrowser, type WebKitPage } from './webkit.js';

class WebKitProvider implements BrowserProvider {
  readonly name = 'webkit-webdriver';
  // One page at a time, as the other browser layers run.
  readonly supportsParallelism = false;
  private profile: ReturnType<typeof freshProfile> | undefined;
  private browser: Promise<WebKitBrowser> | undefined;
  private readonly pages = new Map<string, WebKitPage>();

  getCommandsContext(sessionId: string) {
    return { page: this.pages.get(sessionId) };
  }

  async openPage(sessionId: string, url: string): Promise<void> {
    if (!this.browser) {
      this.profile = freshProfile();
      this.browser = launchWebKit(this.profile.dir);
    }
    const browser = await this.browser;
    const previous = this.pages.get(sessionId);
    const page = previous ?? (browser.pages().length === 1 && this.pages.size === 0 ? browser.pages()[0]! : await browser.newPage());
    this.pages.set(sessionId, page);
    await page.goto(url);
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

/** Runs Vitest browser-mode tests in WebKitGTK's MiniBrowser, on its own Xvfb display. */
export function webkitWebDriver() {
  return defineBrowserProvider({
    name: 'webkit-webdriver',
    supportedBrowser: ['webkit'],
    providerFactory: () => new WebKitProvider(),
  });
}
