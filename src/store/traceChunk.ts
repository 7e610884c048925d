import { TRACE_FIELDS, type TraceEvent } from '../core/index.ts';

/**
 * Most events in one stored chunk. IndexedDB's cost is per record and per transaction, not per
 * byte, so a run is stored as few records as possible; the cap keeps a record (~50 kB at 1,000
 * sway events) under Chromium's 64 kB threshold beyond which a value is written as a separate blob
 * file, and keeps every string-table index below 2^16.
 */
export const CHUNK_EVENTS = 1000;

/** Index value for "no string": a null `probe`, or an event without extra keys. */
const NONE = 0xffff;

/**
 * A run of consecutive events of one run, stored column by column. Strings (probe, view, prompt
 * hash, op, and each event's extra keys as one JSON object text) go through a per-chunk string
 * table, so the repeated ones (views, ops, `{"batch_size": 16, "run_id": …}`) are stored once per
 * chunk; numbers sit in typed arrays, which structured clone copies as raw bytes.
 *
 * Keyed `[run, seq]` where `seq` is the run-wide index of the chunk's first event: the key order is
 * the event order, and a retried flush writes the same keys it would have written the first time.
 */
export interface StoredChunk {
  run: string;
  seq: number;
  count: number;
  ts: Float64Array;
  wallMs: Float64Array;
  /** Int32Array when every `top_k` fits, else Float64Array (still exact for any integer ≤ 2^53). */
  topK: Int32Array | Float64Array;
  hit: Uint8Array;
  strings: string[];
  probe: Uint16Array;
  viewId: Uint16Array;
  promptHash: Uint16Array;
  op: Uint16Array;
  /** Index of the event's extra keys as JSON object text, or NONE. */
  extras: Uint16Array;
}

const SWAY_KEYS: ReadonlySet<string> = new Set(TRACE_FIELDS);

/**
 * Packs up to CHUNK_EVENTS events. Extra keys keep their order and exactly what the JSONL export
 * would write for them (both go through JSON.stringify: undefined values vanish, NaN becomes null).
 */
export function encodeChunk(run: string, seq: number, events: readonly TraceEvent[]): StoredChunk {
  const n = events.length;
  if (n > CHUNK_EVENTS) throw new RangeError(`a chunk holds at most ${CHUNK_EVENTS} events, got ${n}`);
  const strings: string[] = [];
  const index = new Map<string, number>();
  const intern = (s: string): number => {
    let i = index.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      index.set(s, i);
    }
    return i;
  };
  const chunk: StoredChunk = {
    run,
    seq,
    count: n,
    ts: new Float64Array(n),
    wallMs: new Float64Array(n),
    topK: events.every((e) => (e.top_k | 0) === e.top_k) ? new Int32Array(n) : new Float64Array(n),
    hit: new Uint8Array(n),
    strings,
    probe: new Uint16Array(n),
    viewId: new Uint16Array(n),
    promptHash: new Uint16Array(n),
    op: new Uint16Array(n),
    extras: new Uint16Array(n),
  };
  for (let i = 0; i < n; i++) {
    const e = events[i]!;
    chunk.ts[i] = e.ts;
    chunk.wallMs[i] = e.wall_ms;
    chunk.topK[i] = e.top_k;
    chunk.hit[i] = e.hit ? 1 : 0;
    chunk.probe[i] = e.probe === null ? NONE : intern(e.probe);
    chunk.viewId[i] = intern(e.view_id);
    chunk.promptHash[i] = intern(e.prompt_hash);
    chunk.op[i] = intern(e.op);
    const extra = extrasJson(e);
    chunk.extras[i] = extra === null ? NONE : intern(extra);
  }
  return chunk;
}

/**
 * The event's non-sway keys as JSON object text, or null when it has none. A key whose value JSON
 * cannot write (a BigInt, a cycle) is left out rather than making the whole flush fail forever;
 * the JSONL export could not have written it either.
 */
function extrasJson(e: TraceEvent): string | null {
  let extra: Record<string, unknown> | null = null;
  for (const key of Object.keys(e)) {
    if (SWAY_KEYS.has(key)) continue;
    const value = (e as unknown as Record<string, unknown>)[key];
    if (value === undefined) continue;
    (extra ??= {})[key] = value;
  }
  if (extra === null) return null;
  try {
    return JSON.stringify(extra);
  } catch {
    const parts: string[] = [];
    for (const [key, value] of Object.entries(extra)) {
      try {
        // undefined for a function or symbol, which JSON.stringify leaves out of objects too.
        const text = JSON.stringify(value) as string | undefined;
        if (text !== undefined) parts.push(`${JSON.stringify(key)}:${text}`);
      } catch {
        // Dropped: see above.
      }
    }
    return parts.length === 0 ? null : `{${parts.join(',')}}`;
  }
}

/** Rebuilds the chunk's events: sway's eight keys in order, then the extra keys in stored order. */
export function decodeChunk(c: StoredChunk): TraceEvent[] {
  const out: TraceEvent[] = new Array<TraceEvent>(c.count);
  // Each distinct extras text is parsed once per chunk; events copy its (flat, scalar) values.
  const parsed = new Map<number, Record<string, unknown>>();
  for (let i = 0; i < c.count; i++) {
    const p = c.probe[i]!;
    const e: TraceEvent = {
      ts: c.ts[i]!,
      probe: p === NONE ? null : c.strings[p]!,
      view_id: c.strings[c.viewId[i]!]!,
      prompt_hash: c.strings[c.promptHash[i]!]!,
      top_k: c.topK[i]!,
      op: c.strings[c.op[i]!]!,
      wall_ms: c.wallMs[i]!,
      hit: c.hit[i] === 1,
    };
    const x = c.extras[i]!;
    if (x !== NONE) {
      let extra = parsed.get(x);
      if (extra === undefined) {
        extra = JSON.parse(c.strings[x]!) as Record<string, unknown>;
        parsed.set(x, extra);
      }
      Object.assign(e, extra);
    }
    out[i] = e;
  }
  return out;
}

/**
 * Splits one run's events, in `seq` order, into chunk records of at most CHUNK_EVENTS. Each chunk
 * is keyed by its first event's `seq`, so the keys stay ordered and unique even across a gap.
 */
export function chunksOf(run: string, items: readonly { seq: number; event: TraceEvent }[]): StoredChunk[] {
  const out: StoredChunk[] = [];
  for (let i = 0; i < items.length; i += CHUNK_EVENTS) {
    const slice = items.slice(i, i + CHUNK_EVENTS);
    out.push(
      encodeChunk(
        run,
        slice[0]!.seq,
        slice.map((s) => s.event),
      ),
    );
  }
  return out;
}
