/**
 * What a schema fixture holds and how it is made: a database written by the code of one schema version, exported
 * (see `database-export.ts`) with what that code read back from it. `scripts/schema-fixture.mjs` writes one per
 * schema version into `test/fixtures/schema/`; `test/shared/schema-upgrades.test.ts` opens each with the current code.
 */
import type { BaseCheckpointSaver, CheckpointTuple } from '@langchain/langgraph-checkpoint';
import { BrowserSaver, BrowserStore } from '../../src/index.js';
import { ITEM_LAYOUT } from '../../src/storage/items/records.js';
import { SCHEMA_VERSION } from '../../src/storage/schema.js';
import { buildAgentGraph, resume } from './agent-graph.js';
import { buildChatGraph, human } from './chat-graph.js';
import { encodeValue, exportDatabase, type DatabaseExport } from './database-export.js';
import { collect } from './fixtures.js';
import { WordCountEmbeddings } from './store-fixtures.js';

export type FixtureKind = 'checkpoints' | 'items';

export interface SchemaFixture {
  format: 'juncture-schema-fixture';
  kind: FixtureKind;
  /** The schema version of the code that wrote it: the checkpoint database's, or the item database's. */
  schemaVersion: number;
  database: DatabaseExport;
  /** What that code read back, as JSON (`comparableTuples`, `comparableItems`). */
  expected: unknown[];
}

/** The schema version the current code writes, per database. */
export const CURRENT_VERSIONS: Record<FixtureKind, number> = { checkpoints: SCHEMA_VERSION, items: ITEM_LAYOUT.upgradeSteps.length };

/** Every checkpoint of every thread, with its values, writes and parent, as JSON with bytes in base64. */
export async function comparableTuples(saver: BaseCheckpointSaver): Promise<unknown[]> {
  const tuples: CheckpointTuple[] = await collect(saver.list({}));
  const rows = tuples.map(({ config, checkpoint, metadata, pendingWrites, parentConfig }) => ({
    at: config.configurable,
    checkpoint,
    metadata,
    pendingWrites,
    parent: parentConfig?.configurable?.['checkpoint_id'] ?? null,
  }));
  return JSON.parse(JSON.stringify(encodeValue(rows)));
}

/** Every item of every namespace, without refreshing any TTL. */
export async function comparableItems(store: BrowserStore): Promise<unknown[]> {
  const items = [];
  for (const namespace of await store.listNamespaces({ limit: 1000 })) {
    items.push(...(await store.search(namespace, { limit: 1000, refreshTtl: false })).filter((item) => item.namespace.join('/') === namespace.join('/')));
  }
  return JSON.parse(JSON.stringify(items));
}

/** Threads of every shape the saver stores: plain and delta message lists, a subgraph, Send, interrupts, a fork. */
async function writeThreads(saver: BrowserSaver): Promise<void> {
  const plain = { configurable: { thread_id: 'chat-plain' } };
  const delta = { configurable: { thread_id: 'chat-delta' } };
  const texts = ['hello', 'fanout please', 'sub', 'replace it'];
  for (const [turn, text] of texts.entries()) {
    await buildChatGraph(saver).invoke({ messages: [human(text, turn)] }, plain);
    await buildChatGraph(saver, { delta: true }).invoke({ messages: [human(text, turn)] }, delta);
  }
  const agent = buildAgentGraph(saver);
  const waiting = { configurable: { thread_id: 'agent-waiting' } };
  await agent.invoke({ topic: 'schemas' }, waiting);
  const done = { configurable: { thread_id: 'agent-done' } };
  await agent.invoke({ topic: 'upgrades' }, done);
  await agent.invoke(resume('yes'), done);
  for await (const snapshot of agent.getStateHistory(done)) {
    if (snapshot.next.includes('review')) {
      await agent.updateState(snapshot.config, { summary: 'a fork' });
      break;
    }
  }
}

/** Writes a checkpoint database with the current code and exports it with what the code reads back. */
export async function makeCheckpointFixture(dbName: string): Promise<SchemaFixture> {
  const saver = new BrowserSaver({ dbName });
  try {
    await writeThreads(saver);
    const expected = await comparableTuples(saver);
    await saver.close();
    return { format: 'juncture-schema-fixture', kind: 'checkpoints', schemaVersion: SCHEMA_VERSION, database: await exportDatabase(dbName), expected };
  } finally {
    await saver.close();
    await BrowserSaver.deleteDatabase(dbName);
  }
}

/** Writes an item database with the current code (vectors, a TTL, nested namespaces) and exports it. */
export async function makeItemFixture(dbName: string): Promise<SchemaFixture> {
  const store = new BrowserStore({ dbName, index: { embeddings: new WordCountEmbeddings(), dims: 16, fields: ['text'] } });
  try {
    await store.put(['memories', 'ada'], 'likes', { text: 'ada likes tea and chess', kind: 'fact' });
    await store.put(['memories', 'ada'], 'works', { text: 'ada works on engines', kind: 'fact', tags: ['work'] });
    await store.put(['memories', 'bob'], 'lives', { text: 'bob lives by the sea', kind: 'fact' });
    await store.put(['memories', 'bob'], 'plain', { note: 'not indexed' }, false);
    // Expires in ten years, so a test that loads the fixture still finds it.
    await store.put(['sessions'], 'draft', { text: 'a draft that expires' }, undefined, { ttl: 10 * 365 * 24 * 60 });
    await store.delete(['memories', 'bob'], 'plain');
    const expected = await comparableItems(store);
    await store.close();
    return { format: 'juncture-schema-fixture', kind: 'items', schemaVersion: CURRENT_VERSIONS.items, database: await exportDatabase(dbName), expected };
  } finally {
    await store.close();
    await BrowserStore.deleteDatabase(dbName);
  }
}

/** Both fixtures of the current code. */
export async function makeSchemaFixtures(): Promise<SchemaFixture[]> {
  return [await makeCheckpointFixture('schema-fixture-checkpoints'), await makeItemFixture('schema-fixture-items')];
}
