import type { DBSchema } from 'idb';
import type { DatabaseLayout } from '../database.js';

/** One stored item. Its key is `[namespace, key]`: nested arrays, so a namespace prefix is one key range. */
export interface ItemRecord {
  namespace: string[];
  key: string;
  /** A JSON object, stored as a structured clone so that filters read it without decoding. */
  value: Record<string, unknown>;
  /** Milliseconds since the epoch. */
  createdAt: number;
  updatedAt: number;
  /** When the item stops existing (ms since the epoch); absent for items that never expire. */
  expiresAt?: number;
  /** The item's time to live in minutes, kept to push `expiresAt` on when it is read. */
  ttlMinutes?: number;
}

/** One embedding of one field of an item, keyed `[namespace, key, field]`, so it sits under its item's key range. */
export interface VectorRecord {
  namespace: string[];
  key: string;
  field: string;
  vector: Float32Array;
  /** The vector's Euclidean norm, computed once when stored. */
  norm: number;
}

/** A namespace that holds items, with how many: listing namespaces reads these, not the items. */
export interface NamespaceRecord {
  namespace: string[];
  items: number;
}

export interface ItemSchema extends DBSchema {
  items: { key: [string[], string]; value: ItemRecord; indexes: { by_expiry: number } };
  vectors: { key: [string[], string, string]; value: VectorRecord };
  namespaces: { key: string[]; value: NamespaceRecord };
}

export const ITEM_STORE_NAMES = ['items', 'vectors', 'namespaces'] as const;

/** Upgrade steps of the item database: appended to, never changed, so old data always migrates. */
export const ITEM_LAYOUT: DatabaseLayout<ItemSchema> = {
  upgradeSteps: [
    (db) => {
      const items = db.createObjectStore('items', { keyPath: ['namespace', 'key'] });
      // Records without `expiresAt` are left out of the index, so a sweep reads only expiring items.
      items.createIndex('by_expiry', 'expiresAt');
      db.createObjectStore('vectors', { keyPath: ['namespace', 'key', 'field'] });
      db.createObjectStore('namespaces', { keyPath: 'namespace' });
    },
  ],
  storeNames: ITEM_STORE_NAMES,
};
