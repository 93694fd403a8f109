// Packs this package as `npm publish` would and installs the tarball into a new app, offline, from the npm cache.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';

/** A finished child process: its exit code and everything it printed. */
interface Finished {
  code: number | null;
  output: string;
}

/**
 * The environment for npm and the app's tools: without Vitest's `NODE_ENV=test` (it would build the wrong bundle)
 * and with no `NODE_ENV` at all, which npm would read as `--omit=dev` when set to production.
 */
function toolEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NODE_ENV'];
  for (const name of Object.keys(env)) if (name.startsWith('VITEST') || name.startsWith('npm_')) delete env[name];
  return env;
}

/** Runs a command to its end; rejects with its output when it fails. */
export async function runTool(command: string, args: string[], cwd: string): Promise<string> {
  const finished = await new Promise<Finished>((resolveRun, reject) => {
    const child = spawn(command, args, { cwd, env: toolEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolveRun({ code, output }));
  });
  if (finished.code !== 0) throw new Error(`\`${command} ${args.join(' ')}\` exited with ${finished.code}:\n${finished.output}`);
  return finished.output;
}

/** What `npm pack --json` reports of the tarball. */
export interface PackedPackage {
  tarball: string;
  integrity: string;
  /** The paths inside the package, as the tarball holds them. */
  files: string[];
}

// What a fresh clone has not: build output, installed modules, test results and the repository itself.
const NOT_IN_A_CLEAN_CHECKOUT = new Set(['node_modules', 'dist', 'test-results', '.git', '.vitest-attachments']);

/**
 * Copies the checkout without its build output (sharing `node_modules`, as `npm ci` would have made them) and runs
 * `npm pack` there, so the tarball holds only what the package's own lifecycle scripts build.
 */
export async function packCleanCheckout(checkout: string, destination: string): Promise<PackedPackage> {
  const clean = mkdtempSync(join(tmpdir(), 'juncture-clean-checkout-'));
  try {
    cpSync(checkout, clean, { recursive: true, filter: (source) => !NOT_IN_A_CLEAN_CHECKOUT.has(basename(source)) });
    symlinkSync(join(checkout, 'node_modules'), join(clean, 'node_modules'), 'dir');
    const output = await runTool('npm', ['pack', '--json', '--pack-destination', destination], clean);
    // Lifecycle scripts print before the JSON report.
    const [report] = JSON.parse(output.slice(output.indexOf('\n[') + 1)) as [{ filename: string; integrity: string; files: { path: string }[] }];
    return { tarball: join(destination, report.filename), integrity: report.integrity, files: report.files.map((file) => file.path) };
  } finally {
    rmSync(clean, { recursive: true, force: true });
  }
}

/** One package in a v3 lockfile's `packages`. */
interface LockedPackage {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [field: string]: unknown;
}

interface Lockfile {
  name: string;
  lockfileVersion: 3;
  requires: true;
  packages: Record<string, LockedPackage>;
}

/** The lockfile path Node's resolution finds `name` at, looking up from the package at `from`. */
function resolveLocked(packages: Record<string, LockedPackage>, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const parent = base.lastIndexOf('/node_modules/');
    base = parent < 0 ? '' : base.slice(0, parent);
  }
}

/** The dependencies npm installs with a package: its own, its optional ones, and the peers it requires. */
function installedWith(entry: LockedPackage): string[] {
  const requiredPeers = Object.keys(entry.peerDependencies ?? {}).filter((name) => !entry.peerDependenciesMeta?.[name]?.optional);
  return [...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.optionalDependencies ?? {}), ...requiredPeers];
}

export interface AppManifest {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

/**
 * An app's lockfile, pinned to the versions this checkout's lockfile installed, with the packed package as a
 * file dependency. `npm ci` leaves only tarballs in the npm cache, not the registry's package documents that
 * resolving a version range needs; with every version pinned, `npm ci --offline` fetches nothing.
 */
export function appLockfile(checkoutLock: Lockfile, app: AppManifest, packed: PackedPackage, appDir: string): Lockfile {
  const source = checkoutLock.packages;
  const packageName = source['']!['name'] as string;
  const packageEntry = source['']!;
  const packages: Record<string, LockedPackage> = {
    '': { name: 'packed-app', ...app },
    [`node_modules/${packageName}`]: {
      version: packageEntry.version!,
      resolved: `file:${relative(appDir, packed.tarball)}`,
      integrity: packed.integrity,
      dependencies: packageEntry.dependencies!,
      peerDependencies: packageEntry.peerDependencies!,
      peerDependenciesMeta: packageEntry.peerDependenciesMeta!,
    },
  };
  const pending: [from: string, name: string][] = [...Object.keys({ ...app.dependencies, ...app.devDependencies }), ...installedWith(packageEntry)]
    .filter((name) => name !== packageName)
    .map((name) => ['', name]);
  while (pending.length > 0) {
    const [from, name] = pending.pop()!;
    const path = resolveLocked(source, from, name);
    // Absent: an optional dependency for another platform, which the checkout's install skipped too.
    if (!path || packages[path]) continue;
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = source[path]!;
    packages[path] = entry;
    for (const dependency of installedWith(entry)) pending.push([path, dependency]);
  }
  return { name: 'packed-app', lockfileVersion: 3, requires: true, packages };
}

/** The versions this checkout's package.json asks for, for the names given. */
export function checkoutRanges(checkout: string, names: string[]): Record<string, string> {
  const manifest = JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8')) as AppManifest;
  const ranges = { ...manifest.dependencies, ...manifest.devDependencies };
  return Object.fromEntries(names.map((name) => [name, ranges[name]!]));
}

/** Writes an app (its template files, package.json, lockfile) into `appDir` and installs it offline. */
export async function installApp(options: { checkout: string; template: string; appDir: string; app: AppManifest; packed: PackedPackage }): Promise<void> {
  const { checkout, template, appDir, app, packed } = options;
  cpSync(template, appDir, { recursive: true });
  const checkoutLock = JSON.parse(readFileSync(join(checkout, 'package-lock.json'), 'utf8')) as Lockfile;
  writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'packed-app', private: true, type: 'module', ...app }, null, 2));
  writeFileSync(join(appDir, 'package-lock.json'), JSON.stringify(appLockfile(checkoutLock, app, packed, appDir), null, 2));
  await runTool('npm', ['ci', '--offline', '--no-audit', '--no-fund'], appDir);
}
