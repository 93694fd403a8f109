// The demo's embedded database (PGlite behind its PostgreSQL wire server, reached through node-postgres) under
// several devices at once: pushes, pulls and live streams in flight together are each answered as PostgreSQL
// answers them, with no failure on the server's side. On PostgreSQL, an idle connection that breaks is reported and
// replaced, not the end of the server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import pg from 'pg';
import { inject } from 'vitest';
import { startDemoSync, type DemoSync } from '../../demo/server/sync-endpoint.js';
import { buildChatGraph, human } from '../support/chat-graph.js';
import { collect, threadConfig } from '../support/fixtures.js';
import { Device, eventsOf, freshDatabase, handlerEndpoint } from './support.js';

const WRITERS = 3;
const READERS = 4;
const ROUNDS = 6;

async function stateOf(saver: BaseCheckpointSaver, thread: string) {
  const history = await collect(buildChatGraph(saver).getStateHistory(threadConfig(thread)));
  return history.map((snapshot) => ({ values: snapshot.values, id: snapshot.config.configurable?.['checkpoint_id'] }));
}

describe("the demo's embedded PGlite", () => {
  let dataDir: string;
  let sync: DemoSync;
  const errors: unknown[] = [];
  const devices: Device[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'juncture-demo-database-'));
    sync = await startDemoSync({ dataDir, onError: (error) => errors.push(error) });
  }, 120_000);
  afterAll(async () => {
    for (const device of devices) await device.close();
    await sync?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers pushes, pulls and live streams of several devices at once, every one of them', async () => {
    const endpoint = handlerEndpoint(sync.handler);
    const device = () => {
      const created = new Device(endpoint, 'alice');
      devices.push(created);
      return created;
    };
    const writers = Array.from({ length: WRITERS }, device);
    const readers = Array.from({ length: READERS }, device);
    const graphs = writers.map((writer) => buildChatGraph(writer.saver));
    const streams: ReturnType<typeof eventsOf>[] = [];
    const heard: string[] = [];
    const listen = async () => {
      const response = await endpoint.call('live');
      expect(response.status).toBe(200);
      const events = eventsOf(response);
      streams.push(events);
      void (async () => {
        for (;;) heard.push((await events.next()).event);
      })().catch(() => undefined);
    };
    try {
      for (let round = 0; round < ROUNDS; round += 1) {
        await Promise.all(graphs.map((graph, i) => graph.invoke({ messages: [human(`round ${round} of writer ${i}`, round)] }, threadConfig(`thread-${i}`))));
        // Each round: every writer pushes while every reader pulls from the start (parameterized statements in
        // and out of transactions from several connections at once), and a new live stream opens.
        const answers = await Promise.allSettled([
          ...writers.map((writer) => writer.push()),
          ...readers.map(async (reader) => {
            reader.cursor = null;
            await reader.pull();
          }),
          listen(),
        ]);
        // The server's own failures first: they say why a request was answered with 500.
        expect(errors.map(String)).toEqual([]);
        expect(answers.filter((answer) => answer.status === 'rejected')).toEqual([]);
      }
      await Promise.all(readers.map((reader) => reader.pull()));
      for (const reader of readers) {
        for (const [i, writer] of writers.entries()) expect(await stateOf(reader.saver, `thread-${i}`)).toEqual(await stateOf(writer.saver, `thread-${i}`));
      }
      expect(heard.filter((event) => event === 'change').length).toBeGreaterThanOrEqual(ROUNDS);
    } finally {
      for (const events of streams) await events.close();
    }
  }, 120_000);
});

describe("the demo's database when its idle connection breaks", () => {
  it('reports it and answers the next request on a new connection', async () => {
    const databaseUrl = await freshDatabase();
    const errors: unknown[] = [];
    const sync = await startDemoSync({ databaseUrl, dataDir: tmpdir(), onError: (error) => errors.push(error) });
    const admin = new pg.Client({ connectionString: inject('databaseUrl') });
    await admin.connect();
    const device = new Device(handlerEndpoint(sync.handler), 'alice');
    try {
      const graph = buildChatGraph(device.saver);
      await graph.invoke({ messages: [human('first', 0)] }, threadConfig('idle-break'));
      await device.sync();
      // What a database restart or an administrator does to the pool's idle connections.
      const database = new URL(databaseUrl).pathname.slice(1);
      const ended = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [database]);
      expect(ended.rowCount).toBeGreaterThan(0);
      await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), { timeout: 10_000 });
      await graph.invoke({ messages: [human('second', 1)] }, threadConfig('idle-break'));
      await device.sync();
      const reader = new Device(handlerEndpoint(sync.handler), 'alice');
      try {
        await reader.sync();
        expect(await stateOf(reader.saver, 'idle-break')).toEqual(await stateOf(device.saver, 'idle-break'));
      } finally {
        await reader.close();
      }
    } finally {
      await device.close();
      await admin.end();
      await sync.close();
    }
  });
});
