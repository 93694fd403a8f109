// The pull cursor under a slow concurrent writer, cursors the server did not issue, and the live stream over
// Node's http.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { toNodeListener } from '../../src/server/index.js';
import { readNotification } from '../../src/server/record-store.js';
import { buildChatGraph, human } from '../support/chat-graph.js';
import { threadConfig } from '../support/fixtures.js';
import { Device, USERS, eventsOf, startServer, type TestServer } from './support.js';

let server: TestServer;
const devices: Device[] = [];

beforeEach(async () => {
  server = await startServer();
});
afterEach(async () => {
  for (const device of devices.splice(0)) await device.close();
  await server.close();
  expect(server.errors).toEqual([]);
});

async function deviceWithThread(thread: string, user: 'alice' | 'bob' = 'alice'): Promise<Device> {
  const device = new Device(server, user);
  devices.push(device);
  await buildChatGraph(device.saver).invoke({ messages: [human(`hello from ${thread}`, 0)] }, threadConfig(thread));
  return device;
}

describe('pull cursor', () => {
  it('never skips the changes of a writer that started first and committed last', async () => {
    // Inserts of the thread "slow" wait for an advisory lock the test holds: that writer stalls mid-transaction.
    const control = new pg.Client({ connectionString: server.url });
    await control.connect();
    await control.query(`CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_advisory_lock(4242); PERFORM pg_advisory_unlock(4242); RETURN NEW; END $$`);
    await control.query(`CREATE TRIGGER stall BEFORE INSERT ON juncture_sync_records FOR EACH ROW WHEN (NEW.thread_id = 'slow') EXECUTE FUNCTION stall()`);
    await control.query('SELECT pg_advisory_lock(4242)');
    try {
      const slow = await deviceWithThread('slow');
      const fast = await deviceWithThread('fast');
      const slowPush = slow.push();
      // Wait until the slow writer is inside its transaction, blocked on the lock.
      await expect.poll(async () => (await control.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)).rows[0].n, { timeout: 10_000 }).toBe(1);
      const fastPush = fast.push();
      // A reader now sees neither: the fast writer waits behind the slow one for the user's numbers.
      const during = await server.pull('alice');
      expect(during.changes).toEqual([]);
      // Another user's writes do not wait.
      const bob = await deviceWithThread('bobs', 'bob');
      expect((await bob.push()).stored).toBeGreaterThan(0);

      await control.query('SELECT pg_advisory_unlock(4242)');
      await Promise.all([slowPush, fastPush]);
      const after = await server.pull('alice', { cursor: during.cursor });
      const threads = new Set(after.changes.map((change) => change.thread_id));
      expect(threads).toEqual(new Set(['slow', 'fast']));
      expect(after.resync).toBe(false);
    } finally {
      await control.end();
    }
  });

  it('pages in commit order, a checkpoint after its values, and answers an unknown cursor with a full resync', async () => {
    const device = await deviceWithThread('paged');
    // A push per turn: pages end at commit ends, so each commit is a page.
    for (let turn = 1; turn <= 2; turn += 1) {
      await buildChatGraph(device.saver).invoke({ messages: [human(`more ${turn}`, turn)] }, threadConfig('paged'));
      await device.push();
    }
    const all = await server.pullAll('alice');
    const pages: string[][] = [];
    let cursor: string | null = null;
    for (;;) {
      const page = await server.pull('alice', { cursor, limit: 3 });
      pages.push(page.changes.map((change) => JSON.stringify(change)));
      cursor = page.cursor;
      if (!page.more) break;
    }
    expect(pages.flat()).toEqual(all.map((change) => JSON.stringify(change)));
    expect(pages.length).toBeGreaterThan(2);
    // A checkpoint never arrives before the values it names.
    const seen = new Set<string>();
    for (const change of all) {
      if (change.kind === 'blob') seen.add(JSON.stringify([change.channel, change.version]));
      if (change.kind === 'checkpoint') {
        for (const [channel, version] of Object.entries(change.channel_versions)) {
          const hasBlob = all.some((other) => other.kind === 'blob' && other.channel === channel && other.version === version);
          if (hasBlob) expect(seen.has(JSON.stringify([channel, version]))).toBe(true);
        }
      }
    }
    // At the head, nothing more.
    expect(await server.pull('alice', { cursor })).toMatchObject({ changes: [], more: false, resync: false, cursor });

    // Cursors this server never issued to alice: forged, of another user, from the future.
    const bobsCursor = (await server.pull('bob')).cursor;
    const [epoch] = cursor!.split('.');
    for (const foreign of ['forged', bobsCursor, `${epoch}.999999`, `${epoch}.-1`, '']) {
      const page = await server.pull('alice', { cursor: foreign });
      expect(page.resync).toBe(true);
      expect(page.changes).toEqual(all.slice(0, page.changes.length));
    }
  });

  it("serves a user whose row was deleted by hand while it ran: a new epoch, and the device's cursor resyncs", async () => {
    const a = await deviceWithThread('before');
    await a.push();
    await a.pull();
    const before = a.cursor!;
    await server.pool.query('DELETE FROM juncture_sync_users');
    // A push and a pull after it are served, each once, on a row made again with a new epoch.
    await buildChatGraph(a.saver).invoke({ messages: [human('after the reset', 1)] }, threadConfig('before'));
    const pushed = await a.push();
    expect(pushed.stored).toBeGreaterThan(0);
    expect(pushed.commit!.from.split('.')[0]).not.toBe(before.split('.')[0]);
    const page = await server.pull('alice', { cursor: before });
    expect(page.resync).toBe(true);
    expect(page.cursor.split('.')[0]).toBe(pushed.commit!.to.split('.')[0]);
  });
});

