import type { Summary } from './stats.ts';

/** A measured figure against its baseline from the same run; `ratio` is value / baseline. */
export interface Compared {
  value: Summary;
  baseline: Summary;
  ratio: Summary;
}

export interface CacheResults {
  /** Operations per second over a warm cache, per capacity and operation. */
  throughput: {
    capacity: number;
    op: 'get' | 'put' | 'mixed';
    keys: number;
    /** ops/s: ForwardCache (value) against lru-cache (baseline). */
    opsPerS: Compared;
  }[];
  /** µs per `cached()` hit (value) against promptHash + lru-cache get (baseline). */
  hitPathUs: Compared & { promptHashUs: Summary };
}

export interface SuiteResults {
  device: string;
  probes: number;
  promptsPerProbe: number;
  lookups: number;
  distinctKeys: number;
  forwardPasses: { deltascope: number; naive: number };
  batches: number;
  /** ms: deltascope (value) against the naive loop (baseline); ratio < 1 is faster. */
  wallMs: Compared;
  /** naive / deltascope: how many times faster deltascope is. */
  speedup: Summary;
  /** Largest |Δ| between the two paths' per-probe mean JS (a sanity check, not a figure). */
  maxMeanDiff: number;
  note: string;
}

export interface BatchScalingResults {
  device: string;
  prompts: number;
  points: { batch: number; promptsPerS: Summary; vsBatch1: Summary }[];
  flattensAt: number | null;
  note: string;
}

export interface PersistenceResults {
  device: string;
  /** events/s: write-behind sink (value) against one transaction per event (baseline). */
  ingestEventsPerS: Compared;
  ingestEvents: { writeBehind: number; perEvent: number };
  /** Suite wall ms with the IndexedDB writer on (value) against tracing off (baseline). */
  tracingWallMs: Compared;
  /** (on − off) / off in %, from paired repeats. */
  tracingOverheadPct: Summary;
  /** Time to commit what the suite left buffered, after the suite returned. */
  tracingFinalFlushMs: Summary;
  note: string;
}

export interface ExportResults {
  device: string;
  events: number;
  bytes: number;
  /** ms to a JSONL Blob + download click (value) against encoding the same events in memory (baseline). */
  timeMs: Compared;
  /** Peak JS-heap growth during the export, MB (Blob bytes live outside the JS heap). */
  peakHeapMb: Summary;
  downloadedBytes: number | null;
  note: string;
}

export interface UiResults {
  device: string;
  prompts: number;
  /** Long tasks per run of the app's "Run 200-prompt batch" (value) against the idle page over the same time (baseline). */
  longTaskCount: Compared;
  longestMs: Summary;
  /** Every long task seen, ms, all runs together. */
  all: number[];
  note: string;
}

export interface Absent {
  what: string;
  reason: string;
}

export interface BenchError {
  part: string;
  message: string;
}

export interface Environment {
  date: string;
  quick: boolean;
  gitCommit: string;
  node: string;
  os: string;
  cpus: string;
  chromium: string | null;
  totalS: number;
  /** Set when `--only` re-ran some parts and kept the others from the recorded run. */
  partial?: string;
}

export interface BenchResults {
  env: Environment;
  cache: CacheResults | null;
  suite: SuiteResults[];
  batchScaling: BatchScalingResults[];
  persistence: PersistenceResults | null;
  export: ExportResults | null;
  ui: UiResults | null;
  absent: Absent[];
  errors: BenchError[];
}

export function compared(value: Summary, baseline: Summary, ratio: Summary): Compared {
  return { value, baseline, ratio };
}
