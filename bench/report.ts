// Turns measured samples into the table `npm run bench` prints and writes to BENCHMARKS.md: one set of columns
// for Chromium and one column for each other engine (Firefox, WebKit), each engine's ratios against its own anchors.

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

/** Another engine's figure, ratio and result in one cell; 'not run' when it was skipped. */
function otherEngineCell(row: Row | undefined, ran: boolean): string {
  if (!ran) return 'not run';
  if (!row) return 'section not run';
  if (row.ratio === 'n/a') return 'n/a';
  return [row.measured, row.ratio ? ratioCell(row) : '', resultCell(row)].filter(Boolean).join('; ');
}

/** An engine other than Chromium: its name, and its results when it ran. */
export interface OtherEngine {
  engine: string;
  results: EngineResults | undefined;
}

function header(others: OtherEngine[]): string[] {
  return ['measurement', 'Chromium median', 'Chromium ratio (same run)', 'target', 'Chromium result', ...others.map(({ engine }) => `${engine} (its own anchors)`)];
}

function cells(row: Row, others: (Row | undefined)[], ran: boolean[]): string[] {
  return [row.name, row.measured, ratioCell(row), targetCell(row), resultCell(row), ...others.map((other, i) => otherEngineCell(other, ran[i]!))];
}

/** The table rows: a section title alone, or a Chromium row with the other engines' rows of the same place. */
function tableRows(chromium: EngineResults, others: OtherEngine[]): (string | string[])[] {
  const ran = others.map(({ results }) => results !== undefined);
  return chromium.sections.flatMap((section, s) => [
    section.title,
    ...section.rows.map((row, r) => cells(row, others.map(({ results }) => results?.sections[s]?.rows[r]), ran)),
  ]);
}

export function markdownTable(chromium: EngineResults, others: OtherEngine[]): string {
  const titles = header(others);
  const lines = [`| ${titles.join(' | ')} |`, `| ${titles.map(() => '---').join(' | ')} |`];
  for (const row of tableRows(chromium, others)) {
    lines.push(typeof row === 'string' ? `| **${row}** |${' |'.repeat(titles.length - 1)}` : `| ${row.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function textTable(chromium: EngineResults, others: OtherEngine[]): string {
  const titles = header(others);
  const rows = tableRows(chromium, others).map((row) => (typeof row === 'string' ? [row] : row.map((cell, i) => (i === 0 ? `  ${cell}` : cell))));
  const widths = titles.map((title, i) => Math.max(title.length, ...rows.map((row) => (row.length > 1 ? (row[i]?.length ?? 0) : 0))));
  const line = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(titles), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

export function targetSummary({ engine, sections }: EngineResults): string {
  const results = sections.flatMap((section) => section.rows.map(isMet)).filter((met) => met !== undefined);
  return `${engine}: ${results.filter(Boolean).length} of ${results.length} targets met`;
}
