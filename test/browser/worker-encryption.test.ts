import { HumanMessage } from '@langchain/core/messages';
import { BrowserSaver, BrowserStore, CheckpointError, WorkerSaver, WorkerStore } from '../../src/index.js';
import { buildChatGraph } from '../support/chat-graph.js';
import { freshDbName } from '../support/fixtures.js';
import { holdsText, readEveryRecord } from '../support/raw-records.js';
import { watchedWorker } from '../support/watched-worker.js';

const SECRET = 'heron-5120-slate';

/** The package's worker, with every message the page posts to it kept: the secret where one holds it, else a copy. */
function watchedWorkerPosts(): { worker: Worker; posted: unknown[] } {
  const posted: unknown[] = [];
  const worker = watchedWorker((message) => posted.push(holdsText(message, SECRET) ? SECRET : structuredClone(message)));
  return { worker, posted };
}

async function runChat(saver: WorkerSaver) {
  const graph = buildChatGraph(saver);
  const config = { configurable: { thread_id: 'chat' } };
  for (const text of [`remember ${SECRET}`, 'fanout', `and ${SECRET} again`]) {
    await graph.invoke({ messages: [new HumanMessage({ id: text, content: text })] }, config);
  }
  return (await graph.getState(config)).values.messages.map((message: HumanMessage) => message.content);
}

describe('WorkerSaver with encryption', () => {
  it('encrypts on the page: nothing posted to the worker, nor stored by it, holds the plaintext', async () => {
    const dbName = freshDbName('worker-encryption');
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const { worker, posted } = watchedWorkerPosts();
    const saver = new WorkerSaver({ dbName, worker, encryption: { key } });
    try {
      const messages = await runChat(saver);
      expect(messages).toEqual(expect.arrayContaining([`remember ${SECRET}`, `and ${SECRET} again`]));
      expect(posted.length).toBeGreaterThan(5);
      expect(posted.filter((message) => message === SECRET)).toEqual([]);
      expect(holdsText(await readEveryRecord(dbName), SECRET)).toBe(false);
      // The same records read in this context with the key, and give DECRYPT without it.
      const reader = new BrowserSaver({ dbName, encryption: { key } });
      const values = (await reader.getTuple({ configurable: { thread_id: 'chat' } }))?.checkpoint.channel_values;
      expect((values?.['messages'] as HumanMessage[]).map((message) => message.content)).toEqual(messages);
      await reader.close();
      const keyless = new BrowserSaver({ dbName });
      await expect(keyless.getTuple({ configurable: { thread_id: 'chat' } })).rejects.toSatisfy((error) => CheckpointError.is(error, 'DECRYPT'));
      await keyless.close();
    } finally {
      await saver.close();
      worker.terminate();
      await BrowserSaver.deleteDatabase(dbName);
    }
  });

  it('posts the plaintext without encryption (the interception sees what crosses)', async () => {
    const dbName = freshDbName('worker-clear');
    const { worker, posted } = watchedWorkerPosts();
    const saver = new WorkerSaver({ dbName, worker });
    try {
      await runChat(saver);
      expect(posted.filter((message) => message === SECRET).length).toBeGreaterThan(0);
    } finally {
      await saver.close();
      worker.terminate();
      await BrowserSaver.deleteDatabase(dbName);
    }
  });

  it('WorkerStore encrypts on the page too: no posted message and no stored item holds the value', async () => {
    const dbName = freshDbName('worker-store-encryption');
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const { worker, posted } = watchedWorkerPosts();
    const store = new WorkerStore({ dbName, worker, encryption: { key, clearFields: ['kind'] } });
    try {
      await store.put(['notes'], 'n1', { kind: 'secret', text: `note ${SECRET}` });
      expect((await store.get(['notes'], 'n1'))?.value).toEqual({ kind: 'secret', text: `note ${SECRET}` });
      expect((await store.search(['notes'], { filter: { kind: 'secret' } })).map((item) => item.key)).toEqual(['n1']);
      expect(posted.length).toBeGreaterThan(0);
      expect(posted.filter((message) => message === SECRET)).toEqual([]);
      expect(holdsText(await readEveryRecord(dbName), SECRET)).toBe(false);
    } finally {
      await store.close();
      worker.terminate();
      await BrowserStore.deleteDatabase(dbName);
    }
  });
});
