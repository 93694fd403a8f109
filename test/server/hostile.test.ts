// Hostile and broken clients: each request gets its status and reason, and nothing of a refused push is stored
// or leaked.
import { buildChatGraph, human } from '../support/chat-graph.js';
import { threadConfig } from '../support/fixtures.js';
import type { WireBlob, WireCheckpoint, WireRecord } from '../../src/wire/records.js';
import { Device, startServer, type TestServer } from './support.js';

let server: TestServer;
let device: Device;
const MAX_BODY = 256 * 1024;
const MAX_RECORDS = 50;

beforeAll(async () => {
  server = await startServer({ limits: { maxBodyBytes: MAX_BODY, maxRecordsPerPush: MAX_RECORDS } });
  device = new Device(server, 'alice');
});
afterAll(async () => {
  await device.close();
  await server.close();
  // No request made the server fail: every refusal was a 4xx with its reason.
  expect(server.errors).toEqual([]);
});

let threads = 0;
/** The records of a fresh two-turn thread on the device (never pushed), renamed to `thread`. */
async function threadRecords(thread = `hostile-${++threads}`): Promise<WireRecord[]> {
  const local = `local-${thread}`;
  const graph = buildChatGraph(device.saver);
  await graph.invoke({ messages: [human('hello', 0)] }, threadConfig(local));
  await graph.invoke({ messages: [human('again', 1)] }, threadConfig(local));
  return (await device.outbox()).filter((record) => record.thread_id === local).map((record) => ({ ...record, thread_id: thread }));
}

async function expectRefused(response: Response, status: number, code: string, reason: RegExp): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message).toMatch(reason);
}

/** Nothing of these threads is on the server, for anyone. */
async function expectNothingStored(threadIds: string[]): Promise<void> {
  for (const user of ['alice', 'bob'] as const) {
    const changes = await server.pullAll(user);
    expect(changes.filter((change) => threadIds.includes(change.thread_id))).toEqual([]);
  }
  for (const thread of threadIds) expect(await server.saver.getTuple(threadConfig(thread))).toBeUndefined();
}

const push = (records: unknown, user: 'alice' | 'bob' = 'alice') => server.call('push', { user, body: { records } });

