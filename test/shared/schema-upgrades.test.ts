import { openDB } from 'idb';
import { BrowserSaver, BrowserStore, CheckpointError } from '../../src/index.js';
import { readThreadDetails, readThreads } from '../../src/devtools/reader.js';
import type { StoredCheckpointRecord } from '../../src/storage/records.js';
import { buildChatGraph, human } from '../support/chat-graph.js';
import { importDatabase } from '../support/database-export.js';
import { freshDbName } from '../support/fixtures.js';
import { comparableItems, comparableTuples, CURRENT_VERSIONS, type SchemaFixture } from '../support/schema-fixtures.js';
import { WordCountEmbeddings } from '../support/store-fixtures.js';

/** Every stored database of every schema version, as `scripts/schema-fixture.mjs` exported it. */
const fixtures = Object.entries(import.meta.glob<SchemaFixture>('../fixtures/schema/*.json', { eager: true, import: 'default' }))
  .map(([file, fixture]) => ({ file: file.split('/').pop()!, fixture }))
  .sort((a, b) => a.file.localeCompare(b.file));

async function expectMigration(call: Promise<unknown>): Promise<void> {
  const error = await call.then(() => undefined, (failure: unknown) => failure);
  expect(CheckpointError.is(error, 'MIGRATION'), String(error)).toBe(true);
}

/** Opens the database at a newer version, as a newer release in another tab would; fails if that open is blocked. */
async function upgradeAsNewerRelease(dbName: string, version: number): Promise<void> {
  let blocked = false;
  const db = await openDB(dbName, version, {
    upgrade: (database) => void database.createObjectStore(`added-in-${version}`),
    blocked: () => {
      blocked = true;
    },
  });
  db.close();
  expect(blocked).toBe(false);
}

it('every schema version the code writes has a stored database', () => {
  for (const kind of ['checkpoints', 'items'] as const) {
    const versions = fixtures.filter(({ fixture }) => fixture.kind === kind).map(({ fixture }) => fixture.schemaVersion);
    expect(versions, `run \`node scripts/schema-fixture.mjs\` for ${kind} schema ${CURRENT_VERSIONS[kind]}`).toContain(CURRENT_VERSIONS[kind]);
  }
});

describe.each(fixtures.filter(({ fixture }) => fixture.kind === 'checkpoints'))('the checkpoint database of $file', ({ fixture }) => {
  const savers: BrowserSaver[] = [];
  let dbName: string;
  const open = () => {
    const saver = new BrowserSaver({ dbName });
    savers.push(saver);
    return saver;
  };

  beforeEach(async () => {
    dbName = freshDbName(`schema-v${fixture.schemaVersion}`);
    await importDatabase(fixture.database, dbName);
  });

  afterEach(async () => {
    for (const saver of savers.splice(0)) await saver.close();
    await BrowserSaver.deleteDatabase(dbName);
  });

  it('opens with the current code, upgraded, and every checkpoint, write and value reads back', async () => {
    const saver = open();
    expect(await comparableTuples(saver)).toEqual(fixture.expected);
    const db = await openDB(dbName);
    expect(db.version).toBe(CURRENT_VERSIONS.checkpoints);
    db.close();
  });

  it('a conversation goes on in it: its new checkpoints are stored as this code stores them, the old ones read as before', async () => {
    const saver = open();
    const config = { configurable: { thread_id: 'chat-plain' } };
    for (const [turn, text] of ['one more', 'and another'].entries()) await buildChatGraph(saver).invoke({ messages: [human(text, 10 + turn)] }, config);
    const known = new Set((fixture.expected as { at: { checkpoint_id: string } }[]).map((row) => row.at.checkpoint_id));
    const db = await openDB(dbName);
    const added = ((await db.getAll('checkpoints')) as StoredCheckpointRecord[]).filter((record) => !known.has(record.checkpoint_id));
    db.close();
    // The first new one builds on a checkpoint this saver did not write: whole; the next ones are changes.
    expect(added.map((record) => record.depth)).toEqual(added.map((_, i) => i));
    const rows = (await comparableTuples(saver)) as { at: { checkpoint_id: string } }[];
    expect(rows.filter((row) => known.has(row.at.checkpoint_id))).toEqual(fixture.expected);
    expect(((await buildChatGraph(saver).getState(config)).values.messages as unknown[]).length).toBeGreaterThan(4);
  });

  it('the devtools reader shows every thread and checkpoint', async () => {
    open();
    const expected = fixture.expected as { at: { thread_id: string; checkpoint_ns: string; checkpoint_id: string } }[];
    const threads = await readThreads(dbName);
    expect(threads.map((thread) => thread.thread_id).sort()).toEqual([...new Set(expected.map((row) => row.at.thread_id))].sort());
    for (const thread of threads) {
      const details = await readThreadDetails(dbName, thread.thread_id);
      const ids = expected.filter((row) => row.at.thread_id === thread.thread_id).map((row) => `${row.at.checkpoint_ns}/${row.at.checkpoint_id}`);
      expect(details.map((detail) => `${detail.checkpoint_ns}/${detail.checkpoint_id}`).sort()).toEqual(ids.sort());
      expect(thread.checkpoints).toBe(ids.length);
    }
  });

  it('a tab still on this code when a newer schema arrives steps aside and gets MIGRATION, never a hang', async () => {
    const running = open();
    expect(await running.getTuple({ configurable: { thread_id: 'agent-done' } })).toBeDefined();
    await upgradeAsNewerRelease(dbName, CURRENT_VERSIONS.checkpoints + 1);
    await expectMigration(running.getTuple({ configurable: { thread_id: 'agent-done' } }));
    // A database from a newer schema than the code knows: MIGRATION from the start.
    await expectMigration(open().getTuple({ configurable: { thread_id: 'agent-done' } }));
  });
});

describe.each(fixtures.filter(({ fixture }) => fixture.kind === 'items'))('the item database of $file', ({ fixture }) => {
  const stores: BrowserStore[] = [];
  let dbName: string;
  const open = () => {
    const store = new BrowserStore({ dbName, index: { embeddings: new WordCountEmbeddings(), dims: 16, fields: ['text'] } });
    stores.push(store);
    return store;
  };

  beforeEach(async () => {
    dbName = freshDbName(`items-v${fixture.schemaVersion}`);
    await importDatabase(fixture.database, dbName);
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await BrowserStore.deleteDatabase(dbName);
  });

  it('opens with the current code, and every item, vector and namespace reads back', async () => {
    const store = open();
    expect(await comparableItems(store)).toEqual(fixture.expected);
    const [best] = await store.search(['memories'], { query: 'who plays chess', limit: 1 });
    expect(best?.key).toBe('likes');
    const db = await openDB(dbName);
    expect(db.version).toBe(CURRENT_VERSIONS.items);
    db.close();
  });

  it('a tab still on this code when a newer schema arrives gets MIGRATION, never a hang', async () => {
    const running = open();
    expect(await running.get(['memories', 'ada'], 'likes')).not.toBeNull();
    await upgradeAsNewerRelease(dbName, CURRENT_VERSIONS.items + 1);
    await expectMigration(running.get(['memories', 'ada'], 'likes'));
    await expectMigration(open().get(['memories', 'ada'], 'likes'));
  });
});
