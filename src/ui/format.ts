/** Fixed-decimal, unit-bearing formatting so numbers line up and read the same everywhere. */
export const fmtNats = (x: number, digits = 4): string =>
  Number.isFinite(x) ? `${x.toFixed(digits)} nats` : '—';
/** A KL divergence: infinite when one side gives probability to a token the other never produces. */
export const fmtKl = (x: number, digits = 4): string => (x === Infinity ? '∞ nats' : fmtNats(x, digits));
export const fmtPct = (x: number, digits = 1): string =>
  Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : '—';
export const fmtMs = (x: number): string =>
  !Number.isFinite(x) ? '—' : x < 10 ? `${x.toFixed(2)} ms` : `${x.toFixed(0)} ms`;

export function fmtBytes(n: number): string {
  if (!Number.isFinite(n) || n <= 0) return '0 B';
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function fmtDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
}

/** Makes whitespace in token strings visible: a leading space reads as "·", a newline as "⏎". */
export function showToken(t: string): string {
  return t.replace(/ /g, '·').replace(/\n/g, '⏎').replace(/\t/g, '⇥') || '∅';
}
