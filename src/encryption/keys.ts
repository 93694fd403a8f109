/**
 * Where an encryption key comes from. `loadOrCreateKey` keeps a random, non-extractable key in IndexedDB: the
 * browser can use it but no script can read its bytes, so it protects against someone who copies the records
 * out (an export, a backup, the extension) but not against the device's profile folder as a whole, which holds
 * the key too. `deriveKeyFromSecret` makes the same key again from an app secret (a passphrase, a token the
 * server hands a signed-in user), so nothing on the device opens the records without that secret.
 */
import type { DBSchema } from 'idb';
import { CheckpointError, storageError } from '../errors.js';
import { openLayoutDatabase, type DatabaseLayout } from '../storage/database.js';

/** The database that `loadOrCreateKey` keeps keys in, unless told otherwise. */
export const DEFAULT_KEY_DB_NAME = 'juncture-keys';

interface KeySchema extends DBSchema {
  keys: { key: string; value: CryptoKey };
}

const KEY_LAYOUT: DatabaseLayout<KeySchema> = {
  upgradeSteps: [(db) => void db.createObjectStore('keys')],
  storeNames: ['keys'],
};

const AES_KEY = { name: 'AES-GCM', length: 256 } as const;

function subtle(): SubtleCrypto {
  const subtleCrypto = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (!subtleCrypto) throw new CheckpointError('UNAVAILABLE', 'Keys need WebCrypto (crypto.subtle): pages must be served over HTTPS or from localhost.');
  return subtleCrypto;
}

/**
 * The AES-GCM key stored under `name` in IndexedDB database `dbName`; made (random, 256 bits, non-extractable)
 * and stored first when there is none. Two tabs asking at once get the same key: the first to store wins.
 */
export async function loadOrCreateKey(options: { name?: string; dbName?: string } = {}): Promise<CryptoKey> {
  const { name = 'default', dbName = DEFAULT_KEY_DB_NAME } = options;
  if (typeof name !== 'string' || name === '') throw new CheckpointError('INVALID_CONFIG', `loadOrCreateKey: name must be a non-empty string, got ${JSON.stringify(name)}.`);
  if (typeof dbName !== 'string' || dbName === '') throw new CheckpointError('INVALID_CONFIG', `loadOrCreateKey: dbName must be a non-empty string, got ${JSON.stringify(dbName)}.`);
  const fresh = await subtle().generateKey(AES_KEY, false, ['encrypt', 'decrypt']);
  const db = await openLayoutDatabase(dbName, KEY_LAYOUT, { onVersionChange: () => db.close(), onTerminated: () => undefined });
  try {
    const tx = db.transaction('keys', 'readwrite');
    const stored = await tx.store.get(name);
    if (stored === undefined) await tx.store.add(fresh, name);
    await tx.done;
    return stored ?? fresh;
  } catch (error) {
    throw storageError(`Loading the key "${name}" from IndexedDB database "${dbName}"`, error);
  } finally {
    db.close();
  }
}

/** Deletes the key stored under `name`: whatever was encrypted with it can no longer be read. */
export async function deleteStoredKey(options: { name?: string; dbName?: string } = {}): Promise<void> {
  const { name = 'default', dbName = DEFAULT_KEY_DB_NAME } = options;
  const db = await openLayoutDatabase(dbName, KEY_LAYOUT, { onVersionChange: () => db.close(), onTerminated: () => undefined });
  try {
    await db.delete('keys', name);
  } catch (error) {
    throw storageError(`Deleting the key "${name}" from IndexedDB database "${dbName}"`, error);
  } finally {
    db.close();
  }
}

/** OWASP's 2023 advice for PBKDF2 with SHA-256. */
export const DEFAULT_PBKDF2_ITERATIONS = 600_000;
const MIN_SALT_BYTES = 16;

const bytesOf = (value: string | Uint8Array): Uint8Array<ArrayBuffer> =>
  typeof value === 'string' ? new TextEncoder().encode(value) : new Uint8Array(value);

/**
 * A non-extractable AES-GCM key derived from an app secret with PBKDF2 (SHA-256). The same secret, salt and
 * iterations give the same key on every device. The salt need not be secret but should be unique to the user
 * (a random value kept with their account, or their user id with an app-wide prefix); at least 16 bytes.
 */
export async function deriveKeyFromSecret(
  secret: string | Uint8Array,
  options: { salt: string | Uint8Array; iterations?: number },
): Promise<CryptoKey> {
  const { salt, iterations = DEFAULT_PBKDF2_ITERATIONS } = options ?? {};
  if (!(typeof secret === 'string' || secret instanceof Uint8Array) || secret.length === 0) {
    throw new CheckpointError('INVALID_CONFIG', 'deriveKeyFromSecret: the secret must be a non-empty string or Uint8Array.');
  }
  if (!(typeof salt === 'string' || salt instanceof Uint8Array) || bytesOf(salt).byteLength < MIN_SALT_BYTES) {
    throw new CheckpointError('INVALID_CONFIG', `deriveKeyFromSecret: options.salt must be a string or Uint8Array of at least ${MIN_SALT_BYTES} bytes.`);
  }
  if (!(Number.isInteger(iterations) && iterations >= 1)) {
    throw new CheckpointError('INVALID_CONFIG', `deriveKeyFromSecret: options.iterations must be a whole number of at least 1, got ${JSON.stringify(iterations)}.`);
  }
  const material = await subtle().importKey('raw', bytesOf(secret), 'PBKDF2', false, ['deriveKey']);
  return subtle().deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt: bytesOf(salt), iterations }, material, AES_KEY, false, ['encrypt', 'decrypt']);
}
