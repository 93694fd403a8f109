import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { unzipSync } from 'fflate';
import { GECKO_ID } from '../../scripts/build-extension.mjs';
import { zipExtensionPackages } from '../../scripts/package-extension.mjs';

const checkout = resolve(new URL('../..', import.meta.url).pathname);
const webExt = resolve(checkout, 'node_modules/.bin/web-ext');

type Files = Record<string, Uint8Array>;
type Manifest = {
  manifest_version: number;
  version: string;
  devtools_page: string;
  content_scripts: { js: string[] }[];
  background?: { scripts: string[] };
  browser_specific_settings?: { gecko?: { id?: string } };
};
type LintMessage = { code: string; file?: string };

const text = (files: Files, path: string) => new TextDecoder().decode(files[path]);
const manifestOf = (files: Files) => JSON.parse(text(files, 'manifest.json')) as Manifest;

/** Every file a manifest and its HTML pages load, as paths in the package. */
function referencedFiles(files: Files): string[] {
  const manifest = manifestOf(files);
  const pages = [manifest.devtools_page, 'panel/panel.html'];
  const fromPages = pages.flatMap((page) =>
    [...text(files, page).matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => new URL(match[1]!, `https://package/${page}`).pathname.slice(1)),
  );
  return [...pages, ...manifest.content_scripts.flatMap((script) => script.js), ...(manifest.background?.scripts ?? []), ...fromPages];
}

/** What no shipped file may hold: source maps, or paths of the machine that built it. */
function expectNoMachineTraces(files: Files) {
  expect(Object.keys(files).filter((path) => path.endsWith('.map'))).toEqual([]);
  const leaking = Object.keys(files).filter((path) => {
    const content = text(files, path);
    return content.includes(checkout) || content.includes('sourceMappingURL');
  });
  expect(leaking).toEqual([]);
}

describe('the store packages of the devtools extension (npm run package:extension)', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'juncture-packages-'));
  let chrome: Files;
  let firefox: Files;
  let sources: Files;

  beforeAll(() => {
    const zips = zipExtensionPackages(outDir);
    chrome = unzipSync(readFileSync(zips.chrome));
    firefox = unzipSync(readFileSync(zips.firefox));
    sources = unzipSync(readFileSync(zips.sources));
  });

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('the Chrome Web Store zip holds an MV3 manifest at its root and every file it loads, and no background', () => {
    const manifest = manifestOf(chrome);
    expect(manifest).toMatchObject({ manifest_version: 3, devtools_page: 'devtools-page/devtools.html' });
    expect(manifest.background).toBeUndefined();
    expect(referencedFiles(chrome).filter((path) => !chrome[path])).toEqual([]);
    expectNoMachineTraces(chrome);
  });

  it('the addons.mozilla.org zip holds the gecko id, the background relay and every file it loads, clean under web-ext lint', () => {
    const manifest = manifestOf(firefox);
    expect(manifest.browser_specific_settings?.gecko?.id).toBe(GECKO_ID);
    expect(manifest.background).toEqual({ scripts: ['background.js'] });
    expect(manifest.version).toBe(manifestOf(chrome).version);
    expect(referencedFiles(firefox).filter((path) => !firefox[path])).toEqual([]);
    expectNoMachineTraces(firefox);

    const unpacked = join(outDir, 'firefox');
    for (const [path, bytes] of Object.entries(firefox)) {
      mkdirSync(dirname(join(unpacked, path)), { recursive: true });
      writeFileSync(join(unpacked, path), bytes);
    }
    const lint = spawnSync(webExt, ['lint', '--source-dir', unpacked, '--output', 'json', '--no-config-discovery'], { encoding: 'utf8' });
    const report = JSON.parse(lint.stdout) as { errors: LintMessage[]; warnings: LintMessage[]; notices: LintMessage[] };
    expect(report.errors).toEqual([]);
    expect(report.notices).toEqual([]);
    // The one kind of warning left is React DOM's own `dangerouslySetInnerHTML` support, which the panel never uses.
    expect(report.warnings.filter((warning) => !(warning.code === 'UNSAFE_VAR_ASSIGNMENT' && /^assets\/react-dom-[\w-]+\.js$/.test(warning.file ?? '')))).toEqual([]);
  });

  it('the sources zip holds what rebuilds the extension, and nothing built or installed', () => {
    const paths = Object.keys(sources);
    expect(paths).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'README.md', 'extension/manifest.json', 'scripts/build-extension.mjs', 'src/devtools/reader.ts']),
    );
    expect(paths.filter((path) => /^(node_modules|dist)\//.test(path))).toEqual([]);
    expect(JSON.parse(text(sources, 'package.json')).scripts['package:extension']).toBe('node scripts/package-extension.mjs');
    expectNoMachineTraces(sources);
  });
});
