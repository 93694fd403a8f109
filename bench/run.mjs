// `npm run bench`: Node runs no TypeScript, so the driver is loaded through Vite's module runner.
import { fileURLToPath } from 'node:url';
import { runnerImport } from 'vite';

const { module } = await runnerImport(fileURLToPath(new URL('./driver.ts', import.meta.url)));
await module.runBenchmarks();
