// The demo page: a local assistant whose conversations live in IndexedDB through WorkerSaver, and what it learns
// about the user through WorkerStore, both in one worker.
import { createRoot } from 'react-dom/client';
import { WorkerSaver, WorkerStore, installBrowserAsyncContext } from '../src/index.js';
import { connectDevtools } from '../src/devtools/index.js';
import { mountDevtoolsPanel } from '../src/panel/index.js';
import { startSync } from '../src/sync/index.js';
import { App } from './App.js';
import { Conversations } from './assistant/conversations.js';
import { buildAssistant } from './assistant/graph.js';
import './styles.css';

installBrowserAsyncContext();
const worker = new Worker(new URL('../src/worker.ts', import.meta.url), { type: 'module', name: 'juncture-demo' });
const saver = new WorkerSaver({ dbName: 'juncture-demo', worker });
const store = new WorkerStore({ dbName: 'juncture-demo-memory', worker });
const assistant = buildAssistant(saver, store);
connectDevtools(saver, { graph: assistant, store });
mountDevtoolsPanel({ saver, graph: assistant, store, position: 'bottom-left' });
// Every conversation goes to the demo server's endpoint (same origin) and comes back on every other browser there.
const sync = startSync(saver, { url: '/sync', threads: 'all', live: true });

createRoot(document.getElementById('root')!).render(<App conversations={new Conversations(saver, store, assistant)} sync={sync} />);

// Offline: a service worker serves the app's files from a cache when there is no network. The files of this first
// visit were fetched before it was installed, so the page puts them in its cache (named as in sw.js) itself.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  void navigator.serviceWorker.register(new URL('sw.js', document.baseURI), { scope: './' }).then(async () => {
    const ownFiles = [document.baseURI, ...performance.getEntriesByType('resource').map((entry) => entry.name)].filter(
      (url) => new URL(url).origin === location.origin,
    );
    const cache = await caches.open('juncture-demo-v1');
    await Promise.allSettled([...new Set(ownFiles)].map((url) => cache.add(url)));
  });
}
