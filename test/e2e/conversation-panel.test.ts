import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import {
  callHarness,
  extensionIdOf,
  freshProfile,
  launchChromium,
  openHarness,
  openPanelForOnlyTab,
  serveBuiltPages,
  type ServedPages,
} from '../support/browser.js';

const pagesRoot = new URL('./pages/', import.meta.url).pathname;
const extensionDir = resolve(new URL('../../dist/extension', import.meta.url).pathname);

/** What a panel shows of the weather chat: the transcript of the head, the tool call and its result, previews. */
async function expectTranscript(panel: Locator) {
  await panel.getByRole('list', { name: 'Threads' }).getByRole('button', { name: /^paris-chat/ }).click();
  const transcript = panel.locator('[aria-label="messages"] .juncture-transcript > li > .juncture-message');
  await expect.poll(() => transcript.locator('> header .role').allInnerTexts()).toEqual(['HUMAN', 'AI', 'AI']);
  expect(await transcript.nth(0).locator('.text').innerText()).toBe('What is the weather in Paris?');
  const call = transcript.nth(1).locator('.juncture-tool-call');
  expect(await call.locator('.tool-name').innerText()).toBe('get_weather');
  expect(await call.locator('.juncture-json').first().innerText()).toContain('Paris');
  // The tool's answer sits under the call it answers.
  expect(await call.locator('.juncture-message.role-tool .text').innerText()).toBe('It is 18°C and sunny in Paris.');
  expect(await call.locator('.juncture-message.role-tool .answers').innerText()).toBe('answers call-1');
  expect(await transcript.nth(1).locator('.usage').innerText()).toBe('25 in · 12 out · 37 tokens');
  expect(await transcript.nth(2).locator('.text').innerText()).toBe('It is 18°C and sunny in Paris. Enjoy your day!');

  const previews = await panel.locator('.juncture-row .preview').allInnerTexts();
  expect(previews).toEqual([
    'ai: It is 18°C and sunny in Paris. Enjoy your day!',
    'tool get_weather',
    'ai calls get_weather',
    'human: What is the weather in Paris?',
  ]);

  await panel.getByRole('tab', { name: 'Diff' }).click();
  const added = panel.locator('[aria-label="messages changes"] .juncture-message');
  await expect.poll(() => added.locator('.change').allInnerTexts()).toEqual(['added']);
  expect(await added.locator('.role').innerText()).toBe('AI');
}

describe('a tool-calling chat agent in the panel', () => {
  let pages: ServedPages;
  const profile = freshProfile();
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    pages = await serveBuiltPages(pagesRoot, { conversation: `${pagesRoot}conversation.html` });
    context = await launchChromium(profile.dir, { extensionDir });
    page = await openHarness(context, pages.url('conversation.html'));
    const conversation = await callHarness<[string, string][]>(page, 'ask', 'paris-chat', 'What is the weather in Paris?');
    expect(conversation).toEqual([
      ['human', 'What is the weather in Paris?'],
      ['ai', ''],
      ['tool', 'It is 18°C and sunny in Paris.'],
      ['ai', 'It is 18°C and sunny in Paris. Enjoy your day!'],
    ]);
  });

  afterAll(async () => {
    await context?.close();
    await pages?.close();
    profile.remove();
  });

  it('reads as a transcript in the extension', async () => {
    const panel = await openPanelForOnlyTab(context, extensionIdOf(extensionDir));
    await expectTranscript(panel.locator('.juncture-panel'));
    await panel.close();
  });

  it('reads the same in the page, with no extension needed', async () => {
    await page.getByRole('button', { name: 'Checkpoints' }).click();
    await expectTranscript(page.locator('.juncture-panel'));
  });
});
