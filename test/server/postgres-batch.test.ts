// Pushes written into PostgresSaver's tables in one transaction of multi-row statements, against the same pushes
// given to PostgresSaver's own put and putWrites: the rows must be the same, and a fresh PostgresSaver must read
// the same checkpoints back.
import { DeltaSnapshot, JsonPlusSerializer } from '@langchain/langgraph-checkpoint';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import pg from 'pg';
import { createSyncHandler, type SyncHandler } from '../../src/server/index.js';
import { KNOWN_POSTGRES_SAVER_MIGRATION } from '../../src/server/postgres-batch.js';
import type { PushResponse } from '../../src/wire/protocol.js';
import { blobKey, readWireRecord, toWireRecord, type WireRecord } from '../../src/wire/records.js';
import { buildAgentGraph, resume } from '../support/agent-graph.js';
import { buildChatGraph, human } from '../support/chat-graph.js';
import { collect, makeCheckpoint, makeMetadata, threadConfig } from '../support/fixtures.js';
import { Device, freshDatabase, type SyncEndpoint } from './support.js';

/** A PostgresSaver of another class: the handler gives it each checkpoint by its own put and putWrites. */
class PerCallSaver extends PostgresSaver {}

interface Side {
  url: string;
  pool: pg.Pool;
  saver: PostgresSaver;
  handler: SyncHandler;
  warnings: string[];
  errors: unknown[];
  push(records: WireRecord[]): Promise<PushResponse>;
  close(): Promise<void>;
}

interface SideOptions {
  /** Default true: the saver on sync's pool; false: a pool of its own. */
  sharedPool?: boolean;
  /** Default true: the saver's setup() runs before the first push. */
  setUp?: boolean;
}

/** A handler on a fresh database. */
async function startSide(saverClass: typeof PostgresSaver, options: SideOptions = {}): Promise<Side> {
  const url = await freshDatabase();
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const saverPool = options.sharedPool === false ? new pg.Pool({ connectionString: url, max: 10 }) : pool;
  const saver = new saverClass(saverPool);
  if (options.setUp !== false) await saver.setup();
  const warnings: string[] = [];
  const errors: unknown[] = [];
  const handler = createSyncHandler({
    saver,
    pool,
    authenticate: () => ({ userId: 'alice' }),
    onError: (error) => errors.push(error),
    onWarning: (message) => warnings.push(message),
  });
  await handler.setup();
  return {
    url,
    pool,
    saver,
    handler,
    warnings,
    errors,
    push: async (records) => {
      const response = await handler(
        new Request('http://sync.test/sync/push', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ records }) }),
      );
      if (response.status !== 200) throw new Error(`${response.status}: ${await response.text()}`);
      return (await response.json()) as PushResponse;
    },
    close: async () => {
      await handler.close();
      if (saverPool !== pool) await saverPool.end();
      await pool.end();
    },
  };
}

/** A device's pushes, sent to every side with the same answer expected from each. */
function everySide(sides: Side[]): SyncEndpoint {
  return {
    push: async (_user, records) => {
      // Alike but for the cursors of the commit, which each server numbers in its own epoch.
      const answers = (await Promise.all(sides.map((side) => side.push(records)))).map(({ commit: _, ...answer }) => answer);
      for (const answer of answers.slice(1)) expect(answer).toEqual(answers[0]);
      return answers[0]!;
    },
    pull: () => Promise.reject(new Error('These devices only push.')),
  };
}

/** Every row of PostgresSaver's tables, JSONB as PostgreSQL's canonical text and bytes as hex. */
async function saverRows(pool: pg.Pool) {
  const query = async (sql: string) => (await pool.query(sql)).rows;
  return {
    checkpoints: await query(
      `SELECT thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint::text, metadata::text FROM checkpoints ORDER BY 1, 2, 3`,
    ),
    blobs: await query(`SELECT thread_id, checkpoint_ns, channel, version, type, encode(blob, 'hex') AS blob FROM checkpoint_blobs ORDER BY 1, 2, 3, 4`),
    writes: await query(
      `SELECT thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, encode(blob, 'hex') AS blob FROM checkpoint_writes ORDER BY 1, 2, 3, 4, 5`,
    ),
  };
}

