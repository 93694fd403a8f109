// The demo and its in-page panel in WebKit (WebKitGTK's MiniBrowser): the same conversation as the Chromium demo
// test, driven through the page's DOM, since WebDriver has no locators of Playwright's kind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { freshProfile, serveBuiltApp, type ServedPages } from '../support/browser.js';
import { launchWebKit, type WebKitBrowser, type WebKitPage } from '../support/webkit.js';

const demoConfig = resolve(new URL('../../demo/vite.config.ts', import.meta.url).pathname);

const messages = (page: WebKitPage) =>
  page.evaluate(() => [...document.querySelectorAll('[aria-label="Messages"] .message .text')].map((text) => text.textContent ?? ''), undefined);

/** Types into the composer as a user does (React reads the native value setter's input event) and sends. */
async function send(page: WebKitPage, text: string): Promise<void> {
  await page.evaluate((message) => {
    const input = document.querySelector<HTMLInputElement>('input[aria-label="Message"]')!;
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, message);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    document.querySelector<HTMLButtonElement>('form.composer button')!.click();
  }, text);
}

/** The in-page panel (in its shadow root): opens it, and reads its threads and checkpoint rows. */
const panel = (page: WebKitPage, open: boolean) =>
  page.evaluate((openIt) => {
    const shadow = document.querySelector('[data-juncture-devtools]')!.shadowRoot!;
    const toggle = shadow.querySelector<HTMLButtonElement>('button.toggle')!;
    if (openIt && toggle.getAttribute('aria-expanded') !== 'true') toggle.click();
    return { open: toggle.getAttribute('aria-expanded') === 'true', rows: shadow.querySelectorAll('.juncture-row').length };
  }, open);

describe('the demo assistant in WebKit', () => {
  let app: ServedPages;
  const profile = freshProfile();
  let browser: WebKitBrowser;
  let page: WebKitPage;

  beforeAll(async () => {
    app = await serveBuiltApp(demoConfig);
    browser = await launchWebKit(profile.dir);
    page = browser.pages()[0]!;
    await page.goto(app.url('index.html'));
    await page.waitForFunction(() => document.querySelector('input[aria-label="Message"]') !== null);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    profile.remove();
  });

  it('keeps a conversation with an approved interrupt across a reload, and the in-page panel shows it', async () => {
    await send(page, 'note: buy milk');
    await expect.poll(async () => (await messages(page)).at(-1), { timeout: 15_000 }).toMatch(/Noted: "buy milk"/);
    await send(page, 'clear notes');
    const approval = () => page.evaluate(() => document.querySelector('[role="alertdialog"][aria-label="Approval"]')?.textContent ?? '', undefined);
    await expect.poll(approval, { timeout: 15_000 }).toContain('Clear notes?');
    await page.evaluate(() => [...document.querySelectorAll<HTMLButtonElement>('[role="alertdialog"] button')].find((button) => button.textContent === 'Approve')!.click(), undefined);
    await expect.poll(async () => (await messages(page)).at(-1), { timeout: 15_000 }).toBe('Cleared notes.');
    const before = await messages(page);
    expect(before).toHaveLength(4);

    await page.reload();
    await expect.poll(() => messages(page), { timeout: 15_000 }).toEqual(before);
    expect(await panel(page, true)).toMatchObject({ open: true });
    // Each turn checkpoints several steps; the panel lists them for the conversation's thread.
    await expect.poll(async () => (await panel(page, true)).rows, { timeout: 15_000 }).toBeGreaterThan(before.length);
  });
});
