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
 * Python's whitespace (`str.isspace`): JavaScript's `\s` without U+FEFF, plus U+001C–U+001F and
 * U+0085.
 */
const PY_WS =
  '\\t\\n\\v\\f\\r \\u001c-\\u001f\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP = new RegExp(`^[${PY_WS}]+|[${PY_WS}]+$`, 'gu');

/** Python's `s.strip()`. */
export const pyStrip = (s: string): string => s.replace(PY_STRIP, '');

const ND = /\p{Nd}/u;
/** Any Unicode decimal digit as its ASCII digit (Python's int() and float() read them all). */
function asciiDigits(s: string): string {
  return s.replace(/\p{Nd}/gu, (ch) => {
    const cp = ch.codePointAt(0)!;
    let zero = cp;
    while (zero > 0 && ND.test(String.fromCodePoint(zero - 1))) zero--;
    return String((cp - zero) % 10);
  });
}

const PY_INT = /^[+-]?\d(?:_?\d)*$/;
const PY_FLOAT = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;

/** Python's `int(v)` for a JSON value; null where it raises (TypeError / ValueError). */
function intOf(v: unknown): number | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) + 0 : null;
  if (typeof v !== 'string') return null;
  const t = asciiDigits(pyStrip(v));
  return PY_INT.test(t) ? Number(t.replace(/_/g, '')) + 0 : null;
}

/**
 * Python's `float(v)` for a JSON value; null where it raises. `nan` / `inf` spellings are refused: a
 * deltascope event's times are finite (a documented difference; sway would load them).
 */
function floatOf(v: unknown): number | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const t = asciiDigits(pyStrip(v));
  if (!PY_FLOAT.test(t)) return null;
  const x = Number(t.replace(/_/g, ''));
  return Number.isFinite(x) ? x : null;
}

/** Python's `bool(v)` for a JSON value. */
function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  return Object.keys(v).length > 0;
}

/** A text field: absent → "", a string as is; anything else is refused (sway would print it). */
const textField = (v: unknown): string | null => (v === undefined ? '' : typeof v === 'string' ? v : null);

/**
 * Validates one parsed JSON value as a trace event the way sway's trace loader does: a missing field
 * takes sway's default (`ts` 0, `probe` null, `view_id` / `prompt_hash` / `op` "", `top_k` 0, `wall_ms`
 * 0, `hit` false); `ts` / `wall_ms` go through Python's `float()` (numbers, booleans, numeric strings
 * such as "2.5", " 1e-3 ", "1_000.5"), `top_k` through `int()` (integers, truncated floats, booleans,
 * integer strings such as "256"), `hit` through `bool()` (`1` and `"no"` are true, `0`, `""`, `[]` and
 * null false). What sway refuses (an object that is not a JSON object, `top_k: "12.0"`, `wall_ms: "x"`
 * or null) is refused. Deliberately stricter: `probe` must be a string or null, `view_id` /
 * `prompt_hash` / `op` strings, and the times finite. Extra keys are kept.
 */
export function coerceTraceEvent(value: unknown): TraceEvent | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const r = value as Record<string, unknown>;
  const ts = r.ts === undefined ? 0 : floatOf(r.ts);
  const wall = r.wall_ms === undefined ? 0 : floatOf(r.wall_ms);
  const topK = r.top_k === undefined ? 0 : intOf(r.top_k);
  const probe = r.probe ?? null;
  const viewId = textField(r.view_id);
  const hash = textField(r.prompt_hash);
  const op = textField(r.op);
  if (ts === null || wall === null || topK === null) return null;
  if (probe !== null && typeof probe !== 'string') return null;
  if (viewId === null || hash === null || op === null) return null;
  const event: Record<string, unknown> = {
    ts,
    probe,
    view_id: viewId,
    prompt_hash: hash,
    top_k: topK,
    op,
    wall_ms: wall,
    hit: pyTruthy(r.hit),
  };
  for (const key of Object.keys(r)) if (!(key in event)) event[key] = r[key];
  return event as unknown as TraceEvent;
}

/** One JSONL line as a trace event, or null when it is not JSON or not a valid event. */
function parseTraceLine(line: string): TraceEvent | null {
  try {
    return coerceTraceEvent(JSON.parse(line));
  } catch {
    return null;
  }
}

/** How many skipped line numbers a report lists; the count of skipped lines is always exact. */
export const MAX_LISTED_SKIPPED_LINES = 20;

/**
 * The longest line read as an event (sway's are about 200 characters). A longer line is skipped as
 * malformed without being held in memory, so a file with no line breaks cannot fill it.
 */
export const MAX_TRACE_LINE_CHARS = 1024 * 1024;

