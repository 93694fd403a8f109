/**
 * The JSON text of the list read last in each scope (thread, namespace, channel), so that a list read again (the
 * next turn's, an ancestor's) turns into text only the items it does not share with it: a long conversation's
 * read then decodes (and decrypts) its new messages only, where decoding every item's bytes and joining them cost
 * as much as a tenth of a turn in Firefox. Items are matched by where they are stored and checked byte for byte
 * against a copy of what was read, so a text is never reused for other bytes.
 */
import type { ItemRef } from '../storage/lists.js';
import { sameBytes, type TypedBytes } from '../storage/records.js';
import { RecentByScope } from './recent-by-scope.js';

/** Scopes whose last list text is remembered, and the bytes and characters they may hold together. */
const MAX_SCOPES = 64;
const MAX_WEIGHT = 32 * 2 ** 20;

interface ListText {
  refs: ItemRef[];
  /** Copies of the items as stored (encrypted ones too). */
  items: TypedBytes[];
  /** The items' texts joined by commas, and where each ends in it. */
  joined: string;
  ends: number[];
}

function sameRef(a: ItemRef, b: ItemRef): boolean {
  return a[0] === b[0] && a[1] === b[1];
}

export class ListTexts {
  readonly #recent = new RecentByScope<ListText>(MAX_SCOPES, MAX_WEIGHT);

  /**
   * The text of the JSON array the items make (`[` their texts joined by commas `]`); `textOf` gives an item's
   * text, or undefined when it is no JSON, which makes the answer undefined too.
   */
  async arrayText(
    scope: [thread_id: string, checkpoint_ns: string, channel: string],
    refs: ItemRef[],
    items: TypedBytes[],
    textOf: (item: TypedBytes, index: number) => Promise<string | undefined>,
  ): Promise<string | undefined> {
    const last = this.#recent.get(scope);
    let shared = 0;
    if (last) {
      const most = Math.min(last.refs.length, refs.length, items.length);
      // An item without bytes (a corrupt record) is shared with nothing: `textOf` reports it.
      const matches = (i: number) => items[i]?.bytes instanceof Uint8Array && sameRef(last.refs[i]!, refs[i]!) && sameBytes(last.items[i]!, items[i]!);
      while (shared < most && matches(shared)) shared += 1;
    }
    let joined = shared === 0 ? '' : last!.joined.slice(0, last!.ends[shared - 1]);
    const ends = last?.ends.slice(0, shared) ?? [];
    const copies = last?.items.slice(0, shared) ?? [];
    const texts = await Promise.all(items.slice(shared).map((item, i) => textOf(item, shared + i)));
    if (texts.some((text) => text === undefined)) return undefined;
    texts.forEach((text, i) => {
      // Appended one by one: joining them, Firefox took longer than decoding them.
      joined += shared + i === 0 ? text : `,${text}`;
      ends.push(joined.length);
      const item = items[shared + i]!;
      copies.push({ type: item.type, bytes: item.bytes.slice() });
    });
    this.#recent.delete(scope);
    this.#recent.set(scope, { refs, items: copies, joined, ends });
    this.#recent.addWeight(scope, joined.length + copies.reduce((sum, item) => sum + item.bytes.byteLength, 0));
    return `[${joined}]`;
  }
}
