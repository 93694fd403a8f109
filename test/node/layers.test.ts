// The source reads top down: each folder imports only from folders below it, and no file imports itself back
// through others. A new import that breaks this fails here, naming the files.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

/**
 * Each folder (or file at the top of `src`) with the folders and files it may import from. `errors.ts` is the
 * bottom; the package's entry points (`index.ts`, `worker.ts`) are the top.
 */
const MAY_IMPORT: Record<string, string[]> = {
  'errors.ts': [],
  storage: ['errors.ts'],
  encryption: ['errors.ts', 'storage'],
  runtime: ['errors.ts'],
  wire: ['errors.ts', 'storage'],
  saver: ['errors.ts', 'storage', 'encryption', 'runtime'],
  store: ['errors.ts', 'storage', 'encryption', 'saver'],
  'default-worker.ts': ['errors.ts', 'storage', 'encryption', 'saver', 'store', 'worker'],
  worker: ['errors.ts', 'storage', 'encryption', 'runtime', 'saver', 'store', 'default-worker.ts'],
  devtools: ['errors.ts', 'storage', 'encryption'],
  panel: ['errors.ts', 'devtools'],
  sync: ['errors.ts', 'storage', 'encryption', 'runtime', 'wire', 'saver'],
  server: ['errors.ts', 'storage', 'encryption', 'wire', 'saver'],
  'index.ts': ['errors.ts', 'storage', 'encryption', 'runtime', 'saver', 'store', 'worker', 'default-worker.ts'],
  'worker.ts': ['errors.ts', 'storage', 'encryption', 'saver', 'store', 'worker', 'default-worker.ts'],
};

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

/** The `src` files a file imports or re-exports from (relative specifiers, as the sources spell them: `.js`). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const targets: string[] = [];
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+['"](\.[^'"]+)['"]/g)) {
    const base = join(dirname(file), match[1]!).replace(/\.js$/, '');
    const target = ['.ts', '.tsx', `${sep}index.ts`].map((extension) => base + extension).find((path) => existsSync(path));
    if (!target) throw new Error(`${relative(SRC, file)} imports ${match[1]}, which is no source file.`);
    targets.push(target);
  }
  return targets;
}

/** The folder a file belongs to, or its own name for a file at the top of `src`. */
const partOf = (file: string) => relative(SRC, file).split(sep)[0]!;

const files = sourceFiles(SRC);
const graph = new Map(files.map((file) => [file, importsOf(file)]));

describe('source layers', () => {
  it('has a rule for every folder and top-level file', () => {
    expect(Object.keys(MAY_IMPORT).sort()).toEqual([...new Set(files.map(partOf))].sort());
  });

  it('imports only from the folders below each folder', () => {
    const upward = [...graph].flatMap(([file, targets]) =>
      targets
        .filter((target) => partOf(target) !== partOf(file) && !MAY_IMPORT[partOf(file)]!.includes(partOf(target)))
        .map((target) => `${relative(SRC, file)} -> ${relative(SRC, target)}`),
    );
    expect(upward).toEqual([]);
  });

  it('has no import cycle between files', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]) => {
      state.set(file, 'open');
      for (const target of graph.get(file) ?? []) {
        if (state.get(target) === 'open') cycles.push([...path.slice(path.indexOf(target)), file, target].map((f) => relative(SRC, f)).join(' -> '));
        else if (!state.has(target)) visit(target, [...path, file]);
      }
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('keeps LangGraph, screens and transports out of the storage layer', () => {
    const packages = files
      .filter((file) => partOf(file) === 'storage')
      .flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/\bfrom\s+['"]([^.'"][^'"]*)['"]/g)].map((match) => match[1]!));
    expect([...new Set(packages)]).toEqual(['idb']);
  });
});
