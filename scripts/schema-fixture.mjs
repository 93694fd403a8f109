// `node scripts/schema-fixture.mjs`: writes, with the code as it is now, a checkpoint database and an item database
// (in Node, on fake-indexeddb), and exports each to test/fixtures/schema/<kind>-v<schema version>.json with what the
// code read back. Run it once when a schema version changes; a fixture of a released version is never rewritten
// (`--force` rewrites the current version's, before it is released).
import 'fake-indexeddb/auto';
// Node's own AsyncLocalStorage for interrupt(), as in the Node test layer.
import '@langchain/langgraph';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runnerImport } from 'vite';

const folder = fileURLToPath(new URL('../test/fixtures/schema/', import.meta.url));
const force = process.argv.includes('--force');
const { module } = await runnerImport(fileURLToPath(new URL('../test/support/schema-fixtures.ts', import.meta.url)));
mkdirSync(folder, { recursive: true });
for (const fixture of await module.makeSchemaFixtures()) {
  const file = `${folder}${fixture.kind}-v${fixture.schemaVersion}.json`;
  const name = `test/fixtures/schema/${fixture.kind}-v${fixture.schemaVersion}.json`;
  if (existsSync(file) && !force) {
    console.log(`${name} exists: kept (a released schema's fixture never changes; --force rewrites it).`);
    continue;
  }
  writeFileSync(file, `${JSON.stringify(fixture)}\n`);
  console.log(`${name}: ${fixture.expected.length} ${fixture.kind === 'checkpoints' ? 'checkpoints' : 'items'} read back.`);
}
