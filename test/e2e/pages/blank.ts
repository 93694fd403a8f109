// A page with no checkpoint database, only one of its own that it upgrades while the panel is open.
import { HOOK_SOURCE } from '../../../src/devtools/protocol.js';

function open(name: string, version?: number): Promise<'opened' | 'blocked'> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, version);
    request.onupgradeneeded = () => request.result.createObjectStore(`store-${version ?? 1}`);
    request.onsuccess = () => {
      request.result.onversionchange = () => request.result.close();
      resolve('opened');
    };
    request.onblocked = () => resolve('blocked');
    request.onerror = () => reject(request.error);
  });
}

(window as unknown as { harness: unknown }).harness = {
  /** Claims a checkpoint database that does not exist, as a hostile script could. */
  announceGhost: async () => window.postMessage({ source: HOOK_SOURCE, type: 'announce', dbName: 'ghost' }, location.origin),
  databases: async () => (await indexedDB.databases()).map((info) => info.name),
  open,
};