/** What a fresh PostgresSaver on the database reads: every list, and each checkpoint and each thread's latest by getTuple. */
async function savedState(url: string) {
  const reader = PostgresSaver.fromConnString(url);
  try {
    const all = await collect(reader.list({}));
    const scopes = [...new Set(all.map((tuple) => JSON.stringify([tuple.config.configurable?.thread_id, tuple.config.configurable?.checkpoint_ns])))];
    const latest = [];
    for (const scope of scopes) {
      const [thread_id, checkpoint_ns] = JSON.parse(scope) as [string, string];
      latest.push(await reader.getTuple(threadConfig(thread_id, checkpoint_ns)));
      latest.push(await collect(reader.list(threadConfig(thread_id, checkpoint_ns), { limit: 2 })));
    }
    const byId = [];
    for (const tuple of all) byId.push(await reader.getTuple(tuple.config));
    return { all, latest, byId };
  } finally {
    await reader.end();
  }
}

const sides: Side[] = [];
const devices: Device[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const device of devices.splice(0)) await device.close();
  for (const side of sides.splice(0)) {
    await side.close();
    expect(side.errors).toEqual([]);
  }
});

async function side(saverClass: typeof PostgresSaver, options?: SideOptions): Promise<Side> {
  const started = await startSide(saverClass, options);
  sides.push(started);
  return started;
}

function device(endpoint: SyncEndpoint): Device {
  const created = new Device(endpoint, 'alice');
  devices.push(created);
  return created;
}

/** Checkpoints and writes made by hand: a fork, a subgraph namespace, values of several types, special writes. */
async function writeHandMadeThread(saver: Device['saver']): Promise<void> {
  const values = {
    text: 'quotes " and \\ backslashes, <html>, emoji 🦜, NUL-free',
    number: 3.25,
    big: 2 ** 53 - 1,
    flag: false,
    nothing: null,
    nested: { list: [1, 'two', { three: [3] }], empty: {} },
    bytes: new Uint8Array([0, 1, 2, 250, 255]),
  };
  const versions = Object.fromEntries(Object.keys(values).map((channel, i) => [channel, i + 1.5]));
  const root = await saver.put(threadConfig('hand'), makeCheckpoint('cp-1', values, versions), makeMetadata(-1, { note: 'root', unicode: 'ü' }), versions);
  const child = await saver.put(root, makeCheckpoint('cp-2', { text: 'branch one' }, { ...versions, text: 10.25 }), makeMetadata(0), { text: 10.25 });
  // A fork: a second child of the root, with its own version of the same channel.
  await saver.put(root, makeCheckpoint('cp-3', { text: 'branch two', number: -0.5 }, { ...versions, text: 11.75, number: 12.125 }), makeMetadata(0, { fork: true }), {
    text: 11.75,
    number: 12.125,
  });
  await saver.putWrites(child, [['text', 'a regular write'], ['number', 7], ['nested', { deep: [null, true] }]], 'task-regular');
  await saver.putWrites(child, [['__error__', { message: 'the tool failed', name: 'ToolError' }]], 'task-error');
  await saver.putWrites(child, [['__interrupt__', [{ value: { question: 'approve?' }, id: 'interrupt-1' }]]], 'task-interrupt');
  await saver.putWrites(child, [['text', 'regular beside a special'], ['__error__', 'both kinds in one call']], 'task-mixed');
  // The same thread under a subgraph's namespace.
  const sub = await saver.put(threadConfig('hand', 'inner:task-1'), makeCheckpoint('cp-4', { text: 'inside' }, { text: 1.5 }), makeMetadata(0), { text: 1.5 });
  await saver.putWrites(sub, [['text', 'inner write']], 'task-inner');
}

