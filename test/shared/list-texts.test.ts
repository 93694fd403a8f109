// A list read again turns into text only the items it does not share with the list read before it in its scope;
// whatever it reuses is checked byte for byte, so no read ever returns another list's values.
import type { ItemRef } from '../../src/storage/lists.js';
import type { TypedBytes } from '../../src/storage/records.js';
import { ListTexts } from '../../src/saver/list-texts.js';
import { checkpointId, makeCheckpoint, makeMetadata, threadConfig, useFreshSavers } from '../support/fixtures.js';

const utf8 = new TextEncoder();
const item = (value: unknown): TypedBytes => ({ type: 'json', bytes: utf8.encode(JSON.stringify(value)) });
const scope: [string, string, string] = ['thread', '', 'messages'];

/** `textOf` that decodes JSON and counts the items it was asked for. */
function counting() {
  const asked: number[] = [];
  const decoder = new TextDecoder();
  return {
    asked,
    textOf: async (typed: TypedBytes, index: number) => {
      asked.push(index);
      return typed.type === 'json' ? decoder.decode(typed.bytes) : undefined;
    },
  };
}

describe('list texts', () => {
  it('decodes only the items a list adds to the one read before, and none for an ancestor', async () => {
    const texts = new ListTexts();
    const refs: ItemRef[] = [[1, 0], [1, 1], [2, 0], [3, 0]];
    const items = ['a', { b: 2 }, 'c', [4]].map(item);
    const first = counting();
    expect(await texts.arrayText(scope, refs.slice(0, 3), items.slice(0, 3), first.textOf)).toBe('["a",{"b":2},"c"]');
    expect(first.asked).toEqual([0, 1, 2]);

    const next = counting();
    // The same bytes as new arrays, as a worker hands them over on every read.
    const again = items.map((typed) => ({ type: typed.type, bytes: typed.bytes.slice() }));
    expect(await texts.arrayText(scope, refs, again, next.textOf)).toBe('["a",{"b":2},"c",[4]]');
    expect(next.asked).toEqual([3]);

    const ancestor = counting();
    expect(await texts.arrayText(scope, refs.slice(0, 2), again.slice(0, 2), ancestor.textOf)).toBe('["a",{"b":2}]');
    expect(ancestor.asked).toEqual([]);
    expect(await texts.arrayText(scope, [], [], ancestor.textOf)).toBe('[]');
  });

  it('decodes again from the first item whose place or bytes differ, whatever it read before', async () => {
    const texts = new ListTexts();
    const refs: ItemRef[] = [[1, 0], [2, 0], [3, 0]];
    await texts.arrayText(scope, refs, ['a', 'b', 'c'].map(item), counting().textOf);

    // The same places holding other bytes (a thread deleted and begun again under its id).
    const changed = counting();
    expect(await texts.arrayText(scope, refs, ['a', 'B', 'c'].map(item), changed.textOf)).toBe('["a","B","c"]');
    expect(changed.asked).toEqual([1, 2]);
    // Bytes of the same length that differ in their last byte only; and another type tag.
    const last = counting();
    expect(await texts.arrayText(scope, refs, ['a', 'B', 'd'].map(item), last.textOf)).toBe('["a","B","d"]');
    expect(last.asked).toEqual([2]);
    const removed = counting();
    expect(await texts.arrayText(scope, [[1, 0], [3, 0]], ['a', 'd'].map(item), removed.textOf)).toBe('["a","d"]');
    expect(removed.asked).toEqual([1]);
    // A caller that changes the bytes it was handed cannot change what is remembered.
    const handed = ['x', 'y'].map(item);
    await texts.arrayText(scope, [[5, 0], [5, 1]], handed, counting().textOf);
    handed[1]!.bytes.set(utf8.encode('"z"'));
    const mutated = counting();
    expect(await texts.arrayText(scope, [[5, 0], [5, 1]], handed, mutated.textOf)).toBe('["x","z"]');
    expect(mutated.asked).toEqual([1]);
  });

  it('answers undefined when an item is not JSON, and keeps scopes apart', async () => {
    const texts = new ListTexts();
    const bytes: TypedBytes = { type: 'bytes', bytes: new Uint8Array([1, 2]) };
    expect(await texts.arrayText(scope, [[1, 0], [1, 1]], [item('a'), bytes], counting().textOf)).toBeUndefined();
    await texts.arrayText(scope, [[1, 0]], [item('a')], counting().textOf);
    const other = counting();
    expect(await texts.arrayText(['other', '', 'messages'], [[1, 0]], [item('a')], other.textOf)).toBe('["a"]');
    expect(other.asked).toEqual([0]);
  });
});

describe('list texts in a saver', () => {
  const newSaver = useFreshSavers('list-texts');

  it('reads a list stored again under the same versions with other items (a thread deleted and begun again) as stored', async () => {
    const saver = newSaver();
    const config = threadConfig('again');
    const put = (n: number, messages: string[]) => saver.put(config, makeCheckpoint(checkpointId(n), { messages }, { messages: 2 }), makeMetadata(0), { messages: 2 });
    const read = async () => (await saver.getTuple(config))?.checkpoint.channel_values['messages'];
    await put(1, ['first', 'second']);
    expect(await read()).toEqual(['first', 'second']);
    await saver.deleteThread('again');
    await put(2, ['first', 'secone']);
    expect(await read()).toEqual(['first', 'secone']);
  });
});
