// CORS: a page on another origin calls the endpoint only when `cors` names its origin; preflights are answered
// without credentials, and every answer to an allowed origin (errors and the live stream too) is readable by it.
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import pg from 'pg';
import { CheckpointError } from '../../src/index.js';
import { createSyncHandler } from '../../src/server/index.js';
import { eventsOf, startServer, type TestServer } from './support.js';

const APP = 'https://app.example';
const OTHER = 'https://evil.example';

let server: TestServer;
let open: TestServer;
let closed: TestServer;

beforeAll(async () => {
  [server, open, closed] = await Promise.all([
    startServer({ cors: { origins: [APP, 'http://localhost:5173'], maxAgeSeconds: 120 } }),
    startServer({ cors: { origins: '*' } }),
    startServer(),
  ]);
});
afterAll(async () => {
  await Promise.all([server, open, closed].map((each) => each.close()));
  expect([...server.errors, ...open.errors, ...closed.errors]).toEqual([]);
});

const preflight = (target: TestServer, path: string, origin: string, method = 'POST') =>
  target.call(path, {
    user: null,
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' },
  });

describe('a handler with cors.origins', () => {
  it('answers a preflight from an allowed origin with the methods of the endpoint and the headers asked for', async () => {
    for (const [path, method] of [
      ['push', 'POST'],
      ['pull', 'POST'],
      ['live', 'GET'],
    ] as const) {
      const response = await preflight(server, path, APP, method);
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(APP);
      expect(response.headers.get('access-control-allow-methods')).toBe(`${method}, OPTIONS`);
      expect(response.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
      expect(response.headers.get('access-control-max-age')).toBe('120');
      expect(response.headers.get('vary')).toMatch(/Origin/);
    }
  });

  it('refuses a preflight from another origin with 403 and its reason, and no CORS header', async () => {
    const response = await preflight(server, 'push', OTHER);
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error).toEqual({ code: 'forbidden', message: expect.stringMatching(/evil\.example.*cors\.origins/) });
  });

  it('lets an allowed origin read answers, refusals included, and gives another origin no CORS header', async () => {
    const pulled = await server.call('pull', { body: { cursor: null }, headers: { origin: APP } });
    expect(pulled.status).toBe(200);
    expect(pulled.headers.get('access-control-allow-origin')).toBe(APP);
    expect(pulled.headers.get('vary')).toBe('Origin');
    expect(pulled.headers.get('content-type')).toMatch(/^application\/json/);
    // The page can read why it was refused (here: no credentials).
    const refused = await server.call('pull', { user: null, body: { cursor: null }, headers: { origin: 'http://localhost:5173' } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    // CORS is not access control: the answer goes out, but a browser keeps it from the other origin's page.
    const other = await server.call('pull', { body: { cursor: null }, headers: { origin: OTHER } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers a method the endpoint does not take with 405, naming OPTIONS among the methods it allows', async () => {
    for (const [path, method, allowed] of [['push', 'GET', 'POST, OPTIONS'], ['live', 'POST', 'GET, OPTIONS']] as const) {
      const response = await server.call(path, { method, headers: { origin: APP } });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe(allowed);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
      expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    }
    // An OPTIONS that is not a preflight (no Access-Control-Request-Method) is not one of the endpoint's methods either.
    const plain = await server.call('pull', { user: null, method: 'OPTIONS', headers: { origin: APP } });
    expect(plain.status).toBe(405);
    expect(plain.headers.get('allow')).toBe('POST, OPTIONS');
  });

  it('opens the live stream to an allowed origin with its CORS header', async () => {
    const response = await server.call('live', { headers: { origin: APP } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    const events = eventsOf(response);
    expect((await events.next()).event).toBe('change');
    await events.close();
  });
});

describe("a handler with cors.origins '*'", () => {
  it('allows any origin, without varying on it', async () => {
    const response = await preflight(open, 'pull', OTHER);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-max-age')).toBe('600');
    const pulled = await open.call('pull', { body: { cursor: null }, headers: { origin: OTHER } });
    expect(pulled.headers.get('access-control-allow-origin')).toBe('*');
    expect(pulled.headers.get('vary')).toBeNull();
  });
});

describe('a handler without cors', () => {
  it('sends no CORS header and answers OPTIONS with 405', async () => {
    const response = await preflight(closed, 'push', APP);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    const pulled = await closed.call('pull', { body: { cursor: null }, headers: { origin: APP } });
    expect(pulled.status).toBe(200);
    expect(pulled.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('cors options', () => {
  it.each([
    [{ origins: [] }, /non-empty array/],
    [{ origins: ['https://app.example/'] }, /not an origin/],
    [{ origins: ['app.example'] }, /not an origin/],
    [{ origins: ['https://app.example/path'] }, /not an origin/],
    [{ origins: 'https://app.example' }, /non-empty array/],
    [{ origins: [APP], maxAgeSeconds: -1 }, /maxAgeSeconds/],
  ])('refuses %j with INVALID_CONFIG', (cors, reason) => {
    const pool = new pg.Pool();
    try {
      createSyncHandler({ saver: new PostgresSaver(pool), pool, authenticate: () => null, cors: cors as never });
      expect.unreachable();
    } catch (error) {
      expect(CheckpointError.is(error, 'INVALID_CONFIG')).toBe(true);
      expect((error as Error).message).toMatch(reason);
    }
  });
});
