// The sync handler served by the runtime's own Fetch-API server (Bun.serve, Deno.serve), on the database at
// JUNCTURE_TEST_DATABASE_URL; prints `listening <port>` once it answers, and stops on SIGTERM.
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import pg from 'pg';
import { createSyncHandler } from '../../../src/server/index.js';

interface Runtime {
  Bun?: { serve(options: { hostname: string; port: number; fetch: (request: Request) => Promise<Response> }): { port: number; stop(): void } };
  Deno?: {
    serve(options: { hostname: string; port: number; onListen(address: { port: number }): void }, handler: (request: Request) => Promise<Response>): { shutdown(): Promise<void> };
    addSignalListener(signal: string, listener: () => void): void;
    env: { get(name: string): string | undefined };
  };
}
const runtime = globalThis as unknown as Runtime;
const url = runtime.Deno ? runtime.Deno.env.get('JUNCTURE_TEST_DATABASE_URL') : process.env['JUNCTURE_TEST_DATABASE_URL'];
const pool = new pg.Pool({ connectionString: url, max: 4 });
const saver = PostgresSaver.fromConnString(url!);
await saver.setup();
const handler = createSyncHandler({
  saver,
  pool,
  authenticate: (request) => (request.headers.get('authorization') === 'Bearer token-alice' ? { userId: 'alice' } : null),
});
await handler.setup();

let stop: () => Promise<void>;
if (runtime.Bun) {
  const server = runtime.Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: handler });
  console.log(`listening ${server.port}`);
  stop = async () => server.stop();
} else if (runtime.Deno) {
  const server = runtime.Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(`listening ${port}`) }, handler);
  stop = () => server.shutdown();
} else {
  throw new Error('Run this with Bun or Deno.');
}
const end = async () => {
  await handler.close();
  await stop();
  await saver.end();
  await pool.end();
};
if (runtime.Deno) runtime.Deno.addSignalListener('SIGTERM', () => void end());
else process.on('SIGTERM', () => void end());
