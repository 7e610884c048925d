import { quantileSorted, seededRng } from './statistics.ts';
import { NON_LOOKUP_OPS, type TraceEvent, type TraceSink } from './traceEvent.ts';

/** Latency samples kept per op: exact percentiles up to this many, a uniform reservoir beyond. */
export const DEFAULT_RESERVOIR_SIZE = 4096;
/** Seed of the reservoirs' PRNG (mixed with the op's name), so a run replays to the same metrics. */
export const DEFAULT_RESERVOIR_SEED = 0x6d657472;
/** The confidence at which `rank_error` is stated. */
export const RANK_ERROR_CONFIDENCE = 0.99;

/**
 * What one latency sample is: the wall time of one forward batch. The instrumentation splits a
 * batch's wall evenly over its n miss events (each carrying `batch_size` n), so the first of them
 * opens a sample of `wall_ms × n` and the other n − 1 belong to it; a miss without `batch_size`
 * (a single lookup, a warm-up, a sway trace) is a sample of its own `wall_ms`. Cache hits are not
 * latency samples. The same definition as the live Latency chart (LiveMetrics).
 */
export const LATENCY_SAMPLE_DEFINITION =
  'one forward batch: wall_ms × batch_size of the first miss event of the batch (a miss without batch_size: its wall_ms); hits are not samples';

/**
 * Events of NON_LOOKUP_OPS are not lookups (the live charts' rule): a `warmup` forward (shader
 * compilation at load) still gets its own latency row but counts in no rate; a `breaker` state change
 * (the GPU circuit breaker) is no work at all and is skipped.
 */
const IGNORED_OPS: ReadonlySet<string> = new Set(['breaker']);

const QUANTILE_METHOD =
  'linear interpolation between closest ranks (numpy default), the app-wide quantileSorted';

export interface RankError {
  p50: number;
  p95: number;
  p99: number;
}

/** Per op: forward-batch latency in milliseconds. Every number is finite or null. */
export interface OpLatencyMetrics {
  op: string;
  /** Latency samples (forward batches) seen. */
  samples: number;
  /** Samples held in memory for the percentiles (≤ the reservoir size). */
  retained: number;
  /** True while every sample is held: p50/p95/p99 are then exact. */
  exact: boolean;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  /** Always exact (running). */
  min_ms: number | null;
  max_ms: number | null;
  mean_ms: number | null;
  /**
   * Beyond the reservoir: with probability ≥ 99 % the reported pXX is a value whose rank among all
   * samples, as a fraction, is within ±rank_error.pXX of XX/100 (0 when exact).
   */
  rank_error: RankError;
}

/** What the browser (or Node) told about memory, and where from. */
export interface MemoryNotes {
  /** Milliseconds the pair took to load (download, session creation, warm-up). */
  loadMs?: number | null;
  /** Current JS heap in bytes (kept as a peak). */
  heapBytes?: number | null;
  heapSource?: string | null;
  /** GPU buffer bytes alive (kept as a peak). */
  gpuBytes?: number | null;
  gpuSource?: string | null;
}

/** A run's metrics as stored, exported and reported (snake_case, JSON-safe: no NaN or Infinity). */
export interface RunMetrics {
  schema: 'deltascope.run_metrics';
  version: 1;
  latency_sample: string;
  quantile: {
    method: string;
    /** Exact up to this many samples per op; beyond, a seeded uniform reservoir of this size. */
    reservoir_size: number;
    seed: number;
    rank_error_confidence: number;
  };
  /** Scoring lookups (one prompt, one view, one op; warm-ups excluded), hits and misses. */
  lookups: number;
  hits: number;
  misses: number;
  /** hits / lookups; null with no lookup. */
  hit_rate: number | null;
  forward_batches: number;
  /** Largest forward batch (a miss without batch_size counts 1); null with no miss. */
  peak_batch: number | null;
  /** Seconds during which at least one lookup was in progress (the union of their intervals). */
  busy_s: number;
  /** From the start of the first lookup to the end of the last, idle time included. */
  span_s: number;
  /** lookups / busy_s; null when busy_s is 0. */
  prompts_per_s: number | null;
  /** Tokens of the forward passes that reported them (the `tokens` key of miss events). */
  tokens: number;
  /** Miss events that carried `tokens` (tokens_per_s covers only those). */
  token_misses: number;
  /** tokens / forward seconds of the batches that carried them; null when none did or that time is 0. */
  tokens_per_s: number | null;
  load_ms: number | null;
  heap_peak_bytes: number | null;
  heap_source: string | null;
  gpu_peak_bytes: number | null;
  gpu_source: string | null;
  ops: OpLatencyMetrics[];
}

