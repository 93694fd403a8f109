import type { SerializerProtocol } from '@langchain/langgraph-checkpoint';
import { isEncrypted, missingKeyError, type ValueCipher } from '../encryption/cipher.js';
import { CheckpointError } from '../errors.js';
import type { TypedBytes } from '../storage/records.js';

/** What LangGraph's JSON serializer writes, instead of failing, for a value it cannot encode (a BigInt, say). */
const UNSERIALIZABLE = new TextEncoder().encode(JSON.stringify('[unable to serialize, circular reference is too complex to analyze]'));

function isUnserializablePlaceholder(bytes: Uint8Array): boolean {
  return bytes.byteLength === UNSERIALIZABLE.byteLength && bytes.every((byte, i) => byte === UNSERIALIZABLE[i]);
}

/**
 * Serializes one value, and encrypts it with `cipher` when given; the bytes own their buffer, so storing or
 * transferring them copies nothing extra.
 */
export async function encode(serde: SerializerProtocol, value: unknown, what: string, cipher?: ValueCipher): Promise<TypedBytes> {
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
  if (cipher) return cipher.seal({ type, bytes });
  const owned = bytes !== value && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  return { type, bytes: owned };
}

/** Typed bytes in clear: encrypted ones opened with `cipher` (`DECRYPT` without it), clear ones as they are. */
async function inClear(stored: TypedBytes, what: string, cipher: ValueCipher | undefined): Promise<TypedBytes> {
  if (!isEncrypted(stored)) return stored;
  if (!cipher) throw missingKeyError(what);
  return cipher.open(stored, what);
}

const utf8 = new TextDecoder();

export async function decode<T>(serde: SerializerProtocol, record: TypedBytes | undefined, what: string, cipher?: ValueCipher): Promise<T> {
  if (!record || typeof record.type !== 'string' || !(record.bytes instanceof Uint8Array)) {
    throw new CheckpointError('DESERIALIZE', `The stored record of ${what} is corrupt: it has no typed bytes.`);
  }
  const stored = await inClear(record, what, cipher);
  // JSON goes to the serializer as text (the protocol takes either): decoded here by one shared decoder,
  // where LangGraph's serializer would construct a TextDecoder per value, which costs more than the parse.
  return load<T>(serde, stored.type, stored.type === 'json' ? utf8.decode(stored.bytes) : stored.bytes, what);
}

async function load<T>(serde: SerializerProtocol, type: string, data: string | Uint8Array, what: string): Promise<T> {
  try {
    return (await serde.loadsTyped(type, data)) as T;
  } catch (error) {
    throw new CheckpointError('DESERIALIZE', `Could not deserialize ${what} (type tag "${type}"): ${String(error)}`, { cause: error });
  }
}

/** The text of a JSON item, opened with `cipher` when encrypted; undefined for an item of another type. */
export async function jsonText(item: TypedBytes, what: string, cipher?: ValueCipher): Promise<string | undefined> {
  const clear = await inClear(item, what, cipher);
  return clear?.type === 'json' && clear.bytes instanceof Uint8Array ? utf8.decode(clear.bytes) : undefined;
}

/**
 * Decodes a list's items. `arrayText`, the JSON array their texts make when every item is JSON, is decoded in one
 * call: the serializer sees what it would see for the array stored whole, at the cost of one parse instead of one per
 * item. Without it, each item is decoded on its own.
 */
export async function decodeItems(serde: SerializerProtocol, records: TypedBytes[], what: string, cipher: ValueCipher | undefined, arrayText: string | undefined): Promise<unknown[]> {
  if (arrayText !== undefined) {
    const decoded = await load<unknown>(serde, 'json', arrayText, what);
    if (Array.isArray(decoded) && decoded.length === records.length) return decoded;
  }
  return Promise.all(records.map((item, i) => decode(serde, item, `item ${i} of ${what}`, cipher)));
}
