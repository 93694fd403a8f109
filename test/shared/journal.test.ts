// The change journal: off until turned on; then written in each commit's own transaction by every storage on the
// database (two storages here stand for two tabs); changes applied from elsewhere skip it and never bring back a
// thread deleted here.
import { MemorySaver } from '@langchain/langgraph-checkpoint';
import { BrowserSaver, SCHEMA_VERSION } from '../../src/index.js';
import { IndexedDBCheckpointStorage } from '../../src/storage/checkpoint-store.js';
import { operationsOf } from '../../src/sync/replication.js';
import { storedValuesOf } from '../../src/sync/stored-values.js';
import type { SyncRecord } from '../../src/wire/records.js';
import { PRUNED_PER_ENTRY, type JournalRead } from '../../src/storage/journal.js';
import { listDependencies } from '../../src/storage/lists.js';
import { buildAgentGraph, resume } from '../support/agent-graph.js';
import { buildChatGraph, human } from '../support/chat-graph.js';
import { checkpointOperation, collect, countRecords, freshDbName, jsonBytes, putChain, threadConfig } from '../support/fixtures.js';
import { importDatabase } from '../support/database-export.js';
import { legacyDatabaseExport } from '../support/legacy-database.js';

const opened: IndexedDBCheckpointStorage[] = [];

function storage(dbName: string): IndexedDBCheckpointStorage {
  const created = new IndexedDBCheckpointStorage({ dbName, durability: 'default' });
  opened.push(created);
  return created;
}

afterEach(async () => {
  const names = new Set(opened.map((each) => each.dbName));
  for (const each of opened.splice(0)) await each.close();
  for (const name of names) await IndexedDBCheckpointStorage.deleteDatabase(name);
});

const summary = (reads: JournalRead[]) =>
  reads.map((read) => (read.deleted ? `delete ${read.thread_id}` : `${read.thread_id}: ${read.checkpoint?.checkpoint_id ?? '-'} +${read.blobs.length} blobs +${read.writes.length} writes`));

/** A journal entry's records as sync sends them: its values, its checkpoint, its writes. */
const recordsOf = (read: JournalRead): SyncRecord[] => [
  ...read.blobs.map((blob) => ({ kind: 'blob' as const, ...blob })),
  ...(read.checkpoint ? [{ kind: 'checkpoint' as const, ...read.checkpoint }] : []),
  ...read.writes.map((write) => ({ kind: 'write' as const, ...write })),
];

