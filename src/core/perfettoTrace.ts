import type { TraceEvent } from './traceEvent.ts';

/** One Chrome Trace Event (the subset we write). */
export interface ChromeTraceEvent {
  name: string;
  ph: 'X' | 'i' | 'C' | 'M';
  ts: number;
  pid: number;
  tid: number;
  dur?: number;
  s?: 't' | 'p' | 'g';
  cat?: string;
  args?: Record<string, unknown>;
}

export interface PerfettoOptions {
  /** Shown as the process name after "deltascope", e.g. the run label. */
  label?: string;
  /**
   * Miss events of one batch carry the same `batch_size` and `ts` values within this many
   * milliseconds of each other (they are emitted in one synchronous loop); default 5 ms.
   */
  batchToleranceMs?: number;
  /** At most one counter sample per track per this many microseconds (default 1000 = 1 ms). */
  counterIntervalUs?: number;
}

const PID = 1;
const COUNTER_TID = 0;

/** Microseconds with 3 decimals (nanosecond resolution) so the JSON stays compact. */
const us = (x: number): number => Math.round(x * 1000) / 1000;

interface PendingSlice {
  viewId: string;
  op: string;
  probe: string | null;
  batchSize: number | null;
  prompts: string[];
  /** End of the lookup, epoch µs (the instrumentation stamps `ts` at completion). */
  endUs: number;
  lastTs: number;
  durMs: number;
  /** Sum of the miss events' `tokens` extra key; null when none carried it. */
  tokens: number | null;
}

/** A miss event's `tokens` extra key, when it is a count. */
function tokensOf(e: TraceEvent): number | null {
  const t = (e as unknown as Record<string, unknown>).tokens;
  return typeof t === 'number' && Number.isFinite(t) ? t : null;
}

interface ThreadState {
  tid: number;
  lastStartUs: number;
  lastEndUs: number;
}

/**
 * Incremental TraceEvent → Chrome Trace Event JSON: `begin()`, then `push(events)` any number of
 * times, then `end()`; each returns a string chunk, and the chunks concatenated are
 * `{"traceEvents":[...],"displayTimeUnit":"ms"}`. Pages of events read from storage go straight
 * through without the whole run in memory.
 *
 * Mapping: process "deltascope"; one thread per `view_id`; an `X` slice per forward pass, where the
 * miss events of one `cachedBatch` physical batch are merged into a single slice with
 * `args {batch_size, prompts, op, probe}`; hits as thread-scoped instants; `C` counters for the
 * cumulative hit rate and, per view, the batch size (set at a batch's start, back to 0 at its end).
 */
export class PerfettoEncoder {
  private readonly threads = new Map<string, ThreadState>();
  private pending: PendingSlice | null = null;
  private first = true;
  private lookups = 0;
  private hits = 0;
  private lastHitCounterUs = -Infinity;
  private lastHitRate = -1;
  private lastEventUs = 0;
  private out: string[] = [];
  private readonly toleranceMs: number;
  private readonly counterIntervalUs: number;

  constructor(private readonly opts: PerfettoOptions = {}) {
    this.toleranceMs = opts.batchToleranceMs ?? 5;
    this.counterIntervalUs = opts.counterIntervalUs ?? 1000;
  }

  begin(): string {
    this.emit({
      name: 'process_name',
      ph: 'M',
      ts: 0,
      pid: PID,
      tid: COUNTER_TID,
      args: { name: this.opts.label ? `deltascope — ${this.opts.label}` : 'deltascope' },
    });
    return '{"traceEvents":[' + this.take();
  }

  push(events: Iterable<TraceEvent>): string {
    for (const e of events) this.add(e);
    return this.take();
  }

  /**
   * The last chunk. `metadata` (e.g. the run's metrics) goes in the file's top-level `metadata`
   * object, which the JSON trace format keeps beside `traceEvents` and viewers show as trace info;
   * non-finite numbers in it are written as null.
   */
  end(metadata?: Record<string, unknown>): string {
    this.closePending();
    // Throttling may have skipped the last change; the track must end on the final rate.
    if (this.lookups > 0) this.emitHitRate(this.lastEventUs);
    const meta = metadata !== undefined ? `,"metadata":${JSON.stringify(metadata)}` : '';
    return this.take() + `],"displayTimeUnit":"ms"${meta}}`;
  }

  private take(): string {
    const s = this.out.join('');
    this.out = [];
    return s;
  }

  private emit(ev: ChromeTraceEvent): void {
    this.out.push((this.first ? '' : ',') + JSON.stringify(ev));
    this.first = false;
  }

  private thread(viewId: string): ThreadState {
    let t = this.threads.get(viewId);
    if (t === undefined) {
      t = { tid: this.threads.size + 1, lastStartUs: -Infinity, lastEndUs: -Infinity };
      this.threads.set(viewId, t);
      this.emit({ name: 'thread_name', ph: 'M', ts: 0, pid: PID, tid: t.tid, args: { name: viewId } });
      this.emit({
        name: 'thread_sort_index',
        ph: 'M',
        ts: 0,
        pid: PID,
        tid: t.tid,
        args: { sort_index: t.tid },
      });
    }
    return t;
  }

