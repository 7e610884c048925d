import { TRACE_FIELDS, type TraceEvent } from './traceEvent.ts';

const FLOAT_FIELDS = new Set<string>(['ts', 'wall_ms']);

/**
 * A float the way Python's `json.dumps` writes it: integral values keep a `.0` (`1.0`, not `1`), so
 * a trace written here reads back in sway with the same types. Non-finite values become `null`
 * (valid JSON; Python would write the non-standard `NaN`).
 */
function pyFloat(x: number): string {
  if (!Number.isFinite(x)) return 'null';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  return JSON.stringify(x);
}

/**
 * One JSONL line (no newline) with Python's default separators (`", "`, `": "`), sway's eight keys
 * first in sway's order, then any extra keys the event carries.
 */
export function encodeTraceLine(event: TraceEvent): string {
  const record = event as unknown as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of TRACE_FIELDS) parts.push(`"${key}": ${encodeValue(key, record[key])}`);
  for (const key of Object.keys(record)) {
    if ((TRACE_FIELDS as readonly string[]).includes(key)) continue;
    const value = record[key];
    if (value === undefined) continue;
    parts.push(`${JSON.stringify(key)}: ${encodeValue(key, value)}`);
  }
  return `{${parts.join(', ')}}`;
}

function encodeValue(key: string, value: unknown): string {
  if (FLOAT_FIELDS.has(key) && typeof value === 'number') return pyFloat(value);
  if (value === undefined) return 'null';
  return JSON.stringify(value);
}

/** Encodes events as JSONL, one line each, every line ending in `\n`. */
export function encodeTraceJsonl(events: Iterable<TraceEvent>): string {
  let out = '';
  for (const event of events) out += encodeTraceLine(event) + '\n';
  return out;
}

/**
 * Validates one parsed JSON value as a trace event. sway's loader defaults missing fields
 * (`probe` null, `hit` false, `top_k` 0, `ts` 0); what cannot be defaulted (no `op` or `view_id`,
 * wrong types) makes the line invalid. Extra keys are kept.
 */
export function coerceTraceEvent(value: unknown): TraceEvent | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const r = value as Record<string, unknown>;
  if (typeof r.op !== 'string' || typeof r.view_id !== 'string') return null;
  const ts = r.ts ?? 0;
  const wall = r.wall_ms ?? 0;
  const topK = r.top_k ?? 0;
  const probe = r.probe ?? null;
  const hit = r.hit ?? false;
  const hash = r.prompt_hash ?? '';
  if (typeof ts !== 'number' || typeof wall !== 'number' || typeof topK !== 'number') return null;
  if (!Number.isInteger(topK)) return null;
  if (probe !== null && typeof probe !== 'string') return null;
  if (typeof hit !== 'boolean' || typeof hash !== 'string') return null;
  const event: Record<string, unknown> = {
    ts,
    probe,
    view_id: r.view_id,
    prompt_hash: hash,
    top_k: topK,
    op: r.op,
    wall_ms: wall,
    hit,
  };
  for (const key of Object.keys(r)) if (!(key in event)) event[key] = r[key];
  return event as unknown as TraceEvent;
}

/** One JSONL line as a trace event, or null when it is not JSON or not a valid event. */
export function parseTraceLine(line: string): TraceEvent | null {
  try {
    return coerceTraceEvent(JSON.parse(line));
  } catch {
    return null;
  }
}

export interface ParsedTrace {
  events: TraceEvent[];
  /** Non-blank lines that were not JSON or not a valid event. */
  skipped: number;
  /** 1-based line numbers of the first few skipped lines, for error messages. */
  skippedLines: number[];
}

const MAX_REPORTED_LINES = 20;

/** Parses JSONL text; skips blank lines silently and malformed ones with a count. */
export function parseTraceJsonl(text: string): ParsedTrace {
  const events: TraceEvent[] = [];
  const skippedLines: number[] = [];
  let skipped = 0;
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNo++;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line === '') continue;
    const event = parseTraceLine(line);
    if (event === null) {
      skipped++;
      if (skippedLines.length < MAX_REPORTED_LINES) skippedLines.push(lineNo);
    } else {
      events.push(event);
    }
  }
  return { events, skipped, skippedLines };
}
