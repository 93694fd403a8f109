import { openDB } from 'idb';
import { AIMessage, ToolMessage } from '@langchain/core/messages';
import { BrowserSaver } from '../../src/index.js';
import { createPageDataSource } from '../../src/devtools/index.js';
import { readDatabaseNames } from '../../src/devtools/reader.js';
import { checkpointId, freshDbName, makeCheckpoint, makeMetadata, putChain, threadConfig } from '../support/fixtures.js';

describe('the devtools reader and the in-page data source', () => {
  let saver: BrowserSaver;
  beforeEach(async () => {
    saver = new BrowserSaver({ dbName: freshDbName('devtools') });
    await putChain(saver, 'alpha', '', [1, 3]);
    await putChain(saver, 'alpha', 'sub:1', [2]);
    const config = await saver.put(
      threadConfig('beta'),
      makeCheckpoint(checkpointId(4), { messages: [new AIMessage('hello')], bytes: new Uint8Array([1, 2]) }),
      makeMetadata(5, { note: 'n' }),
      { messages: 1, bytes: 1 },
    );
    await saver.putWrites(config, [['messages', 'pending']], 'task-1', 'path');
  });
  afterEach(async () => {
    await saver.close();
    await BrowserSaver.deleteDatabase(saver.dbName);
  });

  it('lists threads newest first with counts and namespaces', async () => {
    const source = createPageDataSource([{ saver }]);
    expect(await source.databases()).toEqual([{ name: saver.dbName, live: true, timeTravel: false }]);
    expect(await source.threads(saver.dbName)).toEqual([
      { thread_id: 'beta', checkpoints: 1, namespaces: [''], latest_checkpoint_id: checkpointId(4), latest_ts: expect.any(String) },
      { thread_id: 'alpha', checkpoints: 3, namespaces: ['', 'sub:1'], latest_checkpoint_id: checkpointId(3), latest_ts: expect.any(String) },
    ]);
  });

  it('pages a thread\'s history newest first, across or within namespaces', async () => {
    const source = createPageDataSource([{ saver }]);
    const all = await source.history(saver.dbName, { thread_id: 'alpha', limit: 10 });
    expect(all.map((entry) => [entry.checkpoint_id, entry.checkpoint_ns, entry.parent_checkpoint_id, entry.step])).toEqual([
      [checkpointId(3), '', checkpointId(1), 1],
      [checkpointId(2), 'sub:1', null, 0],
      [checkpointId(1), '', null, 0],
    ]);
    expect(typeof all[0]!.ts).toBe('string');
    const older = await source.history(saver.dbName, { thread_id: 'alpha', checkpoint_ns: '', before: checkpointId(3), limit: 10 });
    expect(older.map((entry) => entry.checkpoint_id)).toEqual([checkpointId(1)]);
  });

  it('decodes a checkpoint into plain JSON without reviving classes', async () => {
    const detail = await createPageDataSource([{ saver }]).checkpoint(saver.dbName, { thread_id: 'beta', checkpoint_ns: '', checkpoint_id: checkpointId(4) });
    const [message] = detail!.channel_values['messages'] as { lc: number; id: string[]; kwargs: { content: string } }[];
    expect(message).toMatchObject({ lc: 1, type: 'constructor', kwargs: { content: 'hello' } });
    expect(message!.id.at(-1)).toBe('AIMessage');
    expect(detail!.channel_values['bytes']).toEqual({ $type: 'bytes', $bytes: 2 });
    expect(detail!.metadata).toMatchObject({ step: 5, note: 'n' });
    expect(detail!.pending_writes).toEqual([{ task_id: 'task-1', task_path: 'path', idx: 0, channel: 'messages', value: 'pending' }]);
  });

  it('previews the messages each step added, from the writes its tasks left on the parent', async () => {
    const source = createPageDataSource([{ saver }]);
    const [root] = await putChain(saver, 'chat', '', [10]);
    await saver.putWrites(root!, [['messages', [new AIMessage({ id: 'a1', content: 'It is 18°C.' })]], ['branch:to:tools', 'agent']], 'task-agent');
    const child = await saver.put(root!, makeCheckpoint(checkpointId(11)), makeMetadata(1), {});
    await saver.putWrites(child, [['notes', 'checked'], ['messages', [new ToolMessage({ content: '18', tool_call_id: 'c1', name: 'get_weather' })]]], 'task-tools');
    await saver.put(child, makeCheckpoint(checkpointId(12)), makeMetadata(2), {});
    const history = await source.history(saver.dbName, { thread_id: 'chat', limit: 10 });
    expect(history.map((entry) => [entry.checkpoint_id, entry.message_preview])).toEqual([
      [checkpointId(12), 'tool get_weather'],
      [checkpointId(11), 'ai: It is 18°C.'],
      [checkpointId(10), null],
    ]);
    const paged = await source.history(saver.dbName, { thread_id: 'chat', checkpoint_ns: '', before: checkpointId(12), limit: 1 });
    expect(paged.map((entry) => entry.message_preview)).toEqual(['ai: It is 18°C.']);
    const detail = await source.checkpoint(saver.dbName, { thread_id: 'chat', checkpoint_ns: '', checkpoint_id: checkpointId(12) });
    expect(detail?.message_preview).toBe('tool get_weather');
  });

  it('tells the panel when the saver commits', async () => {
    const heard: string[] = [];
    const unsubscribe = createPageDataSource([{ saver }]).subscribe((dbName) => heard.push(dbName));
    await putChain(saver, 'gamma', '', [9]);
    await vi.waitFor(() => expect(heard).toEqual([saver.dbName]));
    unsubscribe();
  });

  it('never creates a database it is asked about, and skips databases that are not ours', async () => {
    const foreign = freshDbName('foreign');
    (await openDB(foreign, 1, { upgrade: (db) => db.createObjectStore('todos') })).close();
    const missing = freshDbName('missing');
    const names = await readDatabaseNames([missing, foreign, saver.dbName]);
    expect(names).toContain(saver.dbName);
    expect(names).not.toContain(missing);
    expect(names).not.toContain(foreign);
    expect((await indexedDB.databases()).map((info) => info.name)).not.toContain(missing);
    await BrowserSaver.deleteDatabase(foreign);
  });
});
