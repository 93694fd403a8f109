// A sync server on a fresh PostgreSQL database, and devices: BrowserSavers on fake-indexeddb with a minimal
// push/pull loop over their raw records (the real client is another piece).
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { openDB, unwrap } from 'idb';
import pg from 'pg';
import { inject } from 'vitest';
import { BrowserSaver } from '../../src/index.js';
import { createSyncHandler, type SyncHandler, type SyncHandlerOptions } from '../../src/server/index.js';
import type { PullResponse, PushResponse } from '../../src/wire/protocol.js';
import { readWireRecord, recordKey, toWireRecord, type DataRecord, type WireRecord } from '../../src/wire/records.js';
import { sliceSourceKey, withSlicesSpliced } from '../../src/storage/lists.js';
import { resolveRecords } from '../../src/storage/checkpoint-chains.js';
import { withValuesApart, type CheckpointRecord, type StoredCheckpointRecord, type StoredWriteRecord, type TypedBytes } from '../../src/storage/records.js';
import { writesIn } from '../../src/storage/task-writes.js';
import { IndexedDBCheckpointStorage } from '../../src/storage/checkpoint-store.js';
import { operationsOf } from '../../src/sync/replication.js';
import { freshDbName } from '../support/fixtures.js';

let databases = 0;

/** A new, empty database on the test cluster; its URL. */
export async function freshDatabase(): Promise<string> {
  const admin = new pg.Client({ connectionString: inject('databaseUrl') });
  await admin.connect();
  databases += 1;
  const name = `sync_${process.pid}_${Date.now().toString(36)}_${databases}`;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${name}`;
  return url.toString();
}

export const USERS = { alice: 'token-alice', bob: 'token-bob' } as const;
export type User = keyof typeof USERS;

/** What a device needs of a server: push and pull as a user. */
export interface SyncEndpoint {
  push(user: User, records: WireRecord[], clientId?: string): Promise<PushResponse>;
  pull(user: User, request?: Record<string, unknown>): Promise<PullResponse>;
}

export interface TestServer extends SyncEndpoint {
  url: string;
  pool: pg.Pool;
  saver: PostgresSaver;
  handler: SyncHandler;
  errors: unknown[];
  /** Calls the handler as a client would. */
  call(path: string, init?: { user?: User | null; body?: unknown; raw?: string; headers?: Record<string, string>; method?: string }): Promise<Response>;
  /** Every change of a user, from the beginning. */
  pullAll(user: User, request?: Record<string, unknown>): Promise<WireRecord[]>;
  close(): Promise<void>;
}

/** The handler with bearer tokens for alice and bob, on a fresh database. */
export async function startServer(options: Partial<SyncHandlerOptions> = {}): Promise<TestServer> {
  const url = await freshDatabase();
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const saver = PostgresSaver.fromConnString(url);
  await saver.setup();
  const errors: unknown[] = [];
  const handler = createSyncHandler({
    saver,
    pool,
    authenticate: (request) => {
      const token = request.headers.get('authorization')?.replace(/^Bearer /, '');
      const user = Object.entries(USERS).find(([, known]) => known === token)?.[0];
      return user ? { userId: user } : null;
    },
    onError: (error) => errors.push(error),
    ...options,
  });
  await handler.setup();
  const { call, push, pull } = handlerEndpoint(handler);
  const server: TestServer = {
    url,
    pool,
    saver,
    handler,
    errors,
    call,
    push,
    pull,
    pullAll: (user, request = {}) => pullAll(server, user, request),
    close: async () => {
      await handler.close();
      await saver.end();
      await pool.end();
    },
  };
  return server;
}

/** Calls `handler` in process as a client would, with the test users' tokens. */
export function handlerEndpoint(handler: (request: Request) => Promise<Response>): SyncEndpoint & Pick<TestServer, 'call'> {
  const call: TestServer['call'] = (path, init = {}) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...init.headers };
    if (init.user !== null) headers['authorization'] = `Bearer ${USERS[init.user ?? 'alice']}`;
    const body = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
    return handler(new Request(`http://sync.test/sync/${path}`, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body }));
  };
  return {
    call,
    push: async (user, records, clientId) => answerOf(await call('push', { user, body: { records, ...(clientId ? { clientId } : {}) } })),
    pull: async (user, request = {}) => answerOf(await call('pull', { user, body: request })),
  };
}