describe('live stream', () => {
  let http: Server;
  let base: string;

  beforeEach(async () => {
    http = createServer(toNodeListener(server.handler));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}/sync`;
  });
  afterEach(async () => {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });

  it('tells a device of each commit of its user, over http, and not of other users', async () => {
    const response = await fetch(`${base}/live`, { headers: { authorization: `Bearer ${USERS.alice}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = eventsOf(response);
    const first = await events.next();
    expect(first.event).toBe('change');
    const start = JSON.parse(first.data).cursor as string;

    // Bob's push says nothing to alice (an event for it would carry alice's unchanged cursor); alice's does.
    const bob = await deviceWithThread('bob-live', 'bob');
    await bob.push();
    const alice = await deviceWithThread('alice-live');
    const pushed = await fetch(`${base}/push`, {
      method: 'POST',
      headers: { authorization: `Bearer ${USERS.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ records: await alice.outbox() }),
    });
    expect(pushed.status).toBe(200);
    const second = await events.next();
    await events.close();
    expect(second.event).toBe('change');
    const announced = JSON.parse(second.data).cursor as string;
    expect(announced).not.toBe(start);
    const page = await server.pull('alice', { cursor: start });
    expect(page.cursor).toBe(announced);
    expect(new Set(page.changes.map((change) => change.thread_id))).toEqual(new Set(['alice-live']));
  });

  it('announces the cursor a commit notifies, and still wakes on the bare user id an earlier server version notifies', async () => {
    const response = await server.call('live');
    const events = eventsOf(response);
    const start = JSON.parse((await events.next()).data).cursor as string;
    const alice = await deviceWithThread('alice-notified');
    await alice.push();
    const committed = JSON.parse((await events.next()).data).cursor as string;
    expect(committed).not.toBe(start);
    expect((await server.pull('alice', { cursor: start })).cursor).toBe(committed);
    // A server of an earlier version on the same database notifies the user id alone: the stream reads the head.
    await server.pool.query(`SELECT pg_notify('juncture_sync_public', 'alice')`);
    expect(JSON.parse((await events.next()).data).cursor).toBe(committed);
    await events.close();
  });

  it('reads the user of a notification whatever characters it holds', () => {
    const cursor = `${'a'.repeat(32)}.12`;
    expect(readNotification(`${cursor} user with spaces 12.3 ${cursor}`)).toEqual({ userId: `user with spaces 12.3 ${cursor}`, cursor });
    expect(readNotification(`${cursor} `)).toEqual({ userId: '', cursor });
    expect(readNotification('alice')).toEqual({ userId: 'alice' });
    expect(readNotification(`${cursor}`)).toEqual({ userId: cursor });
  });

  it('refuses a stream without credentials', async () => {
    const response = await fetch(`${base}/live`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { code: 'unauthenticated', message: expect.any(String) } });
  });
});
