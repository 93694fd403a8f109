/**
 * The bytes a long chat leaves in the database, by record and field, against its messages' own serialized bytes:
 * the bench's chat (`buildChatGraph`, one human message and one reply of `length` characters a turn) on a
 * BrowserSaver. Byte counts do not depend on the engine or its load, so this runs in Node (`scripts/chat-bytes.mjs`).
 */
import { HumanMessage, type BaseMessage } from '@langchain/core/messages';
import { openDB } from 'idb';
import { BrowserSaver } from '../src/index.js';
import { isItemSlice } from '../src/storage/lists.js';
import type { BlobRecord, StoredCheckpointRecord, WriteRecord } from '../src/storage/records.js';
import { buildChatGraph, chatText } from './page/graphs.js';
import { recordBytes } from './page/record-bytes.js';

/** A field's bytes: its name and its value. */
const fieldBytes = (record: object, field: string) => (field in record ? recordBytes(field) + recordBytes((record as Record<string, unknown>)[field]) : 0);

export async function chatBytes(turns: number, delta: boolean, length: number): Promise<{ messages: number; parts: Record<string, number> }> {
  const dbName = `chat-bytes-${delta ? 'delta' : 'plain'}-${turns}`;
  await BrowserSaver.deleteDatabase(dbName);
  const saver = new BrowserSaver({ dbName });
  // The bench's thread ids are as long as this one.
  const thread_id = `chat-browser-${delta ? 'delta' : 'plain'}-1`;
  const graph = buildChatGraph(saver, delta, length);
  for (let turn = 0; turn < turns; turn += 1) await graph.invoke({ messages: [new HumanMessage(chatText(turn, 'human', length))] }, { configurable: { thread_id } });
  const messages = (await graph.getState({ configurable: { thread_id } })).values.messages as BaseMessage[];
  const serialized = await Promise.all(messages.map((message) => saver.serde.dumpsTyped(message)));
  await saver.close();
  const db = await openDB(dbName);
  const [checkpoints, blobs, writes] = await Promise.all([
    db.getAll('checkpoints') as Promise<StoredCheckpointRecord[]>,
    db.getAll('blobs') as Promise<BlobRecord[]>,
    db.getAll('writes') as Promise<WriteRecord[]>,
  ]);
  db.close();
  await BrowserSaver.deleteDatabase(dbName);
  const parts: Record<string, number> = {};
  const add = (part: string, bytes: number) => (parts[part] = (parts[part] ?? 0) + bytes);
  for (const record of checkpoints) {
    const fields = {
      'checkpoints: serialized checkpoint': ['checkpoint'],
      'checkpoints: ts, versions_seen': ['ts', 'versions_seen'],
      'checkpoints: channel_versions': ['channel_versions'],
      'checkpoints: metadata (serialized, and its entries)': ['metadata', 'metadata_entries'],
    };
    let counted = 0;
    for (const [part, names] of Object.entries(fields)) {
      const bytes = names.reduce((sum, name) => sum + fieldBytes(record, name), 0);
      add(part, bytes);
      counted += bytes;
    }
    add('checkpoints: keys, v, step, source, delta channels, depth, removed keys', recordBytes(record) - counted);
  }
  for (const record of blobs) {
    const items = record.list?.items ?? [];
    const whole = items.filter((item) => !isItemSlice(item));
    const slices = items.filter(isItemSlice);
    add('blobs: list items stored whole', recordBytes(whole));
    add('blobs: list items stored as slices', recordBytes(slices));
    add(record.list ? 'blobs: keys, runs, bases and depths of lists' : 'blobs: values stored whole, with their keys', recordBytes(record) - recordBytes(whole) - recordBytes(slices));
  }
  for (const record of writes) {
    add('writes: values', fieldBytes(record, 'value'));
    add('writes: keys (checkpoint, task, path, channel, idx, of)', recordBytes(record) - fieldBytes(record, 'value'));
  }
  return { messages: serialized.reduce((sum, [, bytes]) => sum + bytes.length, 0), parts };
}
