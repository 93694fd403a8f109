// A handler whose pool has one connection (as the demo's embedded database has): pushes, pulls, a server agent's
// writes and the live streams (on a listenPool of their own) take turns on it; none of them ever holds the
// connection while waiting for a second one, which would wait forever.
import { MemorySaver } from '@langchain/langgraph-checkpoint';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import pg from 'pg';
import { CheckpointError } from '../../src/errors.js';
import { createSyncHandler, SyncedSaver, type SyncHandler } from '../../src/server/index.js';
import { buildChatGraph, human } from '../support/chat-graph.js';
import { collect, threadConfig } from '../support/fixtures.js';
import { Device, eventsOf, freshDatabase, handlerEndpoint } from './support.js';

const authenticate = () => ({ userId: 'alice' });
/** A wait for a connection longer than this fails the request instead of hanging: a deadlock shows as an error. */
const CONNECTION_TIMEOUT_MS = 10_000;

function stateOf(saver: ConstructorParameters<typeof SyncedSaver>[0], thread: string) {
  return collect(buildChatGraph(saver).getStateHistory(threadConfig(thread))).then((history) => history.map((snapshot) => snapshot.values));
}

it('is refused when the live streams would keep the only connection for LISTEN', async () => {
  const pool = new pg.Pool({ max: 1 });
  try {
    for (const options of [{}, { listenPool: pool }]) {
      let caught: unknown;
      try {
        createSyncHandler({ saver: new MemorySaver(), pool, authenticate, ...options });
      } catch (error) {
        caught = error;
      }
      expect(CheckpointError.is(caught, 'INVALID_CONFIG')).toBe(true);
      expect((caught as Error).message).toMatch(/pool has one connection, which the live streams would keep for LISTEN; give them another \(listenPool\)/);
    }
    // A pool of two leaves one for pushes and pulls.
    expect(() => createSyncHandler({ saver: new MemorySaver(), pool: new pg.Pool({ max: 2 }), authenticate })).not.toThrow();
  } finally {
    await pool.end();
  }
});

describe.each([
  ['the saver on the same pool (its rows and sync’s in one transaction)', { saverOnSyncPool: true }],
  ['the saver on a pool of one of its own', { saverOnSyncPool: false }],
])('a pool of one connection, with %s', (_label, { saverOnSyncPool }) => {
  let pool: pg.Pool;
  let listenPool: pg.Pool;
  let saverPool: pg.Pool;
  let saver: PostgresSaver;
  let handler: SyncHandler;
  const errors: unknown[] = [];
  const devices: Device[] = [];

  beforeEach(async () => {
    const url = await freshDatabase();
    const onePool = () => new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: CONNECTION_TIMEOUT_MS });
    pool = onePool();
    listenPool = onePool();
    saverPool = saverOnSyncPool ? pool : onePool();
    saver = new PostgresSaver(saverPool);
    await saver.setup();
    handler = createSyncHandler({ saver, pool, listenPool, authenticate, onError: (error) => errors.push(error) });
    await handler.setup();
  });
  afterEach(async () => {
    for (const device of devices.splice(0)) await device.close();
    await handler.close();
    for (const each of new Set([pool, listenPool, saverPool])) await each.end();
    expect(errors.map(String)).toEqual([]);
  });

  it('serves pushes, pulls, a live stream and a server agent at once', async () => {
    const endpoint = handlerEndpoint(handler);
    const device = () => {
      const created = new Device(endpoint, 'alice');
      devices.push(created);
      return created;
    };
    const writers = [device(), device()];
    const reader = device();
    const live = eventsOf(await endpoint.call('live'));
    try {
      const start = JSON.parse((await live.next()).data).cursor as string;
      await Promise.all(writers.map((writer, i) => buildChatGraph(writer.saver).invoke({ messages: [human(`hello ${i}`, 0)] }, threadConfig(`thread-${i}`))));
      await Promise.all(writers.map((writer) => writer.push()));
      // The agent continues writer 0's thread while both writers push more and the reader pulls.
      const agent = buildChatGraph(new SyncedSaver(saver, { pool }));
      await Promise.all([
        agent.invoke({ messages: [human('from the agent', 1, 1)] }, threadConfig('thread-0')),
        ...writers.map(async (writer, i) => {
          await buildChatGraph(writer.saver).invoke({ messages: [human(`more ${i}`, 1)] }, threadConfig(`thread-${i}`));
          await writer.push();
        }),
        reader.pull(),
      ]);
      // The stream heard the commits: its latest cursor moves past the start.
      expect(JSON.parse((await live.next()).data).cursor).not.toBe(start);
      await reader.pull();
      expect(await stateOf(reader.saver, 'thread-1')).toEqual(await stateOf(writers[1]!.saver, 'thread-1'));
      // Thread 0 holds the writer's turns and the agent's: the server's saver has them all, and so has the reader.
      expect(await stateOf(reader.saver, 'thread-0')).toEqual(await stateOf(saver, 'thread-0'));
      expect(JSON.stringify(await stateOf(saver, 'thread-0'))).toContain('from the agent');
    } finally {
      await live.close();
    }
  }, 60_000);
});
