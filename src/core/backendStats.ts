/** The counters sway keeps per backend, under its exact on-disk names. */
export interface BackendStatsDict {
  cache_hits: number;
  cache_misses: number;
  forward_passes: number;
  scoring_wall_s: number;
  hit_rate: number;
  batches_sent: number;
  batched_prompts: number;
  max_batch_size: number;
  avg_batch_size: number;
}

export interface BackendStatsInit {
  cacheHits?: number;
  cacheMisses?: number;
  forwardPasses?: number;
  scoringWallS?: number;
  batchesSent?: number;
  batchedPrompts?: number;
  maxBatchSize?: number;
}

/** Cumulative counters for one backend. Fields are plain and writable, as in sway (tests reset them). */
export class BackendStats {
  cacheHits: number;
  cacheMisses: number;
  forwardPasses: number;
  scoringWallS: number;
  batchesSent: number;
  batchedPrompts: number;
  maxBatchSize: number;

  constructor(init: BackendStatsInit = {}) {
    this.cacheHits = init.cacheHits ?? 0;
    this.cacheMisses = init.cacheMisses ?? 0;
    this.forwardPasses = init.forwardPasses ?? 0;
    this.scoringWallS = init.scoringWallS ?? 0;
    this.batchesSent = init.batchesSent ?? 0;
    this.batchedPrompts = init.batchedPrompts ?? 0;
    this.maxBatchSize = init.maxBatchSize ?? 0;
  }

  get totalLookups(): number {
    return this.cacheHits + this.cacheMisses;
  }

  /** hits / lookups; 0 before any lookup rather than NaN. */
  get hitRate(): number {
    const total = this.totalLookups;
    return total === 0 ? 0 : this.cacheHits / total;
  }

  /** batched prompts / batches; 0 before any batch rather than NaN. */
  get avgBatchSize(): number {
    return this.batchesSent === 0 ? 0 : this.batchedPrompts / this.batchesSent;
  }

  /** sway's `to_dict()`: snake_case keys in sway's order. */
  toDict(): BackendStatsDict {
    return {
      cache_hits: this.cacheHits,
      cache_misses: this.cacheMisses,
      forward_passes: this.forwardPasses,
      scoring_wall_s: this.scoringWallS,
      hit_rate: this.hitRate,
      batches_sent: this.batchesSent,
      batched_prompts: this.batchedPrompts,
      max_batch_size: this.maxBatchSize,
      avg_batch_size: this.avgBatchSize,
    };
  }

  reset(): void {
    this.cacheHits = 0;
    this.cacheMisses = 0;
    this.forwardPasses = 0;
    this.scoringWallS = 0;
    this.batchesSent = 0;
    this.batchedPrompts = 0;
    this.maxBatchSize = 0;
  }
}

/** sway's stats keys in sway's order, derived from `toDict` so there is one source of truth. */
export const BACKEND_STATS_KEYS = Object.freeze(
  Object.keys(new BackendStats().toDict()) as (keyof BackendStatsDict)[],
);