export interface RunMetricsOptions {
  reservoirSize?: number;
  seed?: number;
}

const fin = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** FNV-1a of a string: the op's share of its reservoir's seed. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The rank error of a q-quantile read from a uniform sample of k out of n values without
 * replacement, at confidence 1 − δ: Bernstein's inequality (which sampling without replacement
 * satisfies too, Serfling / Bardenet–Maillard) on the fraction of the sample below the true
 * q ± ε quantile, ε = √(2q(1−q)·ln(2/δ)/k) + 2·ln(2/δ)/(3k). 0 when every value is kept.
 */
export function reservoirRankError(
  q: number,
  k: number,
  n: number,
  delta = 1 - RANK_ERROR_CONFIDENCE,
): number {
  if (n <= k || k <= 0) return 0;
  const l = Math.log(2 / delta);
  return Math.sqrt((2 * q * (1 - q) * l) / k) + (2 * l) / (3 * k);
}

/**
 * A fixed-memory sample of a stream: every value until `capacity`, then Vitter's algorithm R (the
 * i-th value replaces a random slot with probability capacity / i), driven by the seeded PRNG. O(1)
 * per value; memory never exceeds `capacity` numbers.
 */
export class Reservoir {
  private buf: Float64Array;
  private filled = 0;
  /** Values offered so far. */
  seen = 0;
  private readonly rand: () => number;
  private sortedCache: Float64Array | null = null;

  constructor(
    readonly capacity: number,
    seed: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`reservoir capacity ${capacity}`);
    this.buf = new Float64Array(Math.min(capacity, 64));
    this.rand = seededRng(seed);
  }

  add(v: number): void {
    const i = this.seen++;
    if (this.filled < this.capacity) {
      if (this.filled === this.buf.length) {
        const next = new Float64Array(Math.min(this.capacity, this.buf.length * 2));
        next.set(this.buf);
        this.buf = next;
      }
      this.buf[this.filled++] = v;
      this.sortedCache = null;
      return;
    }
    const j = Math.floor(this.rand() * (i + 1));
    if (j < this.capacity) {
      this.buf[j] = v;
      this.sortedCache = null;
    }
  }

  /** Values held (≤ capacity). */
  get retained(): number {
    return this.filled;
  }

  /** Numbers allocated for the sample (≤ capacity): what "bounded memory" bounds. */
  get allocated(): number {
    return this.buf.length;
  }

  /** The held values, ascending (cached until the next change). */
  sorted(): Float64Array {
    if (this.sortedCache === null) this.sortedCache = this.buf.slice(0, this.filled).sort();
    return this.sortedCache;
  }
}

interface OpState {
  reservoir: Reservoir;
  min: number;
  max: number;
  sum: number;
}

interface PendingBatch {
  op: string;
  viewId: string;
  size: number;
  remaining: number;
  /** The batch's wall in seconds (its interval for busy time). */
  wallS: number;
}

/**
 * The metrics of one run, folded from its trace events as they stream (`add`, O(1) amortised per
 * event) plus a few notes the session knows (load time, heap, GPU memory). `snapshot()` computes
 * the percentiles from the reservoirs (O(K log K) per op, cached while nothing changed) and returns
 * a JSON-safe record. Events are expected in the order they were recorded; for busy time, an
 * event that ends before the latest end seen adds only what lies past it.
 */
