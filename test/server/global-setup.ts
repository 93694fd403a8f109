// Starts a throwaway PostgreSQL cluster for the server layer, stopped and removed at the end.
import type { TestProject } from 'vitest/node';
import { startPostgresCluster } from '../support/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

export default async function startPostgres(project: TestProject): Promise<() => void> {
  const cluster = await startPostgresCluster();
  project.provide('databaseUrl', cluster.url);
  return () => cluster.stop();
}
