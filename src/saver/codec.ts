import type { SerializerProtocol } from '@langchain/langgraph-checkpoint';
import { CheckpointError } from '../errors.js';
import type { TypedBytes } from '../storage/records.js';

/** What LangGraph's JSON serializer writes, instead of failing, for a value it cannot encode (a BigInt, say). */
const UNSERIALIZABLE = new TextEncoder().encode(JSON.stringify('[unable to serialize, circular reference is too complex to analyze]'));

function isUnserializablePlaceholder(bytes: Uint8Array): boolean {
  return bytes.byteLength === UNSERIALIZABLE.byteLength && bytes.every((byte, i) => byte === UNSERIALIZABLE[i]);
}

/** Serializes one value; the bytes own their buffer, so storing or transferring them copies nothing extra. */
export async function encode(serde: SerializerProtocol, value: unknown, what: string): Promise<TypedBytes> {
  let type: string;
  let data: Uint8Array | string;
  try {
    [type, data] = await serde.dumpsTyped(value);
  } catch (error) {
    throw new CheckpointError('SERIALIZE', `Could not serialize ${what}: ${String(error)}`, { cause: error });
  }
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  if (!(bytes instanceof Uint8Array)) {
    throw new CheckpointError('SERIALIZE', `The serializer returned ${typeof data} for ${what}; expected a Uint8Array.`);
  }
  if (type === 'json' && isUnserializablePlaceholder(bytes) && typeof value !== 'string') {
    throw new CheckpointError(
      'SERIALIZE',
      `${what[0]!.toUpperCase()}${what.slice(1)} cannot be serialized: it holds something JSON cannot carry (a BigInt, or a ` +
        'cycle too complex to follow), and the serializer would have stored a placeholder instead of it.',
    );
  }
  // Stored and transferred bytes must own their whole buffer, and never be the caller's own array (a channel
  // holding a Uint8Array is returned as is by the serializer; transferring it would empty the caller's copy).
  const owned = bytes !== value && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  return { type, bytes: owned };
}

const utf8 = new TextDecoder();

export async function decode<T>(serde: SerializerProtocol, stored: TypedBytes | undefined, what: string): Promise<T> {
  if (!stored || typeof stored.type !== 'string' || !(stored.bytes instanceof Uint8Array)) {
    throw new CheckpointError('DESERIALIZE', `The stored record of ${what} is corrupt: it has no typed bytes.`);
  }
  try {
    // JSON goes to the serializer as text (the protocol takes either): decoded here by one shared decoder,
    // where LangGraph's serializer would construct a TextDecoder per value, which costs more than the parse.
    const data = stored.type === 'json' ? utf8.decode(stored.bytes) : stored.bytes;
    return (await serde.loadsTyped(stored.type, data)) as T;
  } catch (error) {
    throw new CheckpointError(
      'DESERIALIZE',
      `Could not deserialize ${what} (type tag "${stored.type}"): ${String(error)}`,
      { cause: error },
    );
  }
}