/** What a trace reader skipped. */
export interface SkippedLines {
  /** Non-blank lines that were not JSON, not a valid event, or too long. */
  skipped: number;
  /** 1-based line numbers of the first `MAX_LISTED_SKIPPED_LINES` skipped lines. */
  skippedLines: number[];
}

export interface ParsedTrace extends SkippedLines {
  events: TraceEvent[];
}

/**
 * The one way a skipped-lines report reads, in the CLI, the import notice and import errors:
 * `no lines skipped`, `skipped 1 malformed line (line 4)`, `skipped 30 malformed lines (lines 3, 5, …)`.
 */
export function describeSkippedLines(s: SkippedLines): string {
  if (s.skipped === 0) return 'no lines skipped';
  const plural = s.skipped === 1 ? '' : 's';
  const more = s.skipped > s.skippedLines.length ? ', …' : '';
  return `skipped ${s.skipped} malformed line${plural} (line${plural} ${s.skippedLines.join(', ')}${more})`;
}

/**
 * Reads JSONL text pushed in chunks split anywhere (inside a line, between `\r` and `\n`), so a file
 * read piece by piece (a browser `File`'s stream, a Node read stream) never sits in memory whole.
 * `push` returns the events of the lines a chunk completes, `end` those of a last line without a
 * line break. Blank lines are ignored; malformed, invalid and over-long lines are counted and
 * their numbers kept (the first `MAX_LISTED_SKIPPED_LINES`).
 */
export class TraceJsonlReader implements SkippedLines {
  skipped = 0;
  readonly skippedLines: number[] = [];
  private lineNo = 0;
  /** The start of the line being read, when the last chunk ended inside it. */
  private carry = '';
  /** The line being read is over `MAX_TRACE_LINE_CHARS`: drop it up to its line break. */
  private overlong = false;

  push(chunk: string): TraceEvent[] {
    const out: TraceEvent[] = [];
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
      this.endLine(chunk.slice(start, nl), out);
      start = nl + 1;
    }
    if (!this.overlong) {
      this.carry += chunk.slice(start);
      if (this.carry.length > MAX_TRACE_LINE_CHARS) {
        this.overlong = true;
        this.carry = '';
      }
    }
    return out;
  }

  end(): TraceEvent[] {
    const out: TraceEvent[] = [];
    if (this.carry !== '' || this.overlong) this.endLine('', out);
    return out;
  }

  /** A snapshot of what was skipped so far. */
  report(): SkippedLines {
    return { skipped: this.skipped, skippedLines: [...this.skippedLines] };
  }

  private endLine(tail: string, out: TraceEvent[]): void {
    this.lineNo++;
    const raw = this.overlong ? null : this.carry + tail;
    this.carry = '';
    this.overlong = false;
    if (raw !== null && raw.length <= MAX_TRACE_LINE_CHARS) {
      const line = pyStrip(raw);
      if (line === '') return;
      const event = parseTraceLine(line);
      if (event !== null) {
        out.push(event);
        return;
      }
    }
    this.skipped++;
    if (this.skippedLines.length < MAX_LISTED_SKIPPED_LINES) this.skippedLines.push(this.lineNo);
  }
}

/** Parses JSONL text held whole (what `TraceJsonlReader` does for a stream). */
export function parseTraceJsonl(text: string): ParsedTrace {
  const reader = new TraceJsonlReader();
  const events = reader.push(text);
  for (const e of reader.end()) events.push(e);
  return { events, ...reader.report() };
}

/** A byte stream as the page (`File.stream()`) and Node (`fs.createReadStream`) hand it over. */
export type TraceByteSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

async function* bytesOf(source: TraceByteSource): AsyncGenerator<Uint8Array> {
  if ('getReader' in source) {
    // Read by hand: not every browser makes a ReadableStream async-iterable.
    const reader = source.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  } else {
    yield* source;
  }
}

/**
 * Streams a UTF-8 JSONL trace through `TraceJsonlReader`, handing `onEvents` the events of each chunk
 * read with what was skipped so far (awaited, so a consumer that writes them holds the stream back),
 * and returns what was skipped. A byte-order mark is dropped; a character split across chunks is
 * decoded whole.
 */
export async function readTraceJsonl(
  source: TraceByteSource,
  onEvents: (events: TraceEvent[], skippedSoFar: Readonly<SkippedLines>) => void | Promise<void>,
): Promise<SkippedLines> {
  const reader = new TraceJsonlReader();
  const decoder = new TextDecoder('utf-8');
  for await (const bytes of bytesOf(source)) {
    const events = reader.push(decoder.decode(bytes, { stream: true }));
    if (events.length > 0) await onEvents(events, reader);
  }
  const last = [...reader.push(decoder.decode()), ...reader.end()];
  if (last.length > 0) await onEvents(last, reader);
  return reader.report();
}