describe('pushes written in one transaction into PostgresSaver tables', () => {
  it('stores the rows PostgresSaver own put and putWrites store, and a fresh PostgresSaver reads the same', async () => {
    const puts = vi.spyOn(PostgresSaver.prototype, 'put');
    const putWrites = vi.spyOn(PostgresSaver.prototype, 'putWrites');
    const batched = await side(PostgresSaver);
    const perCall = await side(PerCallSaver);
    const a = device(everySide([batched, perCall]));

    const agent = buildAgentGraph(a.saver);
    await agent.invoke({ topic: 'release' }, threadConfig('agent'));
    await chat(a, 'chat', ['hello', 'fanout please', 'sub please', 'thanks']);
    // DeltaChannel snapshots every two updates: lists tagged as snapshots, joined from items of earlier pushes later.
    await chat(a, 'delta', ['hello', 'fanout please', 'sub please', 'thanks'], { delta: true, snapshotFrequency: 2 });
    await writeHandMadeThread(a.saver);
    const outbox = await a.outbox();
    const first = await a.push();
    expect(first.stored).toBe(outbox.length);
    // A retry of the same push stores nothing new on either side.
    expect(await everySide([batched, perCall]).push('alice', outbox)).toEqual({ stored: 0, duplicates: outbox.length, deletedThreads: [] });

    // A second push builds on the first: the agent resumed, the chat continued (lists refer to stored versions).
    await agent.invoke(resume('yes'), threadConfig('agent'));
    await chat(a, 'chat', ['one more']);
    await chat(a, 'delta', ['one more', 'and another'], { delta: true, snapshotFrequency: 2 });
    await a.push();

    // The batched side never called the saver's put or putWrites; the other side called them for everything.
    const on = (spy: typeof puts | typeof putWrites, saver: PostgresSaver) => spy.mock.contexts.filter((context) => context === saver).length;
    expect(on(puts, batched.saver) + on(putWrites, batched.saver)).toBe(0);
    expect(on(puts, perCall.saver)).toBeGreaterThan(20);
    expect(on(putWrites, perCall.saver)).toBeGreaterThan(10);
    expect(batched.warnings).toEqual([]);

    const rows = await saverRows(batched.pool);
    expect(rows).toEqual(await saverRows(perCall.pool));
    // The threads hold what the comparison is meant to cover.
    expect(new Set(rows.checkpoints.map((row) => row.checkpoint_ns))).toContain('inner:task-1');
    expect(rows.checkpoints.some((row) => (row.checkpoint_ns as string).startsWith('summarize:'))).toBe(true);
    const channels = new Set(rows.writes.map((row) => row.channel));
    for (const channel of ['__interrupt__', '__error__', '__pregel_tasks', '__resume__']) expect(channels).toContain(channel);
    const parents = rows.checkpoints.filter((row) => row.thread_id === 'hand' && row.parent_checkpoint_id === 'cp-1');
    expect(parents).toHaveLength(2);
    expect(new Set(rows.blobs.map((row) => row.type))).toEqual(new Set(['json', 'bytes']));
    const snapshots = rows.blobs.filter((row) => row.thread_id === 'delta' && Buffer.from(row.blob as string, 'hex').toString().includes('"delta_snapshot"'));
    expect(snapshots.length).toBeGreaterThan(2);

    const state = await savedState(batched.url);
    expect(state).toEqual(await savedState(perCall.url));
    const hand = state.byId.find((tuple) => tuple?.config.configurable?.checkpoint_id === 'cp-1');
    // PostgresSaver reads bytes back as a Buffer, whichever path wrote them.
    expect([...(hand?.checkpoint.channel_values['bytes'] as Uint8Array)]).toEqual([0, 1, 2, 250, 255]);
  });

  it('joins list values from their stored items byte for byte as PostgresSaver serializes them whole, and stores items a device spelled otherwise as the server spells them', async () => {
    const dumps = vi.spyOn(JsonPlusSerializer.prototype, 'dumpsTyped');
    const batched = await side(PostgresSaver);
    const perCall = await side(PerCallSaver);
    const both = everySide([batched, perCall]);
    const a = device(both);
    const items = ['quotes " and \\ backslashes', { nested: ['ü', 1.5, null, { deep: true }] }, 'emoji 🦜', 42];
    const first = { plain: items, snapshot: new DeltaSnapshot(items), mixed: ['text', new Uint8Array([1, 2, 3])] };
    const firstVersions = { plain: 1.5, snapshot: 1.5, mixed: 1.5 };
    const root = await a.saver.put(threadConfig('lists'), makeCheckpoint('cp-1', first, firstVersions), makeMetadata(-1), firstVersions);
    // The object item spelled with spaces, as another serializer could: the same value, other bytes.
    const outbox = (await a.outbox()).map((wire) => {
      const record = readWireRecord(wire, 'outbox');
      if (record.kind !== 'blob' || record.channel !== 'plain' || !record.list) return wire;
      const item = record.list.items[1] as { type: string; bytes: Uint8Array };
      const spaced = new TextEncoder().encode(JSON.stringify(JSON.parse(new TextDecoder().decode(item.bytes)), null, 1));
      return toWireRecord({ ...record, list: { ...record.list, items: record.list.items.map((stored, i) => (i === 1 ? { type: 'json', bytes: spaced } : stored)) } });
    });
    expect(JSON.stringify(outbox)).not.toEqual(JSON.stringify(await a.outbox()));
    await both.push('alice', outbox);
    expect(await saverRows(batched.pool)).toEqual(await saverRows(perCall.pool));

    // Lists of the next push refer to the stored items, the respelled one among them.
    const second = { plain: [...items, 'new'], snapshot: new DeltaSnapshot([...items, 'new', 'more']) };
    const secondVersions = { ...firstVersions, plain: 2.5, snapshot: 2.5 };
    await a.saver.put(root, makeCheckpoint('cp-2', second, secondVersions), makeMetadata(0), { plain: 2.5, snapshot: 2.5 });
    await a.push();
    const rows = await saverRows(batched.pool);
    expect(rows).toEqual(await saverRows(perCall.pool));
    expect(rows.blobs).toHaveLength(5);
    expect(await savedState(batched.url)).toEqual(await savedState(perCall.url));
    const stored = await batched.pool.query<{ body: string }>(`SELECT body FROM juncture_sync_records WHERE kind = 'blob' AND record_key = $1`, [blobKey('plain', 1.5)]);
    const body = readWireRecord(JSON.parse(stored.rows[0]!.body), 'stored') as { list: { items: { bytes: Uint8Array }[] } };
    expect(new TextDecoder().decode(body.list.items[1]!.bytes)).toBe(JSON.stringify(items[1]));
    // The batched side never serialized a list whole (only a wrapper around one marker item); the list with bytes it did.
    const whole = dumps.mock.calls.filter(([value], i) => dumps.mock.contexts[i] === batched.saver.serde && (Array.isArray(value) || value instanceof DeltaSnapshot));
    const lengths = whole.map(([value]) => (value instanceof DeltaSnapshot ? value.value.length : (value as unknown[]).length));
    expect(lengths.sort()).toEqual([1, 1, 1, 1, 2]);
  });

  it('commits the saver rows and sync tables in one transaction when they share a pool', async () => {
    for (const sharedPool of [true, false]) {
      const target = await side(PostgresSaver, { sharedPool });
      const a = device(everySide([target]));
      await chat(a, 'held', ['hello', 'again']);
      // Another connection holds the user's row, which a push locks after writing the saver's rows.
      await target.pool.query(`INSERT INTO juncture_sync_users (user_id, epoch) VALUES ('alice', repeat('0', 32))`);
      const holder = await target.pool.connect();
      try {
        await holder.query('BEGIN');
        await holder.query(`SELECT 1 FROM juncture_sync_users WHERE user_id = 'alice' FOR UPDATE`);
        const pushed = a.push();
        await waitForLockWait(target.pool);
        const { rows } = await target.pool.query<{ checkpoints: number; records: number }>(
          `SELECT (SELECT count(*)::int FROM checkpoints WHERE thread_id = 'held') AS checkpoints,
                  (SELECT count(*)::int FROM juncture_sync_records WHERE thread_id = 'held') AS records`,
        );
        // In one transaction nothing is visible yet; with pools of their own, the saver's rows commit first.
        if (sharedPool) expect(rows[0]).toEqual({ checkpoints: 0, records: 0 });
        else expect(rows[0]!.checkpoints).toBeGreaterThan(0);
        expect(rows[0]!.records).toBe(0);
        await holder.query('COMMIT');
        await pushed;
      } finally {
        holder.release();
      }
      const { rows } = await target.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM juncture_sync_records WHERE thread_id = 'held'`);
      expect(rows[0]!.n).toBeGreaterThan(0);
    }
  });

  it('gives each checkpoint to put, saying why, when PostgresSaver tables are at a migration it does not know', async () => {
    const puts = vi.spyOn(PostgresSaver.prototype, 'put');
    const target = await side(PostgresSaver);
    await target.pool.query(`INSERT INTO checkpoint_migrations (v) VALUES ($1)`, [KNOWN_POSTGRES_SAVER_MIGRATION + 1]);
    const a = device(everySide([target]));
    await chat(a, 'fallback', ['hello']);
    await a.push();
    expect(target.warnings).toHaveLength(1);
    expect(target.warnings[0]).toMatch(/at migration 5.*migration 4.*put and putWrites one by one/);
    expect(puts.mock.contexts.filter((context) => context === target.saver).length).toBeGreaterThan(0);
    const latest = await target.saver.getTuple(threadConfig('fallback'));
    expect(latest?.checkpoint.channel_values['messages']).toHaveLength(2);
    // Checked once: a second push does not warn again.
    await chat(a, 'fallback', ['again']);
    await a.push();
    expect(target.warnings).toHaveLength(1);
  });

  it('checks again after a push that found no PostgresSaver tables, and writes in batches once they are set up', async () => {
    const puts = vi.spyOn(PostgresSaver.prototype, 'put');
    const target = await side(PostgresSaver, { setUp: false });
    const a = device(everySide([target]));
    await chat(a, 'late', ['hello']);
    await expect(a.push()).rejects.toThrow(/^500/);
    expect(target.warnings).toEqual([expect.stringMatching(/at migration none/)]);
    // The 500's cause: PostgresSaver's tables are missing.
    expect(String(target.errors.splice(0))).toMatch(/checkpoint/);
    await target.saver.setup();
    const failedPuts = puts.mock.contexts.length;
    expect(failedPuts).toBeGreaterThan(0);
    await a.push();
    expect(target.warnings).toHaveLength(1);
    expect(puts.mock.contexts).toHaveLength(failedPuts);
    expect((await target.saver.getTuple(threadConfig('late')))?.checkpoint.channel_values['messages']).toHaveLength(2);
  });
});

async function chat(on: Device, thread: string, turns: string[], options?: Parameters<typeof buildChatGraph>[1]): Promise<void> {
  const graph = buildChatGraph(on.saver, options);
  const start = (await graph.getState(threadConfig(thread))).values.messages?.length ?? 0;
  for (const [turn, text] of turns.entries()) await graph.invoke({ messages: [human(text, start + turn)] }, threadConfig(thread));
}

/** Waits until some connection of the database waits for a row lock. */
async function waitForLockWait(pool: pg.Pool): Promise<void> {
  for (let tries = 0; tries < 500; tries += 1) {
    const { rowCount } = await pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
    if (rowCount) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('No push waited for the lock.');
}
