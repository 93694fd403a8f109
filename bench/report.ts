// Turns measured samples into the table `npm run bench` prints and writes to BENCHMARKS.md.

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
  /** The figure a target applies to: a ratio to an anchor of the same run (or a count), and what it is against. */
  ratio?: { value: number; against: string; unit?: string };
  target?: Target;
}

export interface Section {
  title: string;
  rows: Row[];
}

export function isMet(row: Row): boolean | undefined {
  if (!row.target || !row.ratio) return undefined;
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

function cells(row: Row): string[] {
  const unit = row.ratio?.unit ?? '×';
  const ratio = row.ratio ? `${formatNumber(row.ratio.value)}${unit} ${row.ratio.against}`.trim() : 'anchor';
  const target = row.target ? `${row.target.op === '<=' ? '≤' : '≥'} ${formatNumber(row.target.value)}${unit}` : '';
  const met = isMet(row);
  return [row.name, row.measured, ratio, target, met === undefined ? '' : met ? 'met' : 'not met'];
}

const HEADER = ['measurement', 'median', 'ratio (same run)', 'target', 'result'];

export function markdownTable(sections: Section[]): string {
  const lines = [`| ${HEADER.join(' | ')} |`, `| ${HEADER.map(() => '---').join(' | ')} |`];
  for (const section of sections) {
    lines.push(`| **${section.title}** | | | | |`);
    for (const row of section.rows) lines.push(`| ${cells(row).join(' | ')} |`);
  }
  return lines.join('\n');
}

export function textTable(sections: Section[]): string {
  const rows = sections.flatMap((section) => [[`${section.title}`], ...section.rows.map((row) => cells(row).map((cell, i) => (i === 0 ? `  ${cell}` : cell)))]);
  const widths = HEADER.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(HEADER), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

export function targetSummary(sections: Section[]): { met: number; total: number } {
  const results = sections.flatMap((section) => section.rows.map(isMet)).filter((met) => met !== undefined);
  return { met: results.filter(Boolean).length, total: results.length };
}