  private add(e: TraceEvent): void {
    const endUs = e.ts * 1e6;
    this.lookups += 1;
    this.lastEventUs = Math.max(this.lastEventUs, endUs);
    if (e.hit) {
      this.hits += 1;
      this.closePending();
      const t = this.thread(e.view_id);
      this.emit({
        name: `hit ${e.op}`,
        cat: 'cache',
        ph: 'i',
        s: 't',
        ts: us(endUs),
        pid: PID,
        tid: t.tid,
        args: { op: e.op, probe: e.probe, prompt_hash: e.prompt_hash, wall_ms: e.wall_ms },
      });
      this.maybeHitRate(endUs);
      return;
    }
    const raw = (e as unknown as Record<string, unknown>).batch_size;
    const batchSize = typeof raw === 'number' && raw > 0 ? raw : null;
    const p = this.pending;
    if (
      p !== null &&
      batchSize !== null &&
      p.batchSize === batchSize &&
      p.prompts.length < batchSize &&
      p.viewId === e.view_id &&
      p.op === e.op &&
      p.probe === e.probe &&
      Math.abs(e.ts - p.lastTs) * 1000 <= this.toleranceMs
    ) {
      p.prompts.push(e.prompt_hash);
      p.durMs += e.wall_ms;
      const t = tokensOf(e);
      if (t !== null) p.tokens = (p.tokens ?? 0) + t;
      p.lastTs = e.ts;
      // The instrumentation splits one batch's wall time evenly over its misses.
      if (p.prompts.length === batchSize) this.closePending();
      return;
    }
    this.closePending();
    this.pending = {
      viewId: e.view_id,
      op: e.op,
      probe: e.probe,
      batchSize,
      prompts: [e.prompt_hash],
      endUs,
      lastTs: e.ts,
      durMs: e.wall_ms,
      tokens: tokensOf(e),
    };
    if (batchSize === null || batchSize === 1) this.closePending();
  }

  private closePending(): void {
    const p = this.pending;
    if (p === null) return;
    this.pending = null;
    const t = this.thread(p.viewId);
    const durUs = Math.max(0, p.durMs * 1000);
    let startUs = p.endUs - durUs;
    const args: Record<string, unknown> = {
      op: p.op,
      probe: p.probe,
      batch_size: p.batchSize ?? 1,
      prompts:
        p.prompts.length <= 16 ? p.prompts : [...p.prompts.slice(0, 16), `… ${p.prompts.length - 16} more`],
    };
    if (p.tokens !== null) args.tokens = p.tokens;
    // Slices on one track must nest. Lookups on one view can overlap (single-flight waits, two
    // callers), so a slice that starts inside the previous one but ends after it is moved to start
    // where the previous one ended; the args say by how much.
    if (startUs > t.lastStartUs && startUs < t.lastEndUs && p.endUs > t.lastEndUs) {
      args.clamped_us = us(t.lastEndUs - startUs);
      startUs = t.lastEndUs;
    }
    const dur = Math.max(0, p.endUs - startUs);
    t.lastStartUs = startUs;
    t.lastEndUs = Math.max(t.lastEndUs, p.endUs);
    const name = p.batchSize !== null && p.batchSize > 1 ? `${p.op} ×${p.prompts.length}` : p.op;
    this.emit({ name, cat: 'forward', ph: 'X', ts: us(startUs), dur: us(dur), pid: PID, tid: t.tid, args });
    if (p.batchSize !== null) {
      this.emit({
        name: `batch size ${p.viewId}`,
        ph: 'C',
        ts: us(startUs),
        pid: PID,
        tid: COUNTER_TID,
        args: { prompts: p.prompts.length },
      });
      this.emit({
        name: `batch size ${p.viewId}`,
        ph: 'C',
        ts: us(startUs + dur),
        pid: PID,
        tid: COUNTER_TID,
        args: { prompts: 0 },
      });
    }
    this.maybeHitRate(p.endUs);
  }

  private maybeHitRate(atUs: number): void {
    if (atUs - this.lastHitCounterUs < this.counterIntervalUs) return;
    this.emitHitRate(atUs);
  }

  private emitHitRate(atUs: number): void {
    const rate = this.lookups === 0 ? 0 : this.hits / this.lookups;
    if (rate === this.lastHitRate) return;
    this.lastHitRate = rate;
    this.lastHitCounterUs = atUs;
    this.emit({
      name: 'cache hit rate',
      ph: 'C',
      ts: us(atUs),
      pid: PID,
      tid: COUNTER_TID,
      args: { hit_rate: Math.round(rate * 1e4) / 1e4 },
    });
  }
}

/**
 * The whole Chrome Trace Event JSON as string chunks: join them (or hand them to a Blob) to get
 * the file. Opens in ui.perfetto.dev and chrome://tracing.
 */
export function* perfettoTraceChunks(
  events: Iterable<TraceEvent>,
  opts: PerfettoOptions = {},
  chunkEvents = 5000,
): Generator<string, void, undefined> {
  const enc = new PerfettoEncoder(opts);
  yield enc.begin();
  let page: TraceEvent[] = [];
  for (const e of events) {
    page.push(e);
    if (page.length >= chunkEvents) {
      yield enc.push(page);
      page = [];
    }
  }
  if (page.length > 0) yield enc.push(page);
  yield enc.end();
}
