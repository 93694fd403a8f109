// A worker that stores checkpoint records as the savers' transaction does (`putAsSaversDo`), by plain
// postMessage: what WorkerSaver's committed put costs without the library, one message each way.
import type { CheckpointRecord } from '../../src/storage/records.js';
import { openRawDatabase, putAsSaversDo } from './raw-indexeddb.js';

export interface RawWorkerRequest {
  dbName: string;
  record: CheckpointRecord;
}

/** The answer: null once stored, or why it failed (so the page's run fails instead of waiting). */
export type RawWorkerAnswer = null | { error: string };

const databases = new Map<string, Promise<IDBDatabase>>();

self.onmessage = async (event: MessageEvent<RawWorkerRequest>) => {
  const { dbName, record } = event.data;
  let db = databases.get(dbName);
  if (!db) databases.set(dbName, (db = openRawDatabase(dbName)));
  try {
    await putAsSaversDo(await db, record);
    self.postMessage(null satisfies RawWorkerAnswer);
  } catch (error) {
    self.postMessage({ error: String(error) } satisfies RawWorkerAnswer);
  }
};
