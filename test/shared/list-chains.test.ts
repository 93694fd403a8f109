import { JsonPlusSerializer } from '@langchain/langgraph-checkpoint';
import { recordBytes } from '../../bench/page/record-bytes.js';
import { ListCodec } from '../../src/saver/list-codec.js';
import { CheckpointError } from '../../src/errors.js';
import { resolveList } from '../../src/storage/lists.js';
import type { BlobRecord, ChannelVersion, StoredList } from '../../src/storage/records.js';

/** A small deterministic generator, so that a failing sequence can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const serde = new JsonPlusSerializer();
const scope = { thread_id: 'long', checkpoint_ns: '', channel: 'messages' };

/** How many list records a read of `version` follows: the list and its chain of bases. */
function chainLength(blobs: ReadonlyMap<ChannelVersion, BlobRecord>, version: ChannelVersion): number {
  let length = 0;
  for (let at: ChannelVersion | undefined = version; at !== undefined; at = blobs.get(at)!.list!.base) length += 1;
  return length;
}

/** The bytes of a list record besides its items: keys, base, depth and runs. */
function listRecordBytes(blob: BlobRecord): number {
  return recordBytes(blob) - recordBytes(blob.list?.items ?? []);
}

/**
 * Stores `edits` lists of one channel the way the saver does (each planned on the one before, its new items
 * serialized), in memory: messages added every time, now and then one removed or replaced, and with `reads`, a
 * read of an earlier list that the next builds on (a fork, or a reload with a new codec). Returns the records
 * and what each list was.
 */
async function storeChat(edits: number, seed: number, reads: boolean) {
  const next = random(seed);
  const blobs = new Map<ChannelVersion, BlobRecord>();
  const lists: { version: ChannelVersion; checkpointId: string; value: { id: number }[] }[] = [];
  let codec = new ListCodec();
  let parent: (typeof lists)[number] | undefined;
  for (let n = 1; n <= edits; n += 1) {
    let value = [...(parent?.value ?? []), { id: n }];
    const dice = next();
    if (dice < 0.04 && value.length > 2) value.splice(Math.floor(next() * (value.length - 1)), 1);
    else if (dice < 0.07 && value.length > 2) value[Math.floor(next() * (value.length - 1))] = { id: -n };
    const version = n;
    const checkpointId = `cp-${n}`;
    const planned = codec.plan(scope, parent?.checkpointId, checkpointId, version, { elements: value });
    const { list } = await codec.encode(serde, planned, `list ${n}`);
    blobs.set(version, { ...scope, version, value: null, list });
    lists.push((parent = { version, checkpointId, value }));
    if (reads && next() < 0.01) {
      // A read, as getTuple does before a fork or after a reload; the next list builds on what it read.
      if (next() < 0.5) codec = new ListCodec();
      parent = lists[Math.floor(next() * lists.length)]!;
      const read = resolveList(scope.channel, parent.version, blobs);
      const decoded = await codec.decode(serde, scope, parent.checkpointId, { channel: scope.channel, version: parent.version, ...read }, 'a list', true);
      // A read gives back new objects, which the next list keeps.
      parent = { ...parent, value: decoded as { id: number }[] };
    }
  }
  return { blobs, lists };
}

describe('lists of a long chat', () => {
  it('read back as they were stored, each following a short chain of records, across anchors of two levels', async () => {
    const { blobs, lists } = await storeChat(5_000, 7, true);
    for (const [i, { version, value }] of lists.entries()) {
      // Fewer than 256 edits, then fewer than 16 anchors per level (two levels by 5,000 lists), then the root.
      expect(chainLength(blobs, version)).toBeLessThanOrEqual(256 + 2 * 15);
      if (i % 97 !== 0 && i !== lists.length - 1) continue;
      const { items } = resolveList(scope.channel, version, blobs);
      const read = await Promise.all(items.map((item) => serde.loadsTyped(item.type, item.bytes)));
      expect(read, `list ${version}`).toEqual(value);
    }
    // Each message stored once, whichever list it was read back from.
    const stored = [...blobs.values()].reduce((sum, blob) => sum + blob.list!.items.length, 0);
    expect(stored).toBe(new Set(lists.flatMap(({ value }) => value.map(({ id }) => id))).size);
  });

  it('store records whose bytes grow with what each list adds, not with the length of the list', async () => {
    // The first list, then twice 768: each half has three anchors.
    const { blobs } = await storeChat(1_537, 11, false);
    const bytes = [...blobs.values()].map(listRecordBytes);
    const sum = (part: number[]) => part.reduce((total, n) => total + n, 0);
    // The second half's lists are three times as long as the first half's, on average; their records are not
    // larger (with each anchor spelling its whole list, they were 1.5 times larger).
    expect(sum(bytes.slice(769))).toBeLessThanOrEqual(1.2 * sum(bytes.slice(1, 769)));
  });

  it('that refer to what is not there are a corrupt database: DESERIALIZE, saying what is wrong', () => {
    const item = { type: 'json', bytes: new TextEncoder().encode('1') };
    const records = (lists: [ChannelVersion, StoredList][]) => new Map(lists.map(([version, list]) => [version, { ...scope, version, value: null, list }]));
    const cases: [Map<ChannelVersion, BlobRecord>, RegExp][] = [
      [records([[2, { items: [item], base: 1 }]]), /refers to its version 1, which is not stored/],
      [records([[1, { items: [item] }], [2, { items: [], base: 1, runs: [{ base: 0, count: 2 }] }]]), /at version 2 refers to positions 0\.\.1 of a list of 1 items at version 1/],
      [records([[1, { items: [item] }], [2, { items: [], base: 1, runs: [{ at: 1, own: 1, count: 1 }] }]]), /at version 1 holds 1 items, and a list refers to its item 1/],
      [records([[1, { items: [item], base: 2 }], [2, { items: [], base: 1 }]]), /refers to itself/],
    ];
    for (const [blobs, message] of cases) {
      let error: unknown;
      try {
        resolveList(scope.channel, 2, blobs);
      } catch (thrown) {
        error = thrown;
      }
      expect(CheckpointError.is(error, 'DESERIALIZE'), String(error)).toBe(true);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/the database is corrupt/);
    }
  });
});
