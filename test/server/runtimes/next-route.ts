// `app/sync/[endpoint]/route.ts` of a Next.js App Router app as README "Sync" shows it, on the database at
// JUNCTURE_TEST_DATABASE_URL. Next.js calls a route's exported function with the request and sends its response.
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import pg from 'pg';
import { createSyncHandler } from '../../../src/server/index.js';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const url = process.env['JUNCTURE_TEST_DATABASE_URL'];
const pool = new pg.Pool({ connectionString: url, max: 4 });
const saver = PostgresSaver.fromConnString(url!);
const sync = createSyncHandler({
  saver,
  pool,
  authenticate: (request) => (request.headers.get('authorization') === 'Bearer token-alice' ? { userId: 'alice' } : null),
});
const ready = (async () => {
  await saver.setup();
  await sync.setup();
  return sync;
})();

export async function POST(request: Request): Promise<Response> {
  return (await ready)(request);
}
export const GET = POST;

/** No part of a route: ends what the module opened, once the test is done with it. */
export async function close(): Promise<void> {
  await (await ready).close();
  await saver.end();
  await pool.end();
}
