import { BrowserSaver } from '../../src/index.js';
import { connectDevtools } from '../../src/devtools/hook.js';
import { createPageDataSource } from '../../src/devtools/page-source.js';
import { CONTENT_SOURCE, readHookMessage, type HookMessage } from '../../src/devtools/protocol.js';
import { readEveryRecord } from '../support/raw-records.js';
import { DevtoolsPanel } from '../../src/panel/DevtoolsPanel.js';
import { usePanelContainer } from '../support/panel-container.js';
import { freshDbName, makeCheckpoint, makeMetadata, threadConfig } from '../support/fixtures.js';
import type { TypedBytes } from '../../src/storage/records.js';

const SECRET = 'plover-2208-flint';
const panel = usePanelContainer(600);
let saver: BrowserSaver;

beforeEach(async () => {
  saver = new BrowserSaver({
    dbName: freshDbName('encrypted-panel'),
    encryption: { key: await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']) },
  });
  const config = await saver.put(threadConfig('t'), makeCheckpoint('cp-1', { notes: `note ${SECRET}` }, { notes: 1 }), makeMetadata(0, { secret: SECRET }), { notes: 1 });
  await saver.putWrites(config, [['notes', `write ${SECRET}`]], 'task-1');
});
afterEach(async () => {
  await saver.close();
  await BrowserSaver.deleteDatabase(saver.dbName);
});

const channelTexts = () => [...panel.element.querySelectorAll<HTMLElement>('.juncture-channel')].map((section) => section.textContent ?? '');

async function renderPanel(inspected: Parameters<typeof createPageDataSource>[0]) {
  await panel.render(<DevtoolsPanel source={createPageDataSource(inspected)} theme="light" />);
  await vi.waitFor(() => expect(panel.element.querySelector('.juncture-detail')?.textContent).toContain('Checkpoint cp-1'), { timeout: 10_000 });
}

describe('devtools on an encrypted saver', () => {
  it('says "encrypted" where it reads IndexedDB without the key, as the extension does', async () => {
    // What the extension's content script has: the database name, no key.
    await renderPanel([{ saver: { dbName: saver.dbName, subscribe: () => () => undefined } }]);
    await vi.waitFor(() => expect(channelTexts().some((text) => text.startsWith('notes') && text.includes('encrypted'))).toBe(true), { timeout: 10_000 });
    expect(panel.element.textContent).not.toContain(SECRET);
  });

  it('shows the values when the page\'s own saver is given: it decrypts in the page', async () => {
    await renderPanel([{ saver }]);
    await vi.waitFor(() => expect(channelTexts().some((text) => text.includes(`note ${SECRET}`))).toBe(true), { timeout: 10_000 });
    expect(panel.element.textContent).not.toMatch(/\bencrypted\b/);
  });

  it('connectDevtools decrypts a stored value the content script sends, for its own database only', async () => {
    const disconnect = connectDevtools(saver);
    const heard: HookMessage[] = [];
    const listen = (event: MessageEvent) => {
      const message = readHookMessage(event, window);
      if (message) heard.push(message);
    };
    window.addEventListener('message', listen);
    try {
      await vi.waitFor(() => expect(heard).toContainEqual(expect.objectContaining({ type: 'announce', dbName: saver.dbName, encrypted: true })));
      const records = await readEveryRecord(saver.dbName);
      const stored = (records['checkpoints']![0] as { metadata: TypedBytes }).metadata;
      const ask = (requestId: string, dbName: string) =>
        window.postMessage({ source: CONTENT_SOURCE, type: 'decrypt', requestId, dbName, value: stored }, window.location.origin);
      ask('other-db', 'not-this-one');
      ask('mine', saver.dbName);
      await vi.waitFor(() => expect(heard.some((message) => message.type === 'decrypt-result')).toBe(true));
      const results = heard.filter((message) => message.type === 'decrypt-result');
      expect(results.map((message) => message.requestId)).toEqual(['mine']);
      const opened = results[0]!.value!;
      expect(opened.type).toBe('json');
      expect(JSON.parse(new TextDecoder().decode(opened.bytes))).toMatchObject({ secret: SECRET });
    } finally {
      window.removeEventListener('message', listen);
      disconnect();
    }
  });
});
