/**
 * `createSyncHandler`: the sync endpoints as a Fetch API handler, `(request) => Promise<Response>`, so that it
 * mounts in Node's `http` (`toNodeListener`), Hono, Next.js route handlers, Deno or Bun.
 */
import type { BaseCheckpointSaver } from '@langchain/langgraph-checkpoint';
import type { Pool } from 'pg';
import { CheckpointError } from '../errors.js';
import type { LiveChange, PushResponse } from '../wire/protocol.js';
import { MAX_NAME_LENGTH, readName, readWireRecord, type SyncRecord } from '../wire/records.js';
import { createCors, type SyncCorsOptions } from './cors.js';
import { SyncHttpError, badRequest } from './http-error.js';
import { LiveHub, type ListenPool } from './live.js';
import { postgresBatchOf, type PostgresBatch } from './postgres-batch.js';
import { push } from './push.js';
import { RecordStore } from './record-store.js';
import { SyncedSaver } from './synced-saver.js';
import { setupSyncTables, tableNames } from './tables.js';

export interface SyncLimits {
  /** Largest request body, in bytes (413 above). Default 8 MiB. */
  maxBodyBytes?: number;
  /** Most records in one push (413 above). Default 2,000. */
  maxRecordsPerPush?: number;
  /** Most changes in one pull page; a larger `limit` is refused (400). Default 1,000. */
  maxPullLimit?: number;
  /** About how many bytes of changes one pull page holds (at least one change). Default 4 MiB. */
  maxPullBytes?: number;
}

export interface SyncHandlerOptions {
  /** The server's LangGraph saver, which receives every pushed checkpoint as ordinary values. */
  saver: BaseCheckpointSaver;
  /** A `pg` pool on the database of sync's own tables (it may be the saver's database). */
  pool: Pool;
  /**
   * Where the live streams' LISTEN connection comes from, kept from the first stream until `close()`. Default
   * `pool`, which then needs a connection more than pushes and pulls use at once: a pool of one must be given
   * another here (a pool of its own, or, behind a pooler that cannot LISTEN, one of direct connections).
   */
  listenPool?: ListenPool;
  /** Who is asking: `{ userId }`, or null for 401. Called for each request and before each live event. */
  authenticate(request: Request): Promise<{ userId: string } | null> | { userId: string } | null;
  /** The schema of sync's tables. Default `public`. */
  schema?: string;
  limits?: SyncLimits;
  /** How often a live stream sends a comment to keep proxies from closing it. Default 20 s. */
  heartbeatMs?: number;
  /**
   * Lets pages of other origins call the endpoint: preflights are answered and answers carry CORS headers. Without
   * it, none are sent, which suits a page served from the endpoint's own origin.
   */
  cors?: SyncCorsOptions;
  /** Hears failures answered with 500 (the client only learns that the server failed). */
  onError?: (error: unknown) => void;
  /**
   * Hears why pushes take a slower path: a PostgresSaver whose tables are in a layout the batched writes do not
   * know is given each checkpoint by its own `put`. Default `console.warn`.
   */
  onWarning?: (message: string) => void;
}

export interface SyncHandler {
  (request: Request): Promise<Response>;
  /** Creates or upgrades sync's tables; call once at start. The saver sets up its own tables. */
  setup(): Promise<void>;
  /** Ends the live streams and releases the LISTEN connection. The pools and saver stay the caller's. */
  close(): Promise<void>;
}

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