async function answerOf<T>(response: Response): Promise<T> {
  if (response.status !== 200) throw new Error(`${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** A sync endpoint over HTTP at `base` (for example `http://127.0.0.1:4173/sync`), with the test users' tokens. */
export function endpointAt(base: string): SyncEndpoint {
  const post = async <T>(path: string, user: User, body: unknown): Promise<T> =>
    answerOf<T>(
      await fetch(`${base}/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${USERS[user]}` },
        body: JSON.stringify(body),
      }),
    );
  return {
    push: (user, records, clientId) => post('push', user, { records, ...(clientId ? { clientId } : {}) }),
    pull: (user, request = {}) => post('pull', user, request),
  };
}

/** Every change the endpoint holds for a user, page after page from the start. */
export async function pullAll(endpoint: SyncEndpoint, user: User, request: Record<string, unknown> = {}): Promise<WireRecord[]> {
  const changes: WireRecord[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page = await endpoint.pull(user, { ...request, cursor });
    changes.push(...page.changes);
    cursor = page.cursor;
    if (!page.more) return changes;
  }
}

/** The server-sent events of a response, one at a time. */
export function eventsOf(response: Response) {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return {
    async next(): Promise<{ event: string; data: string }> {
      for (;;) {
        const match = /^event: (.*)\ndata: (.*)\n\n/m.exec(buffer);
        if (match) {
          buffer = buffer.slice(match.index + match[0].length);
          return { event: match[1]!, data: match[2]! };
        }
        const { done, value } = await reader.read();
        if (done) throw new Error('The stream ended.');
        buffer += value;
      }
    },
    close: () => reader.cancel(),
  };
}

type Stored = DataRecord;
const STORES = { checkpoint: 'checkpoints', blob: 'blobs', write: 'writes' } as const;

function keyOf(record: Stored): string {
  return JSON.stringify([record.kind, record.thread_id, record.checkpoint_ns, recordKey(record)]);
}

/**
 * Every record of a saver's database as the stores hold them, but checkpoints whole and ordinary (not stored as
 * changes, nothing in clear), as a device sends them.
 */
