// The demo's server (`vite preview` with the sync endpoint, as `npm run demo` starts it) as a child process on a
// free port, for tests and benchmarks that stop, kill and restart it: the port and the data stay across restarts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';

const checkout = fileURLToPath(new URL('../..', import.meta.url));
const viteCli = join(checkout, 'node_modules/vite/bin/vite.js');
/** The demo's Vite config: build it with `buildApp(DEMO_CONFIG)` (test/support/build-app.ts) to serve the page too. */
export const DEMO_CONFIG = join(checkout, 'demo/vite.config.ts');
/** The first start of the embedded database runs initdb in WebAssembly: seconds on a busy machine. */
const START_TIMEOUT_MS = 120_000;

export interface DemoServerOptions {
  /** A PostgreSQL URL (JUNCTURE_DATABASE_URL); without it, the embedded PGlite in `dataDir`. */
  databaseUrl?: string;
  /** PGlite's folder; by default a new temporary one, removed by `dispose()`. */
  dataDir?: string;
  /** A built demo (`buildApp(DEMO_CONFIG)`) to serve beside the endpoint, as `npm run demo` does; without it, only `/sync` answers. */
  outDir?: string;
}

export interface DemoServer {
  /** `http://127.0.0.1:<port>`, the same after every restart. */
  readonly origin: string;
  /** The sync endpoint: `${origin}/sync`. */
  readonly syncUrl: string;
  /** PGlite's folder (unused on PostgreSQL). */
  readonly dataDir: string;
  readonly running: boolean;
  /** Starts the process, if it is not running, and waits until the endpoint answers. */
  start(): Promise<void>;
  /** SIGTERM: the server closes its streams and database, then exits. */
  stop(): Promise<void>;
  /** SIGKILL: no chance to close anything, as a crash or a pulled plug. */
  kill(): Promise<void>;
  /** What the process printed, for failure messages. */
  output(): string;
  /** Stops the process and removes a temporary data folder. */
  dispose(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts the demo's server; see `DemoServer`. */
export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const ownDataDir = options.dataDir === undefined ? mkdtempSync(join(tmpdir(), 'juncture-demo-data-')) : undefined;
  const dataDir = options.dataDir ?? ownDataDir!;
  const outDir = options.outDir ?? join(dataDir, 'no-build');
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const syncUrl = `${origin}/sync`;
  let child: ChildProcess | undefined;
  let log = '';

  const env: NodeJS.ProcessEnv = { ...process.env, JUNCTURE_DEMO_DATA_DIR: dataDir };
  delete env['JUNCTURE_DATABASE_URL'];
  if (options.databaseUrl) env['JUNCTURE_DATABASE_URL'] = options.databaseUrl;

  /** The endpoint answers a pull: the database is open and the tables are there. */
  async function answers(): Promise<boolean> {
    try {
      const response = await fetch(`${syncUrl}/pull`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ cursor: null, limit: 1 }),
        signal: AbortSignal.timeout(5_000),
      });
      await response.body?.cancel();
      return response.status === 200;
    } catch {
      return false;
    }
  }

  const server: DemoServer = {
    origin,
    syncUrl,
    dataDir,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async start() {
      if (server.running) return;
      log += `--- start on port ${port}\n`;
      const started = spawn(process.execPath, [viteCli, 'preview', '--config', DEMO_CONFIG, '--port', String(port), '--strictPort', '--outDir', outDir], {
        cwd: checkout,
        env,
        // Vite closes its preview server when stdin ends: an open pipe keeps it up until the test stops it.
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      child = started;
      started.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
      started.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
      const deadline = Date.now() + START_TIMEOUT_MS;
      while (!(await answers())) {
        if (!server.running || child !== started) throw new Error(`The demo server exited before it answered:\n${log}`);
        if (Date.now() > deadline) {
          await server.kill();
          throw new Error(`The demo server did not answer within ${START_TIMEOUT_MS} ms:\n${log}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async stop() {
      if (!child) return;
      const stopping = child;
      stopping.kill('SIGTERM');
      await exited(stopping);
      log += `--- stopped (${stopping.exitCode ?? stopping.signalCode})\n`;
    },
    async kill() {
      if (!child) return;
      const killed = child;
      killed.kill('SIGKILL');
      await exited(killed);
      log += '--- killed\n';
    },
    output: () => log,
    async dispose() {
      if (server.running) {
        const stopped = server.stop();
        const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 15_000).unref());
        if ((await Promise.race([stopped, timeout])) === 'timeout') await server.kill();
      }
      if (ownDataDir) rmSync(ownDataDir, { recursive: true, force: true });
    },
  };
  try {
    await server.start();
  } catch (error) {
    if (ownDataDir) rmSync(ownDataDir, { recursive: true, force: true });
    throw error;
  }
  return server;
}