export class RunMetricsTracker implements TraceSink {
  private readonly capacity: number;
  private readonly seed: number;
  private readonly ops = new Map<string, OpState>();
  private lookups = 0;
  private hits = 0;
  private misses = 0;
  private batches = 0;
  private peakBatch = 0;
  private pending: PendingBatch | null = null;
  private busyS = 0;
  private busyEnd = -Infinity;
  private firstStart = Infinity;
  private lastEnd = -Infinity;
  private tokens = 0;
  private tokenMisses = 0;
  private tokenWallS = 0;
  private loadMs: number | null = null;
  private heapPeak: number | null = null;
  private heapSource: string | null = null;
  private gpuPeak: number | null = null;
  private gpuSource: string | null = null;

  constructor(opts: RunMetricsOptions = {}) {
    this.capacity = opts.reservoirSize ?? DEFAULT_RESERVOIR_SIZE;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) {
      throw new RangeError(`reservoirSize must be a positive integer, got ${String(opts.reservoirSize)}`);
    }
    this.seed = opts.seed ?? DEFAULT_RESERVOIR_SEED;
  }

  /** TraceSink: one event. */
  write(event: TraceEvent): void {
    this.add(event);
  }

  addAll(events: Iterable<TraceEvent>): this {
    for (const e of events) this.add(e);
    return this;
  }

  add(e: TraceEvent): void {
    if (IGNORED_OPS.has(e.op)) return;
    const wallMs = Number.isFinite(e.wall_ms) ? Math.max(0, e.wall_ms) : 0;
    const scoring = !NON_LOOKUP_OPS.has(e.op);
    if (scoring) {
      this.lookups++;
      if (e.hit) this.hits++;
      else this.misses++;
    }
    if (e.hit) {
      this.pending = null;
      if (scoring) this.busy(e.ts, wallMs / 1000);
      return;
    }
    const extra = e as TraceEvent & { batch_size?: unknown; tokens?: unknown };
    const declared = extra.batch_size;
    const size =
      typeof declared === 'number' && Number.isFinite(declared) && declared >= 1 ? Math.floor(declared) : 1;
    const tokens = extra.tokens;
    const p = this.pending;
    let batchWallS: number;
    if (p !== null && p.remaining > 0 && p.op === e.op && p.viewId === e.view_id && p.size === size) {
      p.remaining--;
      batchWallS = p.wallS;
      if (p.remaining === 0) this.pending = null;
    } else {
      batchWallS = (wallMs * size) / 1000;
      this.pending =
        size > 1 ? { op: e.op, viewId: e.view_id, size, remaining: size - 1, wallS: batchWallS } : null;
      this.sample(e.op, wallMs * size);
      if (scoring) {
        this.batches++;
        if (size > this.peakBatch) this.peakBatch = size;
      }
    }
    if (!scoring) return;
    this.busy(e.ts, batchWallS);
    if (typeof tokens === 'number' && Number.isFinite(tokens) && tokens >= 0) {
      this.tokens += tokens;
      this.tokenMisses++;
      // Each of a batch's n misses carries 1/n of its wall: the forward seconds of these tokens.
      this.tokenWallS += batchWallS / size;
    }
  }

  /** Folds one lookup's interval [end − wall, end] (epoch seconds) into busy time and span. */
  private busy(endS: number, wallS: number): void {
    if (!Number.isFinite(endS)) return;
    const start = endS - wallS;
    if (start < this.firstStart) this.firstStart = start;
    if (endS > this.lastEnd) this.lastEnd = endS;
    if (endS <= this.busyEnd) return;
    this.busyS += endS - Math.max(start, this.busyEnd);
    this.busyEnd = endS;
  }

  private sample(op: string, ms: number): void {
    let s = this.ops.get(op);
    if (s === undefined) {
      s = {
        reservoir: new Reservoir(this.capacity, (this.seed ^ hashString(op)) >>> 0),
        min: Infinity,
        max: -Infinity,
        sum: 0,
      };
      this.ops.set(op, s);
    }
    s.reservoir.add(ms);
    if (ms < s.min) s.min = ms;
    if (ms > s.max) s.max = ms;
    s.sum += ms;
  }

  /** Notes from outside the trace: load time (last one wins), heap and GPU bytes (peaks). */
  note(n: MemoryNotes): void {
    if (n.loadMs !== undefined && n.loadMs !== null && Number.isFinite(n.loadMs))
      this.loadMs = Math.max(0, n.loadMs);
    if (n.heapBytes !== undefined && n.heapBytes !== null && Number.isFinite(n.heapBytes)) {
      if (this.heapPeak === null || n.heapBytes > this.heapPeak) this.heapPeak = n.heapBytes;
      this.heapSource = n.heapSource ?? this.heapSource;
    }
    if (n.gpuBytes !== undefined && n.gpuBytes !== null && Number.isFinite(n.gpuBytes)) {
      if (this.gpuPeak === null || n.gpuBytes > this.gpuPeak) this.gpuPeak = n.gpuBytes;
      this.gpuSource = n.gpuSource ?? this.gpuSource;
    }
  }

  /** Numbers held by the reservoirs of every op (each ≤ the reservoir size). */
  retainedByOp(): Map<string, number> {
    return new Map([...this.ops].map(([op, s]) => [op, s.reservoir.allocated]));
  }

  snapshot(): RunMetrics {
    const ops: OpLatencyMetrics[] = [...this.ops.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([op, s]) => {
        const sorted = s.reservoir.sorted();
        const n = s.reservoir.seen;
        const k = s.reservoir.retained;
        const q = (p: number) => (sorted.length === 0 ? null : fin(quantileSorted(sorted, p)));
        return {
          op,
          samples: n,
          retained: k,
          exact: n <= k,
          p50_ms: q(0.5),
          p95_ms: q(0.95),
          p99_ms: q(0.99),
          min_ms: n === 0 ? null : fin(s.min),
          max_ms: n === 0 ? null : fin(s.max),
          mean_ms: n === 0 ? null : fin(s.sum / n),
          rank_error: {
            p50: reservoirRankError(0.5, k, n),
            p95: reservoirRankError(0.95, k, n),
            p99: reservoirRankError(0.99, k, n),
          },
        };
      });
    const span = this.lastEnd >= this.firstStart ? this.lastEnd - this.firstStart : 0;
    return {
      schema: 'deltascope.run_metrics',
      version: 1,
      latency_sample: LATENCY_SAMPLE_DEFINITION,
      quantile: {
        method: QUANTILE_METHOD,
        reservoir_size: this.capacity,
        seed: this.seed,
        rank_error_confidence: RANK_ERROR_CONFIDENCE,
      },
      lookups: this.lookups,
      hits: this.hits,
      misses: this.misses,
      hit_rate: this.lookups === 0 ? null : this.hits / this.lookups,
      forward_batches: this.batches,
      peak_batch: this.batches === 0 ? null : this.peakBatch,
      busy_s: fin(this.busyS) ?? 0,
      span_s: fin(span) ?? 0,
      prompts_per_s: this.busyS > 0 ? fin(this.lookups / this.busyS) : null,
      tokens: this.tokens,
      token_misses: this.tokenMisses,
      tokens_per_s: this.tokenMisses > 0 && this.tokenWallS > 0 ? fin(this.tokens / this.tokenWallS) : null,
      load_ms: this.loadMs,
      heap_peak_bytes: this.heapPeak,
      heap_source: this.heapSource,
      gpu_peak_bytes: this.gpuPeak,
      gpu_source: this.gpuSource,
      ops,
    };
  }
}

