// Finds Debian's PostgreSQL server binaries (initdb, pg_ctl): JUNCTURE_PG_BIN, else the newest
// /usr/lib/postgresql/<version>/bin that has them.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export function findPostgresBin() {
  const fromEnv = process.env.JUNCTURE_PG_BIN;
  if (fromEnv) {
    if (!existsSync(join(fromEnv, 'initdb'))) throw new Error(`JUNCTURE_PG_BIN is set to ${fromEnv}, which has no initdb.`);
    return fromEnv;
  }
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => /^\d+$/.test(name) && existsSync(join(root, name, 'bin', 'initdb')) && existsSync(join(root, name, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0], 'bin') : undefined;
}
