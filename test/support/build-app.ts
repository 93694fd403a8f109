import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';

/**
 * Runs a Vite build as a production build. Under Vitest `NODE_ENV` is `test`, which Vite would keep, building
 * React's development bundle and `import.meta.env.PROD === false`: not what an app ships.
 */
export async function productionBuild(run: () => Promise<unknown>): Promise<void> {
  const previous = process.env['NODE_ENV'];
  process.env['NODE_ENV'] = 'production';
  try {
    await run();
  } finally {
    process.env['NODE_ENV'] = previous;
  }
}

/** Builds an app with its own Vite config into a new temporary folder; its path. The caller removes it. */
export async function buildApp(configFile: string): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'juncture-app-'));
  await productionBuild(() => build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } }));
  return outDir;
}
