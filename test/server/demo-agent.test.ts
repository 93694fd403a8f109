// A server agent continues a browser's thread: the demo, opened in Chromium on the demo server over PostgreSQL,
// stops at its approval step; a Node agent compiled with SyncedSaver on that database resumes it with `Command`;
// the page then shows the agent's answer.
import { rmSync } from 'node:fs';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { Command, InMemoryStore } from '@langchain/langgraph';
import pg from 'pg';
import type { BrowserContext, Page } from 'playwright-core';
import { buildAssistant } from '../../demo/assistant/graph.js';
import { SyncedSaver } from '../../src/server/index.js';
import { freshProfile, launchChromium } from '../support/browser.js';
import { buildApp } from '../support/build-app.js';
import { messages, send, settled } from '../support/demo-page.js';
import { DEMO_CONFIG, startDemoServer, type DemoServer } from '../support/demo-server.js';
import { endpointAt, freshDatabase, pullAll } from './support.js';

describe('a Node agent resumes a thread interrupted in the demo page', () => {
  let databaseUrl: string;
  let server: DemoServer;
  let outDir: string;
  const profile = freshProfile();
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    databaseUrl = await freshDatabase();
    outDir = await buildApp(DEMO_CONFIG);
    server = await startDemoServer({ databaseUrl, outDir });
    context = await launchChromium(profile.dir);
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${server.origin}/`);
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await server?.dispose();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
    profile.remove();
  });

  it('shows in the browser the checkpoints the agent wrote on PostgreSQL', async () => {
    await send(page, 'note: buy milk', /Noted: "buy milk"/);
    await page.getByLabel('Message', { exact: true }).fill('clear notes');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => page.getByRole('alertdialog', { name: 'Approval' }).innerText(), { timeout: 15_000 }).toContain('Clear notes?');
    await settled(page);

    const threads = new Set((await pullAll(endpointAt(server.syncUrl), 'alice')).flatMap((change) => (change.kind === 'checkpoint' ? [change.thread_id] : [])));
    expect(threads.size).toBe(1);
    const [thread_id] = threads;

    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    const saver = PostgresSaver.fromConnString(databaseUrl);
    try {
      const agent = buildAssistant(new SyncedSaver(saver, { pool }), new InMemoryStore());
      const config = { configurable: { thread_id } };
      const waiting = await agent.getState(config);
      expect(waiting.tasks.flatMap((task) => task.interrupts.map((entry) => entry.value))).toEqual([{ question: expect.stringContaining('Clear notes?') }]);
      await agent.invoke(new Command({ resume: 'approve' }), config);
      expect((await agent.getState(config)).values).toMatchObject({ notes: [] });
    } finally {
      await saver.end();
      await pool.end();
    }

    // A pull lands page by page and the page refreshes after each burst: what it shows settles on the agent's result.
    const shown = async () => ({
      messages: await messages(page),
      approvals: await page.getByRole('alertdialog', { name: 'Approval' }).count(),
      notes: await page.getByRole('list', { name: 'Notes' }).locator('li').count(),
    });
    await expect.poll(shown, { timeout: 15_000 }).toEqual({ messages: ['note: buy milk', 'Noted: "buy milk".', 'clear notes', 'Cleared notes.'], approvals: 0, notes: 0 });
  }, 240_000);
});
