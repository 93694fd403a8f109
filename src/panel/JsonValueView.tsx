import { useState } from 'react';
import { JsonView, darkStyles, defaultStyles } from 'react-json-view-lite';
import type { JsonValue } from '../devtools/data-source.js';
import { formatBytes, jsonSize } from './format.js';

/** Values above this size start folded, and render only when asked. */
const LAZY_BYTES = 16 * 1024;

const expandThreeLevels = (level: number) => level < 3;

export function copyAsJson(value: unknown): void {
  void navigator.clipboard?.writeText(JSON.stringify(value, null, 2));
}

/** A value as a JSON tree (text only, never HTML), with its size and a copy button. */
export function JsonValueView({ name, value, dark }: { name: string; value: JsonValue; dark: boolean }) {
  const size = jsonSize(value);
  const [open, setOpen] = useState(size <= LAZY_BYTES);
  const scalar = typeof value !== 'object' || value === null;
  return (
    <section className="juncture-channel" aria-label={name}>
      <header>
        <strong>{name}</strong>
        <span className="size">{formatBytes(size)}</span>
        <button onClick={() => copyAsJson(value)} title="Copy as JSON">
          Copy
        </button>
        {!open && <button onClick={() => setOpen(true)}>Show</button>}
      </header>
      {open && (
        <div className="juncture-json">
          {scalar ? (
            <code>{JSON.stringify(value)}</code>
          ) : (
            <JsonView data={value} shouldExpandNode={expandThreeLevels} style={dark ? darkStyles : defaultStyles} />
          )}
        </div>
      )}
    </section>
  );
}