describe('hostile clients', () => {
  it('1. no credentials: 401', async () => {
    const records = await threadRecords();
    await expectRefused(await server.call('push', { user: null, body: { records } }), 401, 'unauthenticated', /no valid credentials/);
    await expectRefused(await server.call('pull', { user: null, body: {} }), 401, 'unauthenticated', /credentials/);
    await expectNothingStored([records[0]!.thread_id]);
  });

  it('2. a forged token: 401 on push, pull and live', async () => {
    const records = await threadRecords();
    const forged = { user: null, headers: { authorization: 'Bearer token-alice-forged' } };
    await expectRefused(await server.call('push', { ...forged, body: { records } }), 401, 'unauthenticated', /credentials/);
    await expectRefused(await server.call('pull', { ...forged, body: {} }), 401, 'unauthenticated', /credentials/);
    await expectRefused(await server.call('live', forged), 401, 'unauthenticated', /credentials/);
    await expectNothingStored([records[0]!.thread_id]);
  });

  it("3. another user's thread: 403 on push, nothing stored, the owner not named; invisible to pull", async () => {
    const owned = await threadRecords();
    expect((await push(owned)).status).toBe(200);
    const thread = owned[0]!.thread_id;
    const mine = await threadRecords();
    // Bob's batch mixes a thread of his own with alice's: all of it is refused.
    const response = await push([...mine, ...(await threadRecords(thread)).slice(0, 2)], 'bob');
    expect(response.status).toBe(403);
    const text = await response.text();
    expect(text).toMatch(/cannot be written by this user/);
    expect(text).not.toMatch(/alice/);
    await expectNothingStored([mine[0]!.thread_id]);
    // Bob's pull of that thread returns nothing, exactly as for a thread that does not exist.
    const pulled = await server.pull('bob', { threads: [thread] });
    const absent = await server.pull('bob', { threads: ['no-such-thread'] });
    expect(pulled.changes).toEqual([]);
    expect(absent.changes).toEqual([]);
    // A tombstone from bob cannot delete alice's thread either.
    await expectRefused(await push([{ kind: 'delete', thread_id: thread }], 'bob'), 403, 'forbidden', /cannot be written/);
    expect(await server.saver.getTuple(threadConfig(thread))).toBeDefined();
  });

  it('4. an oversized body: 413, whether Content-Length says so or not', async () => {
    const records = await threadRecords();
    const padding = 'x'.repeat(MAX_BODY);
    await expectRefused(await server.call('push', { raw: JSON.stringify({ records, padding }) }), 413, 'payload_too_large', new RegExp(`larger than ${MAX_BODY} bytes`));
    await expectRefused(
      await server.call('push', { raw: JSON.stringify({ records }), headers: { 'content-length': String(MAX_BODY * 10) } }),
      413,
      'payload_too_large',
      /larger than/,
    );
    await expectNothingStored([records[0]!.thread_id]);
  });

  it('5. malformed JSON: 400 invalid_json, nothing of what it began stored', async () => {
    const records = await threadRecords();
    const cutShort = JSON.stringify({ records }).slice(0, -2);
    await expectRefused(await server.call('push', { raw: cutShort }), 400, 'invalid_json', /not valid JSON/);
    await expectNothingStored([records[0]!.thread_id]);
    await expectRefused(await server.call('push', { raw: '{"records": [' }), 400, 'invalid_json', /not valid JSON/);
    await expectRefused(await server.call('push', { raw: '\u00ff\u00fe' }), 400, 'invalid_json', /not valid JSON/);
    await expectRefused(await server.call('push', { raw: '[1, 2]' }), 400, 'invalid_request', /must be a JSON object/);
  });

  it('6. a body that is not JSON: 415, nothing stored even when it holds a valid push', async () => {
    const records = await threadRecords();
    await expectRefused(await server.call('push', { body: { records }, headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type', /application\/json/);
    await expectNothingStored([records[0]!.thread_id]);
  });

  it('7. wrong types: 400 naming the field, nothing of the batch stored', async () => {
    const records = await threadRecords();
    const thread = records[0]!.thread_id;
    await expectRefused(await push('all of them'), 400, 'invalid_request', /records must be an array/);
    await expectRefused(await push([...records, { ...records[0], thread_id: 42 }]), 400, 'invalid_request', new RegExp(`records\\[${records.length}\\]\\.thread_id must be a string, got number`));
    await expectRefused(await push([...records, { kind: 'bogus', thread_id: thread }]), 400, 'invalid_request', /kind must be/);
    const checkpoint = records.find((record) => record.kind === 'checkpoint') as WireCheckpoint;
    await expectRefused(await push([{ ...checkpoint, channel_versions: { messages: null } }]), 400, 'invalid_request', /channel_versions\["messages"\] must be a string/);
    await expectRefused(await push([{ ...checkpoint, checkpoint: { type: 'json', bytes: 'not base64!' } }]), 400, 'invalid_request', /checkpoint\.bytes must be a base64 string/);
    await expectNothingStored([thread]);
  });

  it('8. a huge batch: 413 too_many_records', async () => {
    const records = await threadRecords();
    const many = Array.from({ length: MAX_RECORDS + 1 }, () => records[0]);
    await expectRefused(await push(many), 413, 'too_many_records', new RegExp(`at most ${MAX_RECORDS} records; this one holds ${MAX_RECORDS + 1}`));
    await expectNothingStored([records[0]!.thread_id]);
  });

  it('9. a replayed, duplicated and reordered batch: accepted once, stored once', async () => {
    const records = await threadRecords();
    const first = (await (await push(records)).json()) as { stored: number };
    expect(first.stored).toBe(records.length);
    const before = await server.pullAll('alice');
    const replay = (await (await push([...records].reverse().concat(records))).json()) as { stored: number; duplicates: number };
    expect(replay).toEqual({ stored: 0, duplicates: records.length * 2, deletedThreads: [] });
    expect(await server.pullAll('alice')).toEqual(before);
  });

  it('10. ids with SQL, quotes, slashes and HTML are data: stored and returned exactly, answered as JSON', async () => {
    const ids = [`'; DROP TABLE juncture_sync_records; --`, `a"b\\c/../d`, '<script>alert(1)</script>', '%00%27 OR 1=1', 'emoji 🧵 thread'];
    for (const id of ids) expect((await push(await threadRecords(id))).status).toBe(200);
    const pulled = new Set((await server.pullAll('alice')).map((change) => change.thread_id));
    for (const id of ids) {
      expect(pulled.has(id)).toBe(true);
      expect(await server.saver.getTuple(threadConfig(id))).toBeDefined();
    }
    // Refusals quote ids as JSON strings, never as markup.
    const markup = '<img src=x onerror=alert(1)>';
    expect((await push(await threadRecords(markup))).status).toBe(200);
    const response = await push(await threadRecords(markup), 'bob');
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('11. strings the database cannot hold exactly (NUL, lone surrogates): 400', async () => {
    const records = await threadRecords();
    await expectRefused(await push(records.map((record) => ({ ...record, thread_id: 'nul\u0000id' }))), 400, 'invalid_request', /NUL character/);
    await expectRefused(await push(records.map((record) => ({ ...record, thread_id: 'half \ud800 pair' }))), 400, 'invalid_request', /lone surrogate/);
    await expectRefused(await push(records.map((record) => ({ ...record, thread_id: 'x'.repeat(600) }))), 400, 'invalid_request', /longer than 512/);
    await expectNothingStored([records[0]!.thread_id]);
  });

  it('12. a forged or foreign cursor: a full resync, said so; a cursor of the wrong type: 400', async () => {
    await push(await threadRecords());
    const page = await server.pull('alice', { cursor: "' OR 1=1 --" });
    expect(page.resync).toBe(true);
    expect(page.changes.length).toBeGreaterThan(0);
    await expectRefused(await server.call('pull', { body: { cursor: { seq: 0 } } }), 400, 'invalid_request', /cursor must be a string/);
    await expectRefused(await server.call('pull', { body: { limit: 10_000_000 } }), 400, 'invalid_request', /limit must be a whole number from 1 to/);
    await expectRefused(await server.call('pull', { body: { threads: 'all' } }), 400, 'invalid_request', /threads must be an array/);
  });

  it('13. values that do not decode, or lists that refer to versions nobody sent: 400, nothing stored', async () => {
    const records = await threadRecords();
    const thread = records[0]!.thread_id;
    const checkpoint = records.find((record) => record.kind === 'checkpoint') as WireCheckpoint;
    const garbage = { type: 'json', bytes: btoa('{not json') };
    const broken = records.map((record) => (record === checkpoint ? { ...checkpoint, metadata: garbage } : record));
    await expectRefused(await push(broken), 400, 'invalid_request', /cannot be read/);
    const unknownType = records.map((record) => (record === checkpoint ? { ...checkpoint, checkpoint: { type: 'pickle', bytes: '' } } : record));
    await expectRefused(await push(unknownType), 400, 'invalid_request', /pickle/);
    const sealed = records.map((record) => (record === checkpoint ? { ...checkpoint, metadata: { type: 'juncture:aes-gcm', bytes: btoa('\u0001'.repeat(40)) } } : record));
    await expectRefused(await push(sealed), 400, 'invalid_request', /encrypted value \(juncture:aes-gcm\).*in clear/);
    const edited = records.find((record): record is WireBlob => record.kind === 'blob' && record.list?.base !== undefined)!;
    // The list alone, without the version it edits.
    const withoutBase = records.filter((record) => !(record.kind === 'blob' && record.channel === edited.channel && record.version === edited.list!.base));
    await expectRefused(await push(withoutBase), 400, 'invalid_request', /not stored/);
    await expectNothingStored([thread]);
  });

  it('14. a value with no checkpoint naming it, and a write with an index LangGraph never gives: 400', async () => {
    const records = await threadRecords();
    const blob = records.find((record) => record.kind === 'blob' && record.value !== null)!;
    await expectRefused(await push([blob]), 400, 'invalid_request', /no new checkpoint that names it/);
    const write = records.find((record) => record.kind === 'write');
    expect(write).toBeDefined();
    await expectRefused(await push([{ ...write!, channel: '__interrupt__', idx: 7 }]), 400, 'invalid_request', /not the index LangGraph gives/);
    await expectNothingStored([records[0]!.thread_id]);
  });

  it('15. a channel named __proto__: 400', async () => {
    const records = await threadRecords();
    const checkpoint = records.find((record) => record.kind === 'checkpoint') as WireCheckpoint;
    const poisoned = JSON.parse(JSON.stringify({ ...checkpoint }).replace('"channel_versions":{', '"channel_versions":{"__proto__":1,'));
    await expectRefused(await push([poisoned]), 400, 'invalid_request', /__proto__/);
    await expectNothingStored([records[0]!.thread_id]);
  });

  it('16. wrong methods and unknown endpoints: 405 with Allow, 404', async () => {
    const wrong = await server.call('push', { method: 'GET' });
    await expectRefused(wrong, 405, 'method_not_allowed', /push takes POST/);
    expect(wrong.headers.get('allow')).toBe('POST');
    const records = await threadRecords();
    await expectRefused(await server.call('admin', { body: { records } }), 404, 'not_found', /push, pull or live/);
    await expectRefused(await server.call('push/extra', { body: { records } }), 404, 'not_found', /push, pull or live/);
    await expectNothingStored([records[0]!.thread_id]);
  });

  it('17. a checkpoint as one database stores it (fields in clear, or a change against its parent): 400 naming the field', async () => {
    const records = await threadRecords();
    const checkpoints = records.filter((record): record is WireCheckpoint => record.kind === 'checkpoint');
    // What a device sends is whole and ordinary.
    for (const checkpoint of checkpoints) expect(Object.keys(checkpoint).filter((field) => ['depth', 'removed', 'ts', 'versions_seen', 'metadata_entries'].includes(field))).toEqual([]);
    const [first, second] = checkpoints;
    const asChange = { ...second!, depth: 1, ts: 1_700_000_000_000, versions_seen: {}, removed: [['channel_versions', 'messages']] };
    await expectRefused(await push([...records.filter((record) => record !== second), asChange]), 400, 'invalid_request', /\.depth belongs to checkpoint records as one database stores them/);
    const inClear = { ...first!, metadata_entries: { parents: { type: 'json', bytes: btoa('{}') } } };
    await expectRefused(await push([inClear]), 400, 'invalid_request', /metadata_entries/);
    await expectNothingStored([records[0]!.thread_id]);
  });

  it("18. a prune: malformed, 400 naming the field; of another user's thread, 403 and nothing pruned", async () => {
    const records = await threadRecords();
    expect((await push(records)).status).toBe(200);
    const thread = records[0]!.thread_id;
    const checkpoint = records.find((record) => record.kind === 'checkpoint') as WireCheckpoint;
    const prune = { kind: 'prune', thread_id: thread, checkpoint_ns: '', checkpoint_id: checkpoint.checkpoint_id };
    await expectRefused(await push([{ ...prune, checkpoint_id: undefined }]), 400, 'invalid_request', /records\[0\]\.checkpoint_id must be a string, got undefined/);
    await expectRefused(await push([{ ...prune, checkpoint_ns: 7 }]), 400, 'invalid_request', /records\[0\]\.checkpoint_ns must be a string, got number/);
    await expectRefused(await push([prune], 'bob'), 403, 'forbidden', /cannot be written by this user/);
    expect(await server.saver.getTuple({ configurable: { thread_id: thread, checkpoint_ns: '', checkpoint_id: checkpoint.checkpoint_id } })).toBeDefined();
    expect((await server.pullAll('alice')).filter((change) => change.kind === 'prune')).toEqual([]);
  });
});
