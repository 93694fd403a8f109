// Turns measured samples into the table `npm run bench` prints and writes to BENCHMARKS.md: one set of columns
// for Chromium and one for Firefox, each engine's ratios against its own anchors.

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export interface Target {
  op: '<=' | '>=';
  value: number;
}

export interface Row {
  name: string;
  /** The measured figure, with its unit. */
  measured: string;
  /**
   * The figure a target applies to: a ratio to an anchor of the same run (or a count, or a time), and what it is
   * against; 'n/a' where the browser cannot measure it. Absent for an anchor.
   */
  ratio?: { value: number; against: string; unit?: string } | 'n/a';
  target?: Target;
}

export interface Section {
  title: string;
  rows: Row[];
}

/** One engine's sections; every engine's have the same rows in the same order. */
export interface EngineResults {
  engine: string;
  sections: Section[];
}

export function isMet(row: Row): boolean | undefined {
  if (!row.target || !row.ratio || row.ratio === 'n/a') return undefined;
  return row.target.op === '<=' ? row.ratio.value <= row.target.value : row.ratio.value >= row.target.value;
}

function formatNumber(value: number): string {
  if (value === 0) return '0';
  if (Number.isInteger(value) || Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatMs(ms: number, per: string): string {
  return `${formatNumber(ms)} ms${per ? `/${per}` : ''}`;
}

function ratioCell(row: Row): string {
  if (row.ratio === 'n/a') return 'n/a';
  return row.ratio ? `${formatNumber(row.ratio.value)}${row.ratio.unit ?? '×'} ${row.ratio.against}`.trim() : 'anchor';
}

function resultCell(row: Row): string {
  const met = isMet(row);
  return met === undefined ? '' : met ? 'met' : 'not met';
}

function targetCell(row: Row): string {
  if (!row.target) return '';
  const unit = row.ratio && row.ratio !== 'n/a' ? (row.ratio.unit ?? '×') : '×';
  return `${row.target.op === '<=' ? '≤' : '≥'} ${formatNumber(row.target.value)}${unit}`;
}

/** The other engine's figure, ratio and result in one cell; 'not run' when it was skipped. */
function otherEngineCell(row: Row | undefined): string {
  if (!row) return 'not run';
  if (row.ratio === 'n/a') return 'n/a';
  return [row.measured, row.ratio ? ratioCell(row) : '', resultCell(row)].filter(Boolean).join('; ');
}

const HEADER = ['measurement', 'Chromium median', 'Chromium ratio (same run)', 'target', 'Chromium result', 'Firefox (its own anchors)'];

function cells(row: Row, other: Row | undefined): string[] {
  return [row.name, row.measured, ratioCell(row), targetCell(row), resultCell(row), otherEngineCell(other)];
}

/** The table rows: a section title alone, or a Chromium row with the Firefox row of the same place. */
function tableRows(chromium: EngineResults, firefox: EngineResults | undefined): (string | string[])[] {
  return chromium.sections.flatMap((section, s) => [
    section.title,
    ...section.rows.map((row, r) => cells(row, firefox?.sections[s]?.rows[r])),
  ]);
}

export function markdownTable(chromium: EngineResults, firefox: EngineResults | undefined): string {
  const lines = [`| ${HEADER.join(' | ')} |`, `| ${HEADER.map(() => '---').join(' | ')} |`];
  for (const row of tableRows(chromium, firefox)) {
    lines.push(typeof row === 'string' ? `| **${row}** |${' |'.repeat(HEADER.length - 1)}` : `| ${row.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function textTable(chromium: EngineResults, firefox: EngineResults | undefined): string {
  const rows = tableRows(chromium, firefox).map((row) => (typeof row === 'string' ? [row] : row.map((cell, i) => (i === 0 ? `  ${cell}` : cell))));
  const widths = HEADER.map((title, i) => Math.max(title.length, ...rows.map((row) => (row.length > 1 ? (row[i]?.length ?? 0) : 0))));
  const line = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(HEADER), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

export function targetSummary({ engine, sections }: EngineResults): string {
  const results = sections.flatMap((section) => section.rows.map(isMet)).filter((met) => met !== undefined);
  return `${engine}: ${results.filter(Boolean).length} of ${results.length} targets met`;
}
