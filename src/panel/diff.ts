import { create } from 'jsondiffpatch';
import { format } from 'jsondiffpatch/formatters/jsonpatch';
import type { JsonValue } from '../devtools/data-source.js';

const differ = create({
  // Lists of messages and notes: match items by content, so an append reads as one addition.
  objectHash: (item: object) => JSON.stringify(item),
  arrays: { detectMove: true },
});

export interface DiffLine {
  kind: 'add' | 'remove' | 'replace' | 'move';
  path: string;
  /** The new value as JSON text; absent for removals and moves. */
  value?: string;
  from?: string;
}

/** What changed from `before` to `after`, as JSON-patch operations ready to render as text. */
export function diffValues(before: JsonValue | undefined, after: JsonValue | undefined): DiffLine[] {
  const delta = differ.diff(before ?? {}, after ?? {});
  if (!delta) return [];
  return format(delta).map((op) => {
    switch (op.op) {
      case 'add':
      case 'replace':
        return { kind: op.op, path: op.path, value: JSON.stringify(op.value) };
      case 'remove':
        return { kind: 'remove', path: op.path };
      case 'move':
        return { kind: 'move', path: op.path, from: op.from };
    }
  });
}
