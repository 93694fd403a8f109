/**
 * Live streams: one LISTEN connection per handler hears every commit to sync's tables (from this process or any
 * other on the same database) and tells the streams of that user, which then pull.
 */
import type { Notification } from 'pg';
import { readNotification } from './record-store.js';

/** What the live streams need of their connection; pg's `PoolClient` is one. */
export interface ListenConnection {
  query(text: string): Promise<unknown>;
  on(event: 'notification', listener: (message: Notification) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** Gives the connection back; with an error, it is broken and is not used again. */
  release(error?: Error | boolean): void;
}

/** Where the live streams take their one connection from, at the first stream, kept until the handler closes; a pg `Pool` is one. */
export interface ListenPool {
  connect(): Promise<ListenConnection>;
}

/** Hears a commit of the user's changes, with the new cursor when the notification carries it. */
type Listener = (cursor?: string) => void;

export class LiveHub {
  readonly #listeners = new Map<string, Set<Listener>>();
  #connection: Promise<ListenConnection> | undefined;
  #closed = false;

  constructor(
    readonly pool: ListenPool,
    readonly channel: string,
    readonly onError: (error: unknown) => void,
  ) {}

  /** Calls `listener` after each commit of the user's changes; resolves once listening. */
  async subscribe(userId: string, listener: Listener): Promise<() => void> {
    await this.#listen();
    const listeners = this.#listeners.get(userId) ?? new Set();
    listeners.add(listener);
    this.#listeners.set(userId, listeners);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.#listeners.get(userId) === listeners) this.#listeners.delete(userId);
    };
  }

  #listen(): Promise<ListenConnection> {
    this.#connection ??= (async () => {
      const client = await this.pool.connect();
      client.on('notification', (message) => {
        if (message.channel !== this.channel || message.payload === undefined) return;
        const { userId, cursor } = readNotification(message.payload);
        for (const listener of [...(this.#listeners.get(userId) ?? [])]) listener(cursor);
      });
      client.on('error', (error) => this.#lost(client, error));
      await client.query(`LISTEN "${this.channel}"`);
      return client;
    })();
    this.#connection.catch(() => (this.#connection = undefined));
    return this.#connection;
  }

  /** The LISTEN connection broke: every stream is told to catch up, and the next subscriber listens anew. */
  #lost(client: ListenConnection, error: unknown): void {
    this.onError(error);
    this.#connection = undefined;
    client.release(error instanceof Error ? error : true);
    if (this.#closed) return;
    for (const listeners of this.#listeners.values()) for (const listener of [...listeners]) listener();
    if (this.#listeners.size > 0) void this.#listen().catch(this.onError);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    const connection = this.#connection;
    this.#connection = undefined;
    if (!connection) return;
    const client = await connection.catch(() => undefined);
    if (!client) return;
    await client.query(`UNLISTEN "${this.channel}"`).catch(() => undefined);
    client.release();
  }
}
