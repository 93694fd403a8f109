// The panel's fixture threads stored in this page's IndexedDB, shown by the extension and by the in-page panel.
import { BrowserSaver } from '../../../src/index.js';
import { connectDevtools } from '../../../src/devtools/index.js';
import { mountDevtoolsPanel } from '../../../src/panel/index.js';
import { conversationThread, failingThread, forkedThread } from '../../support/fixture-threads.js';
import { writeThreadExport } from '../../support/write-thread.js';

const saver = new BrowserSaver({ dbName: 'fixtures' });
const ready = (async () => {
  if (!(await saver.getTuple({ configurable: { thread_id: 'research-thread' } }))) {
    await writeThreadExport(saver, failingThread());
    await writeThreadExport(saver, forkedThread());
    await writeThreadExport(saver, conversationThread());
  }
  connectDevtools(saver);
  mountDevtoolsPanel({ saver, theme: 'light' });
})();

(window as unknown as { harness: unknown }).harness = { ready: () => ready };
