// `setup()` as servers call it on every start: several processes at once on a fresh database, each with a pool of
// its own, create sync's tables once; calling it again changes nothing; the tables then serve pushes and pulls.
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import pg from 'pg';
import { createSyncHandler } from '../../src/server/index.js';
import { buildChatGraph, human } from '../support/chat-graph.js';
import { collect, threadConfig } from '../support/fixtures.js';
import { Device, freshDatabase, handlerEndpoint } from './support.js';

const SERVERS = 4;

it('creates sync\'s tables once when several servers set up at once, in their schema, and again on every start', async () => {
  const url = await freshDatabase();
  const pools = Array.from({ length: SERVERS }, () => new pg.Pool({ connectionString: url, max: 2 }));
  const saver = PostgresSaver.fromConnString(url);
  const devices: Device[] = [];
  try {
    await saver.setup();
    const handlers = pools.map((pool) => createSyncHandler({ saver, pool, schema: 'sync_tables', authenticate: () => ({ userId: 'alice' }) }));
    await Promise.all(handlers.map((handler) => handler.setup()));
    await Promise.all(handlers.map((handler) => handler.setup()));

    const { rows: steps } = await pools[0]!.query<{ v: number }>('SELECT v FROM sync_tables.juncture_sync_migrations ORDER BY v');
    expect(steps.map(({ v }) => v)).toEqual(steps.map((_, i) => i));
    expect(steps.length).toBeGreaterThan(0);
    const { rows: tables } = await pools[0]!.query<{ schema: string; name: string }>(
      "SELECT table_schema AS schema, table_name AS name FROM information_schema.tables WHERE table_name LIKE 'juncture_sync_%' ORDER BY 2",
    );
    expect(tables.map(({ schema }) => schema)).toEqual(tables.map(() => 'sync_tables'));
    expect(tables.map(({ name }) => name)).toEqual(['juncture_sync_migrations', 'juncture_sync_pruned', 'juncture_sync_records', 'juncture_sync_threads', 'juncture_sync_users']);

    // A thread pushed through one server is pulled through another.
    const [a, b] = [handlers[0]!, handlers[SERVERS - 1]!].map((handler) => new Device(handlerEndpoint(handler), 'alice'));
    devices.push(a!, b!);
    await buildChatGraph(a!.saver).invoke({ messages: [human('set up once', 0)] }, threadConfig('after-setup'));
    expect((await a!.push()).stored).toBeGreaterThan(0);
    await b!.pull();
    const ids = async (on: Device) => (await collect(on.saver.list(threadConfig('after-setup')))).map((tuple) => tuple.config.configurable?.['checkpoint_id']);
    expect(await ids(b!)).toEqual(await ids(a!));
    for (const handler of handlers) await handler.close();
  } finally {
    for (const device of devices) await device.close();
    await saver.end();
    for (const pool of pools) await pool.end();
  }
});
