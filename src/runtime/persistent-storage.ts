import { CheckpointError } from '../errors.js';

export interface StorageReport {
  /** Whether the browser promised not to evict this origin's storage under pressure. */
  persisted: boolean;
  /** Bytes this origin uses, and may use, as the browser estimates them. */
  usage: number | undefined;
  quota: number | undefined;
}

/**
 * Asks the browser to keep this origin's storage (and so the agent's checkpoints) when space runs short, and
 * reports the usage. Browsers may say no (Chromium decides from engagement; Safari evicts script-written data after
 * seven days without a visit, unless persisted). Firefox asks the user, and this resolves only once they answer:
 * do not hold the agent's start on it. Pages only: workers have no `navigator.storage.persist`.
 */
export async function requestPersistentStorage(): Promise<StorageReport> {
  const storage = (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage;
  if (!storage || typeof storage.persist !== 'function') {
    throw new CheckpointError(
      'UNAVAILABLE',
      'Persistent storage cannot be requested here: this context has no navigator.storage.persist (workers have none, nor has WebKitGTK).',
    );
  }
  const persisted = (await storage.persisted()) || (await storage.persist());
  const { usage, quota } = await storage.estimate();
  return { persisted, usage, quota };
}
