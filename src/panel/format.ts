import type { JsonValue } from '../devtools/data-source.js';

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1000],
];

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** "5 minutes ago", from an ISO time. */
export function relativeTime(ts: string | null, now: number): string {
  if (!ts) return '';
  const time = Date.parse(ts);
  if (Number.isNaN(time)) return '';
  const elapsed = time - now;
  for (const [unit, size] of UNITS) {
    if (Math.abs(elapsed) >= size || unit === 'second') return relative.format(Math.round(elapsed / size), unit);
  }
  return '';
}

/** The size of a value as JSON text, for display ("1.2 KB"). */
export function jsonSize(value: JsonValue | undefined): number {
  return value === undefined ? 0 : new TextEncoder().encode(JSON.stringify(value)).byteLength;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function shortId(id: string): string {
  return id.length > 12 ? `…${id.slice(-8)}` : id;
}
