/**
 * Encryption at rest of serialized values. A value's typed bytes (`{ type, bytes }`, as a serializer made them)
 * are sealed into an envelope that is itself typed bytes, so every place that stores serialized values stores an
 * envelope unchanged: `{ type: ENCRYPTED_TYPE, bytes: version ‖ IV ‖ AES-GCM(type tag ‖ bytes) }`. Each envelope
 * has its own random 96-bit IV; the inner type tag is encrypted too. Anything not of `ENCRYPTED_TYPE` is a record
 * written in clear (before encryption was turned on) and reads as it is.
 */
import { CheckpointError } from '../errors.js';
import type { TypedBytes } from '../storage/records.js';

/** The type tag of an encrypted value. Serializers never produce it, so it cannot be confused with a clear value. */
export const ENCRYPTED_TYPE = 'juncture:aes-gcm';
/** The envelope layout's version: its first byte, so that the layout can change and old envelopes still open. */
const ENVELOPE_VERSION = 1;
const IV_BYTES = 12;

/** What the savers and the store take: `encryption: { key }`. */
export interface EncryptionOptions {
  /** An AES-GCM `CryptoKey` allowed to encrypt and decrypt (see `loadOrCreateKey`, `deriveKeyFromSecret`). */
  key: CryptoKey;
}

export function isEncrypted(typed: TypedBytes | null | undefined): boolean {
  return typed?.type === ENCRYPTED_TYPE;
}

function subtleCrypto(): SubtleCrypto {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (!subtle) {
    throw new CheckpointError('UNAVAILABLE', 'Encryption needs WebCrypto (crypto.subtle), which this context lacks: pages must be served over HTTPS or from localhost.');
  }
  return subtle;
}

/** Checks `encryption` options and makes their cipher; undefined when encryption is off. */
export function cipherOf(encryption: EncryptionOptions | undefined): ValueCipher | undefined {
  if (encryption === undefined) return undefined;
  const key: unknown = encryption?.key;
  if (!isCryptoKey(key)) throw new CheckpointError('INVALID_CONFIG', 'encryption.key must be a CryptoKey (see loadOrCreateKey and deriveKeyFromSecret).');
  if (key.algorithm.name !== 'AES-GCM' || !key.usages.includes('encrypt') || !key.usages.includes('decrypt')) {
    throw new CheckpointError(
      'INVALID_CONFIG',
      `encryption.key must be an AES-GCM key usable to encrypt and decrypt, got ${key.algorithm.name} for ${key.usages.join(', ') || 'no use'}.`,
    );
  }
  return new ValueCipher(key);
}

function isCryptoKey(value: unknown): value is CryptoKey {
  if (typeof CryptoKey !== 'undefined') return value instanceof CryptoKey;
  return typeof value === 'object' && value !== null && 'algorithm' in value && 'usages' in value;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

export class ValueCipher {
  readonly #key: CryptoKey;

  constructor(key: CryptoKey) {
    this.#key = key;
  }

  /** Encrypts typed bytes into an envelope; the envelope's bytes own their buffer (they may be transferred). */
  async seal(typed: TypedBytes): Promise<TypedBytes> {
    const tag = utf8Encoder.encode(typed.type);
    if (tag.byteLength > 255) throw new CheckpointError('SERIALIZE', `The serializer's type tag "${typed.type.slice(0, 40)}…" is longer than 255 bytes.`);
    const plain = new Uint8Array(1 + tag.byteLength + typed.bytes.byteLength);
    plain[0] = tag.byteLength;
    plain.set(tag, 1);
    plain.set(typed.bytes, 1 + tag.byteLength);
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const sealed = new Uint8Array(await subtleCrypto().encrypt({ name: 'AES-GCM', iv }, this.#key, plain));
    const bytes = new Uint8Array(1 + IV_BYTES + sealed.byteLength);
    bytes[0] = ENVELOPE_VERSION;
    bytes.set(iv, 1);
    bytes.set(sealed, 1 + IV_BYTES);
    return { type: ENCRYPTED_TYPE, bytes };
  }

  /** Opens an envelope; typed bytes in clear (written before encryption was on) come back as they are. */
  async open(typed: TypedBytes, what: string): Promise<TypedBytes> {
    if (!isEncrypted(typed)) return typed;
    const bytes = typed.bytes as Uint8Array<ArrayBuffer>;
    if (!(bytes instanceof Uint8Array) || bytes.byteLength < 1 + IV_BYTES + 16 || bytes[0] !== ENVELOPE_VERSION) {
      throw new CheckpointError('DECRYPT', `The encrypted record of ${what} is corrupt or of an unknown envelope version.`);
    }
    let plain: Uint8Array;
    try {
      const iv = bytes.subarray(1, 1 + IV_BYTES);
      plain = new Uint8Array(await subtleCrypto().decrypt({ name: 'AES-GCM', iv }, this.#key, bytes.subarray(1 + IV_BYTES)));
    } catch (error) {
      throw new CheckpointError(
        'DECRYPT',
        `Could not decrypt ${what}: it was encrypted with another key, or altered since (${(error as Error)?.name ?? String(error)}).`,
        { cause: error },
      );
    }
    const length = plain[0]!;
    return { type: utf8Decoder.decode(plain.subarray(1, 1 + length)), bytes: plain.slice(1 + length) };
  }
}

/** The error of reading an encrypted record without a key. */
export function missingKeyError(what: string): CheckpointError {
  return new CheckpointError('DECRYPT', `${what[0]!.toUpperCase()}${what.slice(1)} is encrypted, and no key was given: pass encryption: { key } with the key it was written with.`);
}
