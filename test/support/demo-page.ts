// What tests read and do in the demo's page (demo/App.tsx), driven by Playwright: its messages, conversations and
// sync status, sending, and what its database holds.
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

export const messages = (page: Page) => page.getByRole('list', { name: 'Messages' }).locator('.message .text').allInnerTexts();
export const titles = (page: Page) => page.getByLabel('Conversations').locator('.thread').allInnerTexts();
export const syncStatus = (page: Page) => page.getByRole('status', { name: 'Sync' }).innerText();

export async function send(page: Page, text: string, reply: RegExp) {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await expect.poll(async () => (await messages(page)).at(-1) ?? '', { timeout: 15_000 }).toMatch(reply);
}

/** Starts a conversation of two turns, titled `title`. */
export async function converse(page: Page, title: string) {
  await page.getByRole('button', { name: 'New conversation' }).click();
  await expect.poll(() => messages(page)).toEqual([]);
  await send(page, `note: ${title}`, /Noted/);
  await send(page, `todo: ${title}`, /Added to your list/);
}

/** A page of Playwright's or of Puppeteer's: both run a function in the page. */
interface EvaluatingPage {
  evaluate<T>(pageFunction: () => Promise<T>): Promise<T>;
}

/** What the page's database holds: its checkpoints' keys, and how many commits wait in the outbox (the journal). */
export function localState(page: EvaluatingPage): Promise<{ checkpoints: string[]; outbox: number }> {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const opening = indexedDB.open('juncture-demo');
        opening.onerror = () => reject(opening.error);
        opening.onsuccess = () => {
          const db = opening.result;
          const tx = db.transaction(['checkpoints', 'journal'], 'readonly');
          const checkpoints = tx.objectStore('checkpoints').getAll();
          const outbox = tx.objectStore('journal').count();
          tx.oncomplete = () => {
            db.close();
            const keys = (checkpoints.result as { thread_id: string; checkpoint_ns: string; checkpoint_id: string }[]).map((record) =>
              JSON.stringify([record.thread_id, record.checkpoint_ns, record.checkpoint_id]),
            );
            resolve({ checkpoints: keys.sort(), outbox: outbox.result });
          };
        };
      }),
  );
}

/** Waits until the page's outbox is empty and its sync idle. */
export async function settled(page: Page) {
  await expect.poll(async () => (await localState(page)).outbox, { timeout: 60_000 }).toBe(0);
  await expect.poll(() => syncStatus(page), { timeout: 60_000 }).toBe('Sync: idle');
}
