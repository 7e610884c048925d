import type { TraceEvent } from './traceEvent.ts';

/** sway's name for events that ran outside any probe (`probe` null or ""). */
export const UNASSIGNED_PROBE = '<unassigned>';

export interface GroupStats {
  name: string;
  events: number;
  totalMs: number;
  hits: number;
  misses: number;
  /** hits / events; 0 for an empty group. */
  hitRate: number;
}

export interface HotPrompt {
  promptHash: string;
  count: number;
  hits: number;
}

export interface BatchStats {
  /** Miss events that carried `batch_size` (one per prompt sent in a batch). */
  batchedPrompts: number;
  /** Batches reconstructed as Σ_b count(batch_size = b) / b. */
  batches: number;
  maxBatchSize: number;
  /** batchedPrompts / batches; 0 when no batch ran. */
  avgBatchSize: number;
  /** Batch size → number of batches of that size, ascending by size. */
  sizes: { size: number; batches: number }[];
}

export interface TraceAnalysis {
  events: number;
  totalMs: number;
  hits: number;
  misses: number;
  hitRate: number;
  /** Smallest and largest `ts` (epoch seconds); null for an empty trace. */
  firstTs: number | null;
  lastTs: number | null;
  /** lastTs - firstTs, seconds; 0 for an empty trace. */
  spanS: number;
  byProbe: GroupStats[];
  byView: GroupStats[];
  byOp: GroupStats[];
  slowest: TraceEvent[];
  hotPrompts: HotPrompt[];
  batch: BatchStats;
}

export interface AnalysisOptions {
  /** How many slowest events to keep (sway's default is 10). */
  slowest?: number;
  /** How many hot prompts to keep. */
  hotPrompts?: number;
}

interface Acc {
  events: number;
  totalMs: number;
  hits: number;
}

const newAcc = (): Acc => ({ events: 0, totalMs: 0, hits: 0 });

function addTo(map: Map<string, Acc>, key: string, e: TraceEvent): void {
  let a = map.get(key);
  if (a === undefined) {
    a = newAcc();
    map.set(key, a);
  }
  a.events += 1;
  a.totalMs += e.wall_ms;
  if (e.hit) a.hits += 1;
}

function groups(map: Map<string, Acc>): GroupStats[] {
  const out: GroupStats[] = [];
  for (const [name, a] of map) {
    out.push({
      name,
      events: a.events,
      totalMs: a.totalMs,
      hits: a.hits,
      misses: a.events - a.hits,
      hitRate: a.events === 0 ? 0 : a.hits / a.events,
    });
  }
  // sway sorts by total time, slowest first, with a stable sort: ties keep first-seen order.
  return out.sort((x, y) => y.totalMs - x.totalMs);
}

/**
 * Streaming trace analysis (contract §5): feed events one at a time with `add`, read the result
 * with `result()`. Memory is bounded by the number of distinct probes, views, ops and prompt
 * hashes plus `k` slowest events, so a run read page by page from storage never sits in memory whole.
 */
export class TraceAnalyzer {
  private events = 0;
  private totalMs = 0;
  private hits = 0;
  private firstTs = Infinity;
  private lastTs = -Infinity;
  private readonly probes = new Map<string, Acc>();
  private readonly views = new Map<string, Acc>();
  private readonly ops = new Map<string, Acc>();
  private readonly prompts = new Map<string, { count: number; hits: number }>();
  private readonly batchSizes = new Map<number, number>();
  /** Kept sorted by wall_ms descending; k is small, so insertion beats a heap in clarity. */
  private readonly slow: TraceEvent[] = [];
  private readonly k: number;
  private readonly hotK: number;

  constructor(opts: AnalysisOptions = {}) {
    this.k = Math.max(0, Math.floor(opts.slowest ?? 10));
    this.hotK = Math.max(0, Math.floor(opts.hotPrompts ?? 10));
  }

  add(e: TraceEvent): void {
    this.events += 1;
    this.totalMs += e.wall_ms;
    if (e.hit) this.hits += 1;
    if (e.ts < this.firstTs) this.firstTs = e.ts;
    if (e.ts > this.lastTs) this.lastTs = e.ts;
    addTo(this.probes, e.probe || UNASSIGNED_PROBE, e);
    addTo(this.views, e.view_id, e);
    addTo(this.ops, e.op, e);
    if (e.prompt_hash !== '') {
      const p = this.prompts.get(e.prompt_hash);
      if (p === undefined) this.prompts.set(e.prompt_hash, { count: 1, hits: e.hit ? 1 : 0 });
      else {
        p.count += 1;
        if (e.hit) p.hits += 1;
      }
    }
    const size = (e as unknown as Record<string, unknown>).batch_size;
    if (!e.hit && typeof size === 'number' && Number.isInteger(size) && size > 0) {
      this.batchSizes.set(size, (this.batchSizes.get(size) ?? 0) + 1);
    }
    this.keepIfSlow(e);
  }

  addAll(events: Iterable<TraceEvent>): this {
    for (const e of events) this.add(e);
    return this;
  }

  private keepIfSlow(e: TraceEvent): void {
    if (this.k === 0) return;
    const slow = this.slow;
    if (slow.length === this.k && e.wall_ms <= slow[slow.length - 1]!.wall_ms) return;
    let i = slow.length;
    while (i > 0 && slow[i - 1]!.wall_ms < e.wall_ms) i--;
    slow.splice(i, 0, e);
    if (slow.length > this.k) slow.pop();
  }

  result(): TraceAnalysis {
    const hot = [...this.prompts]
      .filter(([, p]) => p.count > 1)
      .map(([promptHash, p]) => ({ promptHash, count: p.count, hits: p.hits }))
      .sort((a, b) => b.count - a.count || (a.promptHash < b.promptHash ? -1 : 1))
      .slice(0, this.hotK);
    const empty = this.events === 0;
    return {
      events: this.events,
      totalMs: this.totalMs,
      hits: this.hits,
      misses: this.events - this.hits,
      hitRate: empty ? 0 : this.hits / this.events,
      firstTs: empty ? null : this.firstTs,
      lastTs: empty ? null : this.lastTs,
      spanS: empty ? 0 : this.lastTs - this.firstTs,
      byProbe: groups(this.probes),
      byView: groups(this.views),
      byOp: groups(this.ops),
      slowest: this.slow.slice(),
      hotPrompts: hot,
      batch: this.batchStats(),
    };
  }

  private batchStats(): BatchStats {
    let batchedPrompts = 0;
    let batches = 0;
    let maxBatchSize = 0;
    const sizes: { size: number; batches: number }[] = [];
    for (const [size, count] of [...this.batchSizes].sort((a, b) => a[0] - b[0])) {
      // Every prompt of a batch of b carries batch_size b, so b events make one batch. A trace cut
      // mid-batch leaves a fraction; round up so a partial batch still counts as one.
      const n = Math.ceil(count / size);
      batchedPrompts += count;
      batches += n;
      maxBatchSize = Math.max(maxBatchSize, size);
      sizes.push({ size, batches: n });
    }
    return {
      batchedPrompts,
      batches,
      maxBatchSize,
      avgBatchSize: batches === 0 ? 0 : batchedPrompts / batches,
      sizes,
    };
  }
}

/** Analyses a whole trace in memory. */
export function analyzeTrace(events: Iterable<TraceEvent>, opts: AnalysisOptions = {}): TraceAnalysis {
  return new TraceAnalyzer(opts).addAll(events).result();
}