async function storedRecords(saver: BrowserSaver): Promise<Stored[]> {
  const db = await openDB(saver.dbName);
  try {
    const records: Stored[] = [];
    for (const [kind, store] of Object.entries(STORES) as [Stored['kind'], string][]) {
      if (!db.objectStoreNames.contains(store)) continue;
      const tx = db.transaction(store, 'readonly');
      const stored = await tx.store.getAll();
      const whole =
        kind === 'checkpoint' ? await resolveRecords(unwrap(tx), stored as StoredCheckpointRecord[]) : kind === 'write' ? writesIn(stored as StoredWriteRecord[]) : stored;
      for (const record of whole) {
        if (kind !== 'checkpoint') {
          records.push({ kind, ...record } as Stored);
          continue;
        }
        // The values a record holds travel as values of their own, each once.
        const { checkpoint, blobs } = withValuesApart(record as CheckpointRecord);
        records.push({ kind, ...(await saver.ordinaryRecord(checkpoint)) });
        for (const blob of blobs) records.push({ kind: 'blob', ...blob });
      }
    }
    const seen = new Set<string>();
    return records.filter((record) => {
      const key = JSON.stringify([record.kind, record.thread_id, record.checkpoint_ns, recordKey(record)]);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  } finally {
    db.close();
  }
}

/** The records with list items stored as slices of other records made whole, as a device sends them. */
function withItemsWhole(records: Stored[]): Stored[] {
  const sources = new Map<string, TypedBytes>();
  const scope = (record: { thread_id: string; checkpoint_ns: string }) => JSON.stringify([record.thread_id, record.checkpoint_ns]);
  for (const record of records) {
    if (record.kind === 'write') sources.set(scope(record) + sliceSourceKey({ write: [record.checkpoint_id, record.task_id, record.idx] }), record.value);
    else if (record.kind === 'blob' && record.value) sources.set(scope(record) + sliceSourceKey({ blob: [record.channel, record.version] }), record.value);
  }
  return records.map((record) =>
    record.kind === 'blob' ? { ...withSlicesSpliced(record, (slice) => sources.get(scope(record) + sliceSourceKey(slice))), kind: 'blob' } : record,
  );
}

/**
 * A device: a BrowserSaver with a cursor and the keys of the records the server has (pushed or pulled). Pushes
 * send what the server does not have yet, as the records are stored; pulls write what others wrote into the stores.
 */
export class Device {
  readonly saver: BrowserSaver;
  readonly clientId = `client-${Math.random().toString(36).slice(2)}`;
  cursor: string | null = null;
  readonly #synced = new Set<string>();
  readonly #tombstones: string[] = [];

  constructor(
    readonly server: SyncEndpoint,
    readonly user: User,
  ) {
    this.saver = new BrowserSaver({ dbName: freshDbName('device') });
  }

  /** Deletes a thread here and queues its tombstone for the next push. */
  async deleteThread(threadId: string): Promise<void> {
    await this.saver.deleteThread(threadId);
    this.#tombstones.push(threadId);
  }

  /** The records not pushed yet, checkpoints' values first. */
  async outbox(): Promise<WireRecord[]> {
    await this.#open();
    const order = { blob: 0, checkpoint: 1, write: 2 };
    const stored = await storedRecords(this.saver);
    const records = withItemsWhole(stored).filter((record) => !this.#synced.has(keyOf(record)));
    records.sort((a, b) => order[a.kind] - order[b.kind]);
    return [...records.map(toWireRecord), ...this.#tombstones.map((thread_id): WireRecord => ({ kind: 'delete', thread_id }))];
  }

  async push(): Promise<PushResponse> {
    const outbox = await this.outbox();
    const answer = await this.server.push(this.user, outbox, this.clientId);
    for (const record of outbox) if (record.kind !== 'delete' && record.kind !== 'prune') this.#synced.add(keyOf(readWireRecord(record, 'sent') as Stored));
    this.#tombstones.length = 0;
    for (const thread_id of answer.deletedThreads) await this.saver.deleteThread(thread_id);
    return answer;
  }

  /** Pulls every page and stores it, each page in one transaction. */
  async pull(): Promise<WireRecord[]> {
    const received: WireRecord[] = [];
    for (;;) {
      const page = await this.server.pull(this.user, { cursor: this.cursor, clientId: this.clientId, limit: 50 });
      await this.#store(page.changes);
      received.push(...page.changes);
      this.cursor = page.cursor;
      if (!page.more) return received;
    }
  }

  async sync(): Promise<void> {
    await this.push();
    await this.pull();
  }

  /** Waits for the saver's writes; a read opens its database, creating its stores on a device that never wrote. */
  async #open(): Promise<void> {
    await this.saver.flush();
    await this.saver.getTuple({ configurable: { thread_id: 'none' } });
  }

  async #store(changes: WireRecord[]): Promise<void> {
    const records = changes.map((change, i) => readWireRecord(change, `changes[${i}]`));
    for (const record of records) if (record.kind === 'delete') await this.saver.deleteThread(record.thread_id);
    await this.#open();
    const stored = records.filter((record): record is Stored => record.kind !== 'delete' && record.kind !== 'prune');
    for (const record of stored) this.#synced.add(keyOf(record));
    // As a device stores what it pulls (each checkpoint holding its small values, a task's writes together).
    const storage = new IndexedDBCheckpointStorage({ dbName: this.saver.dbName, durability: 'default' });
    try {
      await storage.applyChanges(operationsOf(stored));
    } finally {
      await storage.close();
    }
  }

  async close(): Promise<void> {
    await this.saver.close();
    await BrowserSaver.deleteDatabase(this.saver.dbName);
  }
}
