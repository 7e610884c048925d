import { quantileSorted } from './statistics.ts';
import { NON_LOOKUP_OPS, type TraceEvent } from './traceEvent.ts';

/** A growable column of numbers with amortised O(1) append (what the charts read). */
export class Series {
  private buf: Float64Array;
  length = 0;
  constructor(capacity = 256) {
    this.buf = new Float64Array(capacity);
  }
  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }
  /** A view of the filled part (no copy). */
  view(): Float64Array {
    return this.buf.subarray(0, this.length);
  }
  last(): number {
    return this.length === 0 ? Number.NaN : this.buf[this.length - 1]!;
  }
}

export interface LatencySummary {
  op: string;
  count: number;
  p50: number;
  p95: number;
  p99: number;
}

const ROLLING_WINDOW = 50;
const LATENCY_WINDOW = 200;

/**
 * Folds trace events, as they stream in, into the series the live charts plot. Every method appends;
 * nothing is recomputed from scratch, so the cost per update is proportional to the new events only.
 *
 * - hit rate: one point per update (cumulative and over the last 50 lookups), against seconds since
 *   the first event;
 * - batch size: one point per forward batch (size, running average, running max);
 * - latency: per op, the wall time of each forward batch, p50/p95/p99 over the last 200 batches
 *   (`quantileSorted`, the same percentile the reports use).
 */
export class LiveMetrics {
  readonly hitT = new Series();
  readonly hitCumulative = new Series();
  readonly hitRolling = new Series();
  readonly batchIndex = new Series();
  readonly batchSize = new Series();
  readonly batchAvg = new Series();
  readonly batchMax = new Series();
  readonly latencyT = new Series();
  readonly latencyP50 = new Series();
  readonly latencyP95 = new Series();
  readonly latencyP99 = new Series();

  lookups = 0;
  hits = 0;
  misses = 0;
  batches = 0;
  private batchTotal = 0;
  private maxBatch = 0;
  private t0: number | null = null;
  private readonly recent: boolean[] = [];
  private recentHits = 0;
  private pendingBatchRemaining = 0;
  private readonly latencyByOp = new Map<string, number[]>();
  private readonly allLatencies: number[] = [];

  /** `rollingWindow`: lookups in the hit rate's rolling window (the workbench's chart setting). */
  constructor(readonly rollingWindow = ROLLING_WINDOW) {}

  /** Adds one update's events; returns true when any series grew. */
  add(events: readonly TraceEvent[]): boolean {
    let lastTs = Number.NaN;
    let changed = false;
    for (const e of events) {
      if (NON_LOOKUP_OPS.has(e.op)) continue;
      if (this.t0 === null) this.t0 = e.ts;
      lastTs = e.ts;
      this.lookups++;
      if (e.hit) this.hits++;
      else this.misses++;
      this.recent.push(e.hit);
      if (e.hit) this.recentHits++;
      if (this.recent.length > this.rollingWindow && this.recent.shift()) this.recentHits--;
      if (!e.hit) changed = this.addMiss(e) || changed;
    }
    if (!Number.isNaN(lastTs) && this.t0 !== null) {
      this.hitT.push(lastTs - this.t0);
      this.hitCumulative.push(this.hits / this.lookups);
      this.hitRolling.push(this.recentHits / this.recent.length);
      changed = true;
    }
    return changed;
  }

  /** A batch's misses arrive together, each with `batch_size` n and wall = batch wall / n. */
  private addMiss(e: TraceEvent): boolean {
    if (this.pendingBatchRemaining > 0) {
      this.pendingBatchRemaining--;
      return false;
    }
    const declared = (e as TraceEvent & { batch_size?: unknown }).batch_size;
    const size = typeof declared === 'number' && declared >= 1 ? declared : 1;
    this.pendingBatchRemaining = size - 1;
    this.batches++;
    this.batchTotal += size;
    this.maxBatch = Math.max(this.maxBatch, size);
    this.batchIndex.push(this.batches);
    this.batchSize.push(size);
    this.batchAvg.push(this.batchTotal / this.batches);
    this.batchMax.push(this.maxBatch);

    const batchWall = e.wall_ms * size;
    const list = this.latencyByOp.get(e.op) ?? [];
    list.push(batchWall);
    if (list.length > LATENCY_WINDOW) list.shift();
    this.latencyByOp.set(e.op, list);
    this.allLatencies.push(batchWall);
    if (this.allLatencies.length > LATENCY_WINDOW) this.allLatencies.shift();
    const sorted = [...this.allLatencies].sort((a, b) => a - b);
    this.latencyT.push(e.ts - (this.t0 ?? e.ts));
    this.latencyP50.push(quantileSorted(sorted, 0.5));
    this.latencyP95.push(quantileSorted(sorted, 0.95));
    this.latencyP99.push(quantileSorted(sorted, 0.99));
    return true;
  }

  latencyByOperation(): LatencySummary[] {
    return [...this.latencyByOp.entries()]
      .map(([op, list]) => {
        const sorted = [...list].sort((a, b) => a - b);
        return {
          op,
          count: list.length,
          p50: quantileSorted(sorted, 0.5),
          p95: quantileSorted(sorted, 0.95),
          p99: quantileSorted(sorted, 0.99),
        };
      })
      .sort((a, b) => a.op.localeCompare(b.op));
  }
}