/** Reads a JSON object body of at most `max` bytes, whatever Content-Length claims. */
async function readJson(request: Request, max: number): Promise<Record<string, unknown>> {
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    // A JSON type also makes a browser ask (CORS preflight) before sending credentials from another origin.
    throw new SyncHttpError(415, 'unsupported_media_type', 'The body must be JSON, sent with Content-Type: application/json.');
  }
  const tooLarge = () => new SyncHttpError(413, 'payload_too_large', `The body is larger than ${max} bytes; send fewer records per request.`);
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new SyncHttpError(400, 'invalid_json', `The body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest('The body must be a JSON object.');
  return parsed as Record<string, unknown>;
}

function readOptionalName(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  return wire(() => readName(value, key));
}

/** Runs a wire check, turning its complaint into a 400. */
function wire<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof CheckpointError) throw badRequest(error.message);
    throw error;
  }
}

function checkLimit(name: string, value: number | undefined, fallback: number): number {
  const limit = value ?? fallback;
  if (!(Number.isSafeInteger(limit) && limit >= 1)) throw new CheckpointError('INVALID_CONFIG', `limits.${name} must be a whole number of at least 1, got ${JSON.stringify(value)}.`);
  return limit;
}

export function createSyncHandler(options: SyncHandlerOptions): SyncHandler {
  const { pool, authenticate } = options;
  if (typeof authenticate !== 'function') throw new CheckpointError('INVALID_CONFIG', 'createSyncHandler: authenticate must be a function.');
  if (!options.saver || typeof options.saver.put !== 'function') throw new CheckpointError('INVALID_CONFIG', 'createSyncHandler: saver must be a LangGraph checkpoint saver.');
  if (!pool || typeof pool.connect !== 'function') throw new CheckpointError('INVALID_CONFIG', 'createSyncHandler: pool must be a pg Pool.');
  const listenPool = options.listenPool ?? pool;
  if (typeof listenPool.connect !== 'function') throw new CheckpointError('INVALID_CONFIG', 'createSyncHandler: listenPool must be a pg Pool.');
  if (listenPool === pool && pool.options?.max === 1) {
    // The first live stream would keep the only connection, and every push and pull after it would wait forever.
    throw new CheckpointError(
      'INVALID_CONFIG',
      'createSyncHandler: pool has one connection, which the live streams would keep for LISTEN; give them another (listenPool) or let pool open more.',
    );
  }
  // Pushes go to the saver itself: through the wrapper they would be recorded twice.
  const saver = options.saver instanceof SyncedSaver ? options.saver.saver : options.saver;
  const schema = options.schema ?? 'public';
  const tables = tableNames(schema);
  const store = new RecordStore(pool, tables);
  const limits = {
    maxBodyBytes: checkLimit('maxBodyBytes', options.limits?.maxBodyBytes, 8 * 1024 * 1024),
    maxRecordsPerPush: checkLimit('maxRecordsPerPush', options.limits?.maxRecordsPerPush, 2_000),
    maxPullLimit: checkLimit('maxPullLimit', options.limits?.maxPullLimit, 1_000),
    maxPullBytes: checkLimit('maxPullBytes', options.limits?.maxPullBytes, 4 * 1024 * 1024),
  };
  const heartbeatMs = options.heartbeatMs ?? 20_000;
  const onError = options.onError ?? (() => undefined);
  const onWarning = options.onWarning ?? ((message: string) => console.warn(`[sync] ${message}`));
  // Checked at the first push (the saver's setup() may run after the handler is made), then kept.
  let batchCheck: Promise<PostgresBatch | undefined> | undefined;
  const batchOf = (): Promise<PostgresBatch | undefined> =>
    (batchCheck ??= postgresBatchOf(saver, pool).then(
      (check) => {
        if (check.reason !== undefined) onWarning(check.reason);
        // Tables not set up yet: checked again at the next push, which may come after the saver's setup().
        if (check.setUp === false) batchCheck = undefined;
        return check.batch;
      },
      (error: unknown) => {
        // Not kept: the next push checks again.
        batchCheck = undefined;
        throw error;
      },
    ));
  const cors = options.cors === undefined ? undefined : createCors(options.cors);
  const hub = new LiveHub(listenPool, tables.channel, onError);
  const streams = new Set<() => void>();

  async function userOf(request: Request): Promise<string> {
    const identity = await authenticate(request);
    if (identity === null || identity === undefined) {
      throw new SyncHttpError(401, 'unauthenticated', 'The request carries no valid credentials.');
    }
    const { userId } = identity;
    if (typeof userId !== 'string' || userId === '' || userId.length > MAX_NAME_LENGTH || userId.includes('\u0000')) {
      throw new TypeError('authenticate returned a userId that is not a non-empty string of at most 512 characters.');
    }
    return userId;
  }

  async function handlePush(request: Request, userId: string): Promise<Response> {
    const body = await readJson(request, limits.maxBodyBytes);
    const records = body['records'];
    if (!Array.isArray(records)) throw badRequest('records must be an array of records.');
    if (records.length > limits.maxRecordsPerPush) {
      throw new SyncHttpError(413, 'too_many_records', `A push holds at most ${limits.maxRecordsPerPush} records; this one holds ${records.length}. Split it.`);
    }
    const clientId = readOptionalName(body, 'clientId');
    const parsed: SyncRecord[] = wire(() => records.map((record, i) => readWireRecord(record, `records[${i}]`)));
    const batch = await batchOf();
    const answer: PushResponse = await push({ store, saver, ...(batch ? { batch } : {}) }, userId, parsed, clientId ?? null);
    return json(200, answer);
  }

  async function handlePull(request: Request, userId: string): Promise<Response> {
    const body = await readJson(request, limits.maxBodyBytes);
    const cursor = body['cursor'] ?? null;
    if (cursor !== null && (typeof cursor !== 'string' || cursor.length > 128)) throw badRequest('cursor must be a string from an earlier pull, or null.');
    const limit = body['limit'] ?? limits.maxPullLimit;
    if (!(Number.isSafeInteger(limit) && (limit as number) >= 1 && (limit as number) <= limits.maxPullLimit)) {
      throw badRequest(`limit must be a whole number from 1 to ${limits.maxPullLimit}.`);
    }
    let threads: string[] | undefined;
    if (body['threads'] !== undefined && body['threads'] !== null) {
      const list = body['threads'];
      if (!Array.isArray(list) || list.length > limits.maxRecordsPerPush) throw badRequest(`threads must be an array of at most ${limits.maxRecordsPerPush} thread ids.`);
      threads = wire(() => list.map((id, i) => readName(id, `threads[${i}]`)));
    }
    const clientId = readOptionalName(body, 'clientId');
    const page = await store.pull(userId, { cursor, limit: limit as number, maxBytes: limits.maxPullBytes, threads, clientId });
    // A PullResponse; bodies are stored as the server wrote them, so they go out without being parsed again.
    const text = `{"changes":[${page.changes.join(',')}],"cursor":${JSON.stringify(page.cursor)},"more":${page.more},"resync":${page.resync}}`;
    return new Response(text, { status: 200, headers: JSON_HEADERS });
  }

  async function handleLive(request: Request, userId: string): Promise<Response> {
    const encoder = new TextEncoder();
    let stop = () => undefined as void;
    const stream = new ReadableStream<Uint8Array>({
      start: async (controller) => {
        let open = true;
        let sending = Promise.resolve();
        const send = (text: string) => {
          if (open) controller.enqueue(encoder.encode(text));
        };
        const end = () => {
          if (!open) return;
          open = false;
          clearInterval(heartbeat);
          unsubscribe();
          streams.delete(end);
          request.signal.removeEventListener('abort', end);
          try {
            controller.close();
          } catch {
            // Already closed by the reader.
          }
        };
        stop = end;
        // Each event re-checks the credentials: a token that expired ends the stream.
        const announce = (cursor?: string) => {
          sending = sending.then(async () => {
            if (!open) return;
            try {
              const identity = await authenticate(request);
              if (identity?.userId !== userId) {
                send(`event: unauthorized\ndata: {}\n\n`);
                end();
                return;
              }
              const change: LiveChange = { cursor: cursor ?? (await store.head(userId)) };
              send(`event: change\ndata: ${JSON.stringify(change)}\n\n`);
            } catch (error) {
              onError(error);
              end();
            }
          });
        };
        const heartbeat = setInterval(() => send(': keep-alive\n\n'), heartbeatMs);
        let unsubscribe = () => undefined as void;
        streams.add(end);
        request.signal.addEventListener('abort', end);
        try {
          unsubscribe = await hub.subscribe(userId, announce);
        } catch (error) {
          onError(error);
          end();
          return;
        }
        send('retry: 2000\n\n');
        announce();
      },
      cancel: () => stop(),
    });
    return new Response(stream, {
      status: 200,
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' },
    });
  }

  const routes: Record<string, { method: string; run: (request: Request, userId: string) => Promise<Response> }> = {
    push: { method: 'POST', run: handlePush },
    pull: { method: 'POST', run: handlePull },
    live: { method: 'GET', run: handleLive },
  };

  const answer = async (request: Request): Promise<Response> => {
    try {
      const name = new URL(request.url).pathname.replace(/\/+$/, '').split('/').at(-1) ?? '';
      const route = Object.prototype.hasOwnProperty.call(routes, name) ? routes[name]! : undefined;
      if (!route) throw new SyncHttpError(404, 'not_found', 'No such sync endpoint: use push, pull or live.');
      // A preflight carries no credentials: it is answered before authenticate.
      const preflight = cors?.preflight(request, [route.method]);
      if (preflight) return preflight;
      if (request.method !== route.method) {
        // With CORS on, the endpoint also answers OPTIONS (preflights).
        const allowed = cors ? `${route.method}, OPTIONS` : route.method;
        const error = new SyncHttpError(405, 'method_not_allowed', `${name} takes ${allowed}.`);
        return new Response(JSON.stringify(error.toBody()), { status: 405, headers: { ...JSON_HEADERS, allow: allowed } });
      }
      const userId = await userOf(request);
      return await route.run(request, userId);
    } catch (error) {
      if (error instanceof SyncHttpError) return json(error.status, error.toBody());
      onError(error);
      return json(500, { error: { code: 'internal', message: 'The sync server failed; try again later.' } });
    }
  };
  const handler = async (request: Request): Promise<Response> => {
    const response = await answer(request);
    return cors ? cors.expose(request, response) : response;
  };
  return Object.assign(handler, {
    setup: () => setupSyncTables(pool, schema),
    close: async () => {
      for (const end of [...streams]) end();
      await hub.close();
    },
  });
}
