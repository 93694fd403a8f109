// A throwaway PostgreSQL cluster: initdb in a temporary folder, a free port on 127.0.0.1, its socket in that
// folder; stopped and removed by `stop()`. As root, it runs as the postgres user. Debian's server binaries are
// found by scripts/postgres.mjs (installed by `npm test` and `npm run bench` through scripts/ensure-browser.mjs).
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPostgresBin } from '../../scripts/postgres.mjs';
import { freePort } from './free-port.js';

export interface PostgresCluster {
  /** `postgresql://postgres@127.0.0.1:<port>/postgres`, trusted without a password. */
  url: string;
  /** Stops the server and removes its folder. */
  stop(): void;
}

function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

function run(bin: string, program: string, args: string[], asPostgres: boolean): void {
  const command = asPostgres ? 'runuser' : join(bin, program);
  const argv = asPostgres ? ['-u', 'postgres', '--', join(bin, program), ...args] : args;
  const result = spawnSync(command, argv, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${program} failed (${result.status}): ${result.stderr || result.stdout}`);
}

export interface PostgresClusterOptions {
  /**
   * Flush commits to disk, as PostgreSQL does by default (benchmarks); tests leave it off, since a crash of a
   * throwaway cluster loses nothing anyone keeps.
   */
  fsync?: boolean;
}

export async function startPostgresCluster(options: PostgresClusterOptions = {}): Promise<PostgresCluster> {
  const bin = findPostgresBin();
  if (!bin) throw new Error('No PostgreSQL server found (Debian: apt-get install -y postgresql); `npm test` installs it when run as root.');
  const owner = postgresUser();
  const folder = mkdtempSync(join(tmpdir(), 'juncture-pg-'));
  if (owner) chownSync(folder, owner.uid, owner.gid);
  chmodSync(folder, 0o700);
  const data = join(folder, 'data');
  const port = await freePort();
  try {
    run(bin, 'initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'], owner !== undefined);
    const settings = `-p ${port} -k ${folder} -c listen_addresses=127.0.0.1 -c fsync=${options.fsync ? 'on' : 'off'} -c max_connections=200`;
    run(bin, 'pg_ctl', ['-D', data, '-l', join(folder, 'log'), '-o', settings, '-w', 'start'], owner !== undefined);
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      try {
        run(bin, 'pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop'], owner !== undefined);
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    },
  };
}