describe('the change journal', () => {
  it('journals the checkpoints a prune deleted when it is asked to go everywhere, in its transaction; nothing otherwise', async () => {
    const dbName = freshDbName('journal-prune');
    const saver = new BrowserSaver({ dbName });
    const tab = storage(dbName);
    try {
      const graph = buildChatGraph(saver);
      for (let turn = 0; turn < 3; turn += 1) await graph.invoke({ messages: [human(`turn ${turn}`, turn)] }, threadConfig('a'));
      await graph.invoke({ messages: [human('hello', 0)] }, threadConfig('b'));
      const idsOf = async (thread: string) => (await collect(saver.list(threadConfig(thread)))).map((tuple) => tuple.checkpoint.id);
      // Before the journal is on, there is nowhere for it to go.
      expect(await saver.prune({ threadIds: ['b'], keepLatest: 1, keepAncestors: false, everywhere: true })).toBeGreaterThan(0);
      expect(await tab.journalSize()).toBe(0);

      await tab.enableJournal();
      const journaled = await tab.journalSize();
      const all = await idsOf('a');
      await saver.prune({ threadIds: ['a'], keepLatest: 2, keepAncestors: false });
      expect(await tab.journalSize()).toBe(journaled);
      const kept = await idsOf('a');
      expect(await saver.prune({ threadIds: ['a'], keepLatest: 1, keepAncestors: false, everywhere: true })).toBe(1);
      const reads = await tab.readJournal(1_000);
      const pruned = reads.filter((read) => read.pruned);
      expect(pruned.map((read) => ({ thread_id: read.thread_id, pruned: read.pruned }))).toEqual([
        { thread_id: 'a', pruned: [{ checkpoint_ns: '', checkpoint_id: kept.at(-1) }] },
      ]);
      expect(all.length).toBeGreaterThan(kept.length);
      // A prune that deletes nothing journals nothing.
      await saver.prune({ threadIds: ['a'], keepLatest: 1, keepAncestors: false, everywhere: true });
      expect((await tab.readJournal(1_000)).filter((read) => read.pruned)).toHaveLength(1);
      await expect(saver.prune({ keepLatest: 1, everywhere: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'INVALID_CONFIG', message: /everywhere must be true or false/ });

      // A long thread cut short journals its checkpoints in entries that each fit a push.
      await putChain(saver, 'long', '', Array.from({ length: PRUNED_PER_ENTRY + 3 }, (_, i) => i + 1));
      expect(await saver.prune({ threadIds: ['long'], keepLatest: 1, keepAncestors: false, everywhere: true })).toBe(PRUNED_PER_ENTRY + 2);
      const long = (await tab.readJournal(1_000)).filter((read) => read.thread_id === 'long' && read.pruned);
      expect(long.map((read) => read.pruned!.length)).toEqual([PRUNED_PER_ENTRY, 2]);
    } finally {
      await saver.close();
    }
  });

  it('came with schema 2, which the code still upgrades through', () => {
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
  });

  it('journals nothing until turned on, then what was stored and every commit of every storage, in the same transaction', async () => {
    const dbName = freshDbName('journal');
    const tabA = storage(dbName);
    const tabB = storage(dbName);
    await tabA.write(checkpointOperation('t1', 'c1'));
    await tabB.write(checkpointOperation('t2', 'c1'));
    expect(await tabA.journalSize()).toBe(0);

    // Turning it on journals what is stored; tab B, whose connection was open already, journals from now on.
    expect(await tabA.enableJournal()).toBe(true);
    expect(await tabB.enableJournal()).toBe(false);
    const blob = { thread_id: 't2', checkpoint_ns: '', channel: 'topic', version: 2, value: jsonBytes('sync') };
    const withValue = checkpointOperation('t2', 'c2');
    if (withValue.kind === 'checkpoint') {
      withValue.checkpoint.channel_versions = { topic: 2 };
      withValue.blobs.push(blob);
    }
    await tabB.write(withValue);
    await tabB.write({ kind: 'writes', writes: [{ thread_id: 't2', checkpoint_ns: '', checkpoint_id: 'c2', task_id: 'task', idx: 0, channel: 'topic', value: jsonBytes('x'), task_path: '' }] });
    // A write that fails leaves no entry: the entry is in its transaction.
    await expect(tabB.write(checkpointOperation('t3', Number.NaN))).rejects.toMatchObject({ code: 'STORAGE' });
    await tabA.write({ kind: 'delete', thread_id: 't1' });

    const reads = await tabA.readJournal(100);
    expect(summary(reads)).toEqual([
      't1: - +0 blobs +0 writes', // deleted since: its records are gone
      't2: c1 +0 blobs +0 writes',
      't2: c2 +1 blobs +0 writes',
      't2: - +0 blobs +1 writes',
      'delete t1',
    ]);
    expect(reads[2]!.blobs[0]).toEqual(blob);

    await tabB.acknowledgeJournal(reads.slice(0, 3).map((read) => read.seq));
    expect(summary(await tabA.readJournal(100))).toEqual(['t2: - +0 blobs +1 writes', 'delete t1']);
  });

  it('applies changes from elsewhere without journaling them, announced, and drops those of threads deleted here', async () => {
    const dbName = freshDbName('journal');
    const tab = storage(dbName);
    const saver = new BrowserSaver({ dbName });
    const heard: string[] = [];
    const unsubscribe = saver.subscribe((change) => heard.push(`${change.kind} ${'thread_id' in change ? change.thread_id : ''}`));
    try {
      await tab.enableJournal();
      await tab.write(checkpointOperation('gone', 'c1'));
      await tab.write({ kind: 'delete', thread_id: 'gone' });
      await tab.acknowledgeJournal((await tab.readJournal(100)).map((read) => read.seq));

      await tab.applyChanges([checkpointOperation('gone', 'c2'), checkpointOperation('new', 'c1')], { bookmark: 'page-1' });
      expect(await tab.journalSize()).toBe(0);
      expect(await tab.readSetting('bookmark')).toBe('page-1');
      expect(await countRecords(dbName, 'gone')).toEqual({ checkpoints: 0, blobs: 0, writes: 0 });
      expect((await countRecords(dbName, 'new')).checkpoints).toBe(1);
      expect((await saver.getTuple({ configurable: { thread_id: 'new' } }))?.config.configurable?.['checkpoint_id']).toBe('c1');
      await vi.waitFor(() => expect(heard).toContain('checkpoint new'));
      // Heard once: its own write, before the deletion; the applied one was dropped.
      expect(heard.filter((change) => change === 'checkpoint gone')).toHaveLength(1);
    } finally {
      unsubscribe();
      await saver.close();
    }
  });

  it('turns on in a database written by 0.1, journaling its conversation checkpoint by checkpoint', async () => {
    const memory = new MemorySaver();
    const graph = buildChatGraph(memory);
    const config = { configurable: { thread_id: 'legacy' } };
    for (let turn = 0; turn < 3; turn += 1) await graph.invoke({ messages: [human(`turn ${turn}`, turn)] }, config);
    const dbName = freshDbName('journal-legacy');
    const { database, tuples: written } = await legacyDatabaseExport(memory, 'legacy');
    await importDatabase(database, dbName);
    const tab = storage(dbName);
    expect(await tab.enableJournal()).toBe(true);
    const reads = await tab.readJournal(1_000);
    const checkpoints = reads.filter((read) => read.checkpoint).map((read) => read.checkpoint!.checkpoint_id);
    expect(checkpoints).toEqual(written.map((tuple) => tuple.checkpoint.id).sort());
    // Every stored value goes out once, with the first checkpoint that names it.
    const blobs = reads.flatMap((read) => read.blobs.map((blob) => `${blob.channel}@${blob.version}`));
    expect(new Set(blobs).size).toBe(blobs.length);
    expect(blobs.length).toBe((await countRecords(dbName)).blobs);
  });

  it('keeps what it stores when the same checkpoints and values come back from elsewhere, as sync sends them', async () => {
    // Sync sends checkpoints ordinary and lists whole or resolved; here they are stored as changes and as lists that
    // later ones build on. A pull that brings them back (a full resync, say) must not replace what those build on.
    const dbName = freshDbName('journal-same-records');
    const saver = new BrowserSaver({ dbName });
    const tab = storage(dbName);
    await tab.enableJournal();
    const graph = buildChatGraph(saver);
    for (let turn = 0; turn < 40; turn += 1) await graph.invoke({ messages: [human(`turn ${turn}`, turn)] }, threadConfig('again'));
    const history = async () => (await collect(graph.getStateHistory(threadConfig('again')))).map((snapshot) => snapshot.values);
    const before = await history();
    const reads = await storedValuesOf(saver).inClear(await tab.readJournal(10_000));
    const records = reads.flatMap(recordsOf);
    expect(records.filter((record) => record.kind === 'checkpoint')).toHaveLength(before.length);
    await tab.applyChanges(operationsOf(records));
    expect(await history()).toEqual(before);
    await graph.invoke({ messages: [human('one more', 40)] }, threadConfig('again'));
    const after = await history();
    expect(after.length).toBeGreaterThan(before.length);
    expect(after.slice(after.length - before.length)).toEqual(before);
    await saver.close();
  });

  it('stores what sync sends, page by page, with each checkpoint holding its small values, as the device that made them', async () => {
    const dbName = freshDbName('journal-small-values');
    const saver = new BrowserSaver({ dbName });
    const tab = storage(dbName);
    await tab.enableJournal();
    const graph = buildChatGraph(saver);
    for (let turn = 0; turn < 12; turn += 1) await graph.invoke({ messages: [human(`turn ${turn}`, turn)] }, threadConfig('chat'));
    // A fork from an earlier checkpoint, continued.
    const past = (await collect(graph.getStateHistory(threadConfig('chat'))))[9]!;
    const forked = await graph.updateState(past.config, { messages: [human('forked', 99)] });
    await graph.invoke({ messages: [human('after the fork', 100)] }, forked);
    // A graph whose small values (a topic, a summary) stay the same over several checkpoints, across an interrupt.
    const agent = buildAgentGraph(saver);
    await agent.invoke({ topic: 'sync' }, threadConfig('agent'));
    await agent.invoke(resume('approved'), threadConfig('agent'));
    const reads = await storedValuesOf(saver).inClear(await tab.readJournal(10_000));
    // The small values travel as values, each with the checkpoint that brought it (the branches to the nodes, the
    // topic once), and the records as ordinary ones.
    const sent = reads.flatMap((read) => read.blobs.filter((blob) => blob.thread_id === 'agent' && blob.channel === 'topic'));
    expect(sent).toHaveLength(1);
    expect(reads.some((read) => read.blobs.some((blob) => blob.channel.startsWith('branch:to:')))).toBe(true);
    expect(reads.every((read) => read.checkpoint?.values === undefined)).toBe(true);
    const history = async (on: BrowserSaver) =>
      [
        ...(await collect(buildChatGraph(on).getStateHistory(threadConfig('chat')))),
        ...(await collect(buildAgentGraph(on).getStateHistory(threadConfig('agent')))),
      ].map((snapshot) => [snapshot.config.configurable?.['checkpoint_id'], snapshot.values, snapshot.next]);
    const expected = await history(saver);

    // Pages of three entries, as the server cuts them (never inside a commit): parents on earlier pages are read.
    const entryPages = storage(freshDbName('journal-small-values-entries'));
    for (let i = 0; i < reads.length; i += 3) await entryPages.applyChanges(operationsOf(reads.slice(i, i + 3).flatMap(recordsOf)));
    // Pages of five changes, cut anywhere: a value may arrive a page before its checkpoint, and is then kept as a record.
    const changePages = storage(freshDbName('journal-small-values-changes'));
    const changes = reads.flatMap(recordsOf);
    for (let i = 0; i < changes.length; i += 5) await changePages.applyChanges(operationsOf(changes.slice(i, i + 5)));

    for (const pulled of [entryPages, changePages]) {
      const reader = new BrowserSaver({ dbName: pulled.dbName });
      expect(await history(reader)).toEqual(expected);
      await reader.close();
    }
    for (const thread of ['chat', 'agent']) {
      expect(await countRecords(entryPages.dbName, thread)).toEqual(await countRecords(dbName, thread));
      expect((await countRecords(changePages.dbName, thread)).checkpoints).toBe((await countRecords(dbName, thread)).checkpoints);
    }
    await saver.close();
  });

  it('sends a value whose checkpoint was pruned with the entry that needs it, however few entries a read takes', async () => {
    const dbName = freshDbName('journal-pruned');
    const saver = new BrowserSaver({ dbName });
    const tab = storage(dbName);
    await tab.enableJournal();
    const graph = buildChatGraph(saver);
    for (let turn = 0; turn < 6; turn += 1) await graph.invoke({ messages: [human(`turn ${turn} ${'w'.repeat(80)}`, turn)] }, threadConfig('pruned'));
    await saver.prune({ threadIds: ['pruned'], keepLatest: 2, keepAncestors: false });
    for (const limit of [1, 2, 500]) {
      const sent = new Set<string>();
      const taken = new Set<number>();
      let carried = 0;
      let after: number | undefined;
      for (let reads = await tab.readJournal(limit, after); reads.length > 0; reads = await tab.readJournal(limit, after)) {
        for (const read of reads) {
          // Every version a list builds on went out before it or goes with it.
          const here = new Set(read.blobs.map((blob) => `${blob.channel} ${blob.version}`));
          for (const blob of read.blobs) for (const version of blob.list ? listDependencies(blob.list) : []) expect(sent.has(`${blob.channel} ${version}`) || here.has(`${blob.channel} ${version}`)).toBe(true);
          here.forEach((value) => sent.add(value));
          carried += read.carried?.length ?? 0;
          for (const seq of [read.seq, ...(read.carried ?? [])]) taken.add(seq);
        }
        after = Math.max(...taken);
      }
      expect(carried).toBeGreaterThan(0);
      expect(taken.size).toBe(await tab.journalSize());
    }
    await saver.close();
  });
});
