import { describeSkippedLines } from '../core/index.ts';
import type { ImportResult, RunRecord } from '../worker/workbenchApi.ts';
import { fmtMs } from './format.ts';

/** Wall time that stays readable when it adds up: "9.61 ms", "952 ms", "5.08 s", "116.00 s". */
export function fmtWall(ms: number): string {
  return Number.isFinite(ms) && ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : fmtMs(ms);
}

function fmtClock(ts: number): string {
  return new Date(ts * 1000).toLocaleTimeString(undefined, { hour12: false });
}

function fmtSpan(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${(seconds - m * 60).toFixed(0)} s`;
}

/** "14:02:07–14:05:31 (3 min 24 s)", with the date when it is not today. */
export function fmtRange(first: number | null, last: number | null, now = new Date()): string {
  if (first === null || last === null) return 'no events yet';
  const day = new Date(first * 1000);
  const today = now.toDateString() === day.toDateString();
  const prefix = today ? '' : `${day.toLocaleDateString()} `;
  return `${prefix}${fmtClock(first)}–${fmtClock(last)} (${fmtSpan(last - first)})`;
}

/** A download's file name without extension: `deltascope-<label>-<run id>`. */
export function fileBase(run: RunRecord): string {
  const label = run.label
    .replace(/\.jsonl$/i, '')
    .replace(/[^\w.-]+/g, '_')
    .slice(0, 60);
  return `deltascope-${label}-${run.id}`;
}

/** "Imported 1,234 events from run.jsonl; no lines skipped." */
export function importNotice(r: ImportResult): string {
  return `Imported ${r.imported.toLocaleString()} events from ${r.label}; ${describeSkippedLines(r)}.`;
}
