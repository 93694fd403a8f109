// Browser commands (run in Node for browser-mode tests): the demo's sync handler with `cors`, served by Node's http
// on a loopback port of its own, so that the test page (on Vitest's origin) syncs with an endpoint on another
// origin, as an app on https://app.example does with https://api.example/sync. Each server has an embedded
// database (PGlite) in a temporary folder of its own, removed when it stops.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserCommand } from 'vitest/node';
import type { SyncCorsOptions } from '../../src/server/index.js';

export interface CrossOriginServer {
  /** The endpoint's base URL, for `startSync`'s `url`. */
  url: string;
  /** Names the server in the other commands. */
  id: string;
}

interface Running {
  /** `METHOD endpoint` of every request that reached the server, in order. */
  requests: string[];
  close(): Promise<void>;
}

const running = new Map<string, Running>();
let count = 0;

async function start(cors: SyncCorsOptions): Promise<CrossOriginServer> {
  // Loaded on first use, so that browser runs that never call these commands do not load the server.
  const [{ startDemoSync }, { toNodeListener }] = await Promise.all([import('../../demo/server/sync-endpoint.js'), import('../../src/server/index.js')]);
  const dataDir = mkdtempSync(join(tmpdir(), 'juncture-cross-origin-'));
  const sync = await startDemoSync({ dataDir, cors });
  const requests: string[] = [];
  const listener = toNodeListener(sync.handler);
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${new URL(req.url ?? '/', 'http://localhost').pathname.split('/').at(-1)}`);
    listener(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const id = String((count += 1));
  running.set(id, {
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await sync.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sync`, id };
}

function find(id: string): Running {
  const server = running.get(id);
  if (!server) throw new Error(`No cross-origin sync server ${id} is running.`);
  return server;
}

export const crossOriginSyncCommands = {
  /** Starts the demo's sync handler with `cors` on a port of its own. */
  startCrossOriginSync: ((_context, cors: SyncCorsOptions) => start(cors)) satisfies BrowserCommand<[SyncCorsOptions]>,
  /** The requests the server received so far, as `METHOD endpoint`. */
  crossOriginRequests: ((_context, id: string) => [...find(id).requests]) satisfies BrowserCommand<[string]>,
  stopCrossOriginSync: (async (_context, id: string) => {
    await find(id).close();
    running.delete(id);
  }) satisfies BrowserCommand<[string]>,
};

declare module 'vitest/browser' {
  interface BrowserCommands {
    startCrossOriginSync(cors: SyncCorsOptions): Promise<CrossOriginServer>;
    crossOriginRequests(id: string): Promise<string[]>;
    stopCrossOriginSync(id: string): Promise<void>;
  }
}
