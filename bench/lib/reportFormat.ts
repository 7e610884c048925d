// The number and table formatting every section of RESULTS.md shares.
import type { Summary } from './stats.ts';

/** Significant-figure formatting, so µs and events/s read alike. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a >= 10_000) return Math.round(x).toLocaleString('en');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}

/** "median (min–max, n=…)". */
export function sum(s: Summary, unit = ''): string {
  const u = unit === '' ? '' : ` ${unit}`;
  return `${num(s.median)}${u} (${num(s.min)}–${num(s.max)}, n=${s.n})`;
}

export function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

export function table(head: string[], rows: string[][]): string[] {
  return [row(head), row(head.map(() => '---')), ...rows.map(row)];
}
