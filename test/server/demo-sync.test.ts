// The demo's server as `npm run demo` starts it (`vite preview` with the sync endpoint at /sync), as a child
// process: on its embedded PGlite and on PostgreSQL through JUNCTURE_DATABASE_URL. Devices push and pull over HTTP;
// what they pushed outlives a stop and a SIGKILL of the server.
import { rmSync } from 'node:fs';
import type { BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import pg from 'pg';
import { buildApp } from '../support/build-app.js';
import { buildChatGraph, human } from '../support/chat-graph.js';
import { DEMO_CONFIG, startDemoServer, type DemoServer, type DemoServerOptions } from '../support/demo-server.js';
import { collect, threadConfig } from '../support/fixtures.js';
import { Device, endpointAt, eventsOf, freshDatabase, type SyncEndpoint } from './support.js';

const databases: [string, { embedded: boolean; options: () => Promise<DemoServerOptions> }][] = [
  ['the embedded PGlite', { embedded: true, options: async () => ({}) }],
  ['PostgreSQL from JUNCTURE_DATABASE_URL', { embedded: false, options: async () => ({ databaseUrl: await freshDatabase() }) }],
];

/**
 * A lock on one of PostgresSaver's tables that a push has to wait for, held by a connection of the test's own until
 * `release`: `untilWaitedFor` resolves once another connection waits for it.
 */
async function holdTable(databaseUrl: string, table: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${table} IN EXCLUSIVE MODE`);
  return {
    async untilWaitedFor(): Promise<void> {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const { rows } = await client.query<{ waiting: number }>(
          "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        if (rows[0]!.waiting > 0) return;
        if (Date.now() > deadline) throw new Error(`Nothing waited for the lock on ${table}.`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async release(): Promise<void> {
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`No ${what} within ${ms} ms.`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

async function stateOf(saver: BaseCheckpointSaver, thread: string) {
  const history = await collect(buildChatGraph(saver).getStateHistory(threadConfig(thread)));
  return history.map((snapshot) => ({ values: snapshot.values, id: snapshot.config.configurable?.['checkpoint_id'] }));
}

describe.each(databases)('the demo server on %s', (_label, { embedded, options }) => {
  let server: DemoServer;
  let endpoint: SyncEndpoint;
  const devices: Device[] = [];

  function device(): Device {
    // The demo takes every request as its one user, whatever the device says.
    const created = new Device(endpoint, 'alice');
    devices.push(created);
    return created;
  }

  let outDir: string | undefined;

  let databaseUrl: string | undefined;

  beforeAll(async () => {
    outDir = await buildApp(DEMO_CONFIG);
    const serverOptions = await options();
    databaseUrl = serverOptions.databaseUrl;
    server = await startDemoServer({ ...serverOptions, outDir });
    endpoint = endpointAt(server.syncUrl);
  }, 180_000);
  afterEach(async () => {
    for (const created of devices.splice(0)) await created.close();
  });
  afterAll(async () => {
    await server?.dispose();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('serves the built page and the sync endpoint on one origin', async () => {
    const page = await fetch(`${server.origin}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    const pulled = await fetch(`${server.syncUrl}/pull`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"cursor":null}' });
    expect(pulled.status).toBe(200);
    expect(await pulled.json()).toMatchObject({ changes: expect.any(Array), resync: false });
  });

  it('carries a thread from one client to another, and keeps it across a stop and a SIGKILL of the server', async () => {
    const a = device();
    const b = device();
    const graph = buildChatGraph(a.saver);
    for (const [turn, text] of ['hello', 'tell me more', 'fanout please'].entries()) {
      await graph.invoke({ messages: [human(text, turn)] }, threadConfig('kept'));
    }
    const first = await a.push();
    expect(first.stored).toBeGreaterThan(0);
    expect(await b.pull()).not.toEqual([]);
    expect(await stateOf(b.saver, 'kept')).toEqual(await stateOf(a.saver, 'kept'));

    // Stopped and started again: a new client gets everything; the old cursor is still the server's.
    await server.stop();
    expect(server.running).toBe(false);
    await server.start();
    const c = device();
    await c.pull();
    expect(await stateOf(c.saver, 'kept')).toEqual(await stateOf(a.saver, 'kept'));
    expect(await endpoint.pull('alice', { cursor: b.cursor, clientId: b.clientId })).toMatchObject({ changes: [], resync: false });

    // Killed right after it acknowledged a push: what it acknowledged is there after the restart.
    await graph.invoke({ messages: [human('sub please', 3)] }, threadConfig('kept'));
    const outbox = await a.outbox();
    expect(await a.push()).toMatchObject({ stored: outbox.length });
    await server.kill();
    await server.start();
    await b.pull();
    await c.pull();
    const expected = await stateOf(a.saver, 'kept');
    expect(expected).toHaveLength((await stateOf(b.saver, 'kept')).length);
    expect(await stateOf(b.saver, 'kept')).toEqual(expected);
    expect(await stateOf(c.saver, 'kept')).toEqual(expected);
    // A client that missed the acknowledgement pushes again: nothing is stored twice.
    expect(await endpoint.push('alice', outbox, a.clientId)).toEqual({ stored: 0, duplicates: outbox.length, deletedThreads: [] });
  }, 240_000);

  it('stores a push whole when its retry follows a SIGKILL of the server in the middle of it', async () => {
    const a = device();
    const graph = buildChatGraph(a.saver);
    for (let turn = 0; turn < 24; turn += 1) {
      await graph.invoke({ messages: [human(turn % 3 === 0 ? `turn ${turn}, fanout please` : `turn ${turn}`, turn)] }, threadConfig('cut'));
    }
    const outbox = await a.outbox();
    const started = Date.now();
    // On PostgreSQL the push is held inside its transaction, waiting for a lock on the saver's values table, so the
    // kill lands in the middle of it. The embedded PGlite is the server's own, so there it is a matter of timing.
    const blocker = databaseUrl === undefined ? undefined : await holdTable(databaseUrl, 'checkpoint_blobs');
    const cut = a.push().then(
      () => 'acknowledged',
      () => 'failed',
    );
    if (blocker) await blocker.untilWaitedFor();
    else await new Promise((resolve) => setTimeout(resolve, 150));
    await server.kill();
    await blocker?.release();
    const outcome = await cut;
    console.info(`push of ${outbox.length} records: ${outcome} when the server was killed after ${Date.now() - started} ms`);
    await server.start();
    const retried = await endpoint.push('alice', outbox, a.clientId);
    expect(retried.stored + retried.duplicates).toBe(outbox.length);
    if (outcome === 'acknowledged') expect(retried.stored).toBe(0);
    // Killed in the middle: nothing of it had been kept, and the retry stores all of it.
    if (blocker) expect([outcome, retried.stored]).toEqual(['failed', outbox.length]);
    const b = device();
    await b.pull();
    expect(await stateOf(b.saver, 'cut')).toEqual(await stateOf(a.saver, 'cut'));
  }, 240_000);

  it('tells a live stream of each push, and stores pushes of two clients at once', async () => {
    const response = await fetch(`${server.syncUrl}/live`);
    expect(response.status).toBe(200);
    const events = eventsOf(response);
    try {
      const start = JSON.parse((await events.next()).data).cursor as string;
      const a = device();
      const b = device();
      await buildChatGraph(a.saver).invoke({ messages: [human('from a', 0)] }, threadConfig('live-a'));
      await buildChatGraph(b.saver).invoke({ messages: [human('from b', 0, 1)] }, threadConfig('live-b'));
      await Promise.all([a.push(), b.push()]);
      // One event per commit, each with the newest cursor at the time: they reach the head.
      const head = (await endpoint.pull('alice', { cursor: start })).cursor;
      expect(head).not.toBe(start);
      for (let announced = start; announced !== head; ) {
        const event = await within(events.next(), 15_000, 'live event');
        expect(event.event).toBe('change');
        announced = JSON.parse(event.data).cursor as string;
      }
      const reader = device();
      await reader.pull();
      expect(await stateOf(reader.saver, 'live-a')).toEqual(await stateOf(a.saver, 'live-a'));
      expect(await stateOf(reader.saver, 'live-b')).toEqual(await stateOf(b.saver, 'live-b'));
    } finally {
      await events.close();
    }
  }, 120_000);

  if (embedded) {
    it('refuses to open the embedded database a running server has open, naming that server', async () => {
      const second = startDemoServer({ dataDir: server.dataDir });
      await expect(second).rejects.toThrow(/The sync database in .* is open in process \d+: stop that server, or give this one another folder/);
      expect(await endpoint.pull('alice', { cursor: null })).toMatchObject({ resync: false });
    }, 120_000);
  }
});
