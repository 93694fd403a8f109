import { useMemo, useState } from 'react';
import { isEncryptedValue, type JsonValue } from '../devtools/data-source.js';
import { findMessages } from '../devtools/messages.js';
import { formatBytes, jsonSize } from './format.js';
import { JsonTree } from './JsonTree.js';
import { MessagesInValue } from './MessageViews.js';

/** Values above this size start folded, and render only when asked. */
const LAZY_BYTES = 16 * 1024;

export function copyAsJson(value: unknown): void {
  void navigator.clipboard?.writeText(JSON.stringify(value, null, 2));
}

/**
 * A named value with its size and a copy button: messages as a transcript (with a toggle to the raw JSON),
 * anything else as a JSON tree.
 */
export function JsonValueView({ name, value, dark }: { name: string; value: JsonValue; dark: boolean }) {
  if (isEncryptedValue(value)) {
    return (
      <section className="juncture-channel" aria-label={name}>
        <header>
          <strong>{name}</strong>
          <span className="juncture-encrypted" title="Stored encrypted; the page that holds the key can show it with connectDevtools">
            encrypted
          </span>
        </header>
      </section>
    );
  }
  return <DecodedValueView name={name} value={value} dark={dark} />;
}

function DecodedValueView({ name, value, dark }: { name: string; value: JsonValue; dark: boolean }) {
  const size = jsonSize(value);
  const [open, setOpen] = useState(size <= LAZY_BYTES);
  const [raw, setRaw] = useState(false);
  const messages = useMemo(() => (open ? findMessages(value) : undefined), [open, value]);
  return (
    <section className="juncture-channel" aria-label={name}>
      <header>
        <strong>{name}</strong>
        <span className="size">{formatBytes(size)}</span>
        <button onClick={() => copyAsJson(value)} title="Copy as JSON">
          Copy
        </button>
        {!open && <button onClick={() => setOpen(true)}>Show</button>}
        {messages && (
          <button aria-pressed={raw} onClick={() => setRaw(!raw)} title="Show the messages as stored">
            Raw JSON
          </button>
        )}
      </header>
      {open && (messages && !raw ? <MessagesInValue found={messages} dark={dark} /> : <JsonTree value={value} dark={dark} />)}
    </section>
  );
}