/** The metrics of a whole list of events (a stored or imported run, a JSONL file). */
export function runMetricsOf(events: Iterable<TraceEvent>, opts: RunMetricsOptions = {}): RunMetrics {
  return new RunMetricsTracker(opts).addAll(events).snapshot();
}

const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const numOr0 = (v: unknown): number => numOrNull(v) ?? 0;
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const rec = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/**
 * Reads metrics back from JSON (a report, a history export, a stored record): null when the value is
 * not run metrics; missing or mistyped fields become 0 / null, never NaN.
 */
export function runMetricsFromJson(value: unknown): RunMetrics | null {
  const r = rec(value);
  if (r.schema !== 'deltascope.run_metrics') return null;
  const q = rec(r.quantile);
  const ops = Array.isArray(r.ops) ? r.ops : [];
  return {
    schema: 'deltascope.run_metrics',
    version: 1,
    latency_sample: strOrNull(r.latency_sample) ?? LATENCY_SAMPLE_DEFINITION,
    quantile: {
      method: strOrNull(q.method) ?? QUANTILE_METHOD,
      reservoir_size: numOr0(q.reservoir_size),
      seed: numOr0(q.seed),
      rank_error_confidence: numOrNull(q.rank_error_confidence) ?? RANK_ERROR_CONFIDENCE,
    },
    lookups: numOr0(r.lookups),
    hits: numOr0(r.hits),
    misses: numOr0(r.misses),
    hit_rate: numOrNull(r.hit_rate),
    forward_batches: numOr0(r.forward_batches),
    peak_batch: numOrNull(r.peak_batch),
    busy_s: numOr0(r.busy_s),
    span_s: numOr0(r.span_s),
    prompts_per_s: numOrNull(r.prompts_per_s),
    tokens: numOr0(r.tokens),
    token_misses: numOr0(r.token_misses),
    tokens_per_s: numOrNull(r.tokens_per_s),
    load_ms: numOrNull(r.load_ms),
    heap_peak_bytes: numOrNull(r.heap_peak_bytes),
    heap_source: strOrNull(r.heap_source),
    gpu_peak_bytes: numOrNull(r.gpu_peak_bytes),
    gpu_source: strOrNull(r.gpu_source),
    ops: ops.map((v) => {
      const o = rec(v);
      const e = rec(o.rank_error);
      return {
        op: strOrNull(o.op) ?? '',
        samples: numOr0(o.samples),
        retained: numOr0(o.retained),
        exact: o.exact === true,
        p50_ms: numOrNull(o.p50_ms),
        p95_ms: numOrNull(o.p95_ms),
        p99_ms: numOrNull(o.p99_ms),
        min_ms: numOrNull(o.min_ms),
        max_ms: numOrNull(o.max_ms),
        mean_ms: numOrNull(o.mean_ms),
        rank_error: { p50: numOr0(e.p50), p95: numOr0(e.p95), p99: numOr0(e.p99) },
      };
    }),
  };
}

/**
 * The JS heap in bytes, where the runtime tells: Chromium's non-standard `performance.memory`
 * (pages and dedicated workers; coarse, bucketed unless the page is cross-origin isolated) or
 * Node's `process.memoryUsage().heapUsed`; null elsewhere (Firefox, Safari).
 */
export function readHeapBytes(): { bytes: number; source: string } | null {
  const g = globalThis as {
    performance?: { memory?: { usedJSHeapSize?: unknown } };
    process?: { memoryUsage?: () => { heapUsed?: unknown } };
  };
  const used = g.performance?.memory?.usedJSHeapSize;
  if (typeof used === 'number' && Number.isFinite(used)) return { bytes: used, source: 'performance.memory' };
  const heapUsed =
    typeof g.process?.memoryUsage === 'function' ? g.process.memoryUsage().heapUsed : undefined;
  if (typeof heapUsed === 'number' && Number.isFinite(heapUsed))
    return { bytes: heapUsed, source: 'process.memoryUsage' };
  return null;
}
