import type { BackendInfo, DevicePreference, ModelLocation, ModelSource } from '../backend/index.ts';
import type { DownloadRetry } from '../backend/download.ts';
import type {
  BackendStatsDict,
  ExactDivergence,
  RollingLogprob,
  TraceAnalysis,
  TraceEvent,
} from '../core/index.ts';
import type { ProbeResult } from '../probes/types.ts';
import type { SuiteProgress } from '../suite/runner.ts';
import type { HygieneCounts } from '../suite/promptHygiene.ts';
import type { SpecIssue } from '../suite/spec.ts';
import type { SuiteResult } from '../suite/types.ts';
import type { RunRecord } from '../store/traceDb.ts';
import type { ImportResult } from '../store/traceImport.ts';
import type { StorageUsage, TraceStatus } from './traceService.ts';
import type { RunMetricsResult } from './traceService.ts';

export type { RunMetricsResult };

export type { ImportResult, ModelLocation, ModelSource, RunRecord, StorageUsage, TraceAnalysis, TraceStatus };

/** Stops a subscription (a Comlink proxy when it comes from the worker). */
export type Unsubscribe = () => void;

export interface LoadRequest {
  /** What to open (`openPair`'s union); only the cloneable kinds cross the worker boundary. */
  source: ModelSource;
  device: DevicePreference;
  dtype: string;
  maxBatchSize?: number;
  /** The GPU circuit breaker's settings (the worker's first load makes its breaker). */
  breaker?: BreakerOptions;
}

/** How the GPU path's circuit breaker behaves (defaults: on, 3 failures, 60 s). */
export interface BreakerOptions {
  /** false: no breaker; a lost device stops the work and the page offers Restart. */
  enabled?: boolean;
  failureThreshold?: number;
  recoveryTimeoutMs?: number;
  /** This worker's first load is the half-open trial of WebGPU after a fallback (the breaker starts half-open). */
  trial?: boolean;
}

/** The breaker's state and what the session did about it, as the page shows it. */
export interface BreakerStatus {
  state: 'closed' | 'open' | 'half-open';
  /** The state it changed from; null for a status that reports no change (a fallback's progress). */
  from: 'closed' | 'open' | 'half-open' | null;
  /** Why it changed: a failure kind, `recovery timeout` or `success`. */
  reason: string | null;
  /** The last GPU failure, in words (`device lost`, `out of memory`, `pipeline failure`), and its message. */
  failure: string | null;
  failureMessage: string | null;
  recoveryS: number;
  /** When an open breaker turns half-open (epoch ms). */
  retryAt: number | null;
  /** The device the pair runs on now (null while none is loaded). */
  device: BackendInfo['device'] | null;
  /** The pair as loaded now (after a fallback: on WASM). */
  info: PairInfo | null;
  /** The pair is being loaded again on WASM. */
  fallingBack: boolean;
  /** Half-open and idle: the page should restart the worker on WebGPU now (the trial). */
  trial: boolean;
}

/**
 * Which views beyond base and ft the loaded pair serves: `scaled_<λ>` (the adapter's delta times λ)
 * and `null_<seed>` (seeded null adapters). Both need runtime LoRA (a base model plus an adapter); a
 * pair of two full models has neither.
 */
export interface PairViews {
  scalable: boolean;
  nullCalibrated: boolean;
}

/** What `load` and `info` report: the backend's description plus the views the pair serves. */
export interface PairInfo extends BackendInfo {
  views: PairViews;
}

export interface LoadProgressMessage {
  phase: 'waiting for the cancelled load to stop' | 'validating' | 'downloading' | 'warming up' | 'ready';
  view?: 'base' | 'ft';
  file?: string;
  /** Bytes so far and in total, across every file seen so far. */
  loaded: number;
  total: number;
  /** Set while a download waits to retry `file` (what failed, when it retries, which attempt). */
  retry?: DownloadRetry;
}

export interface TokenRow {
  id: number;
  token: string;
  logprob: number;
}

export interface CompareResult {
  prompt: string;
  /** The view compared against base (`ft`, `scaled_<λ>`, `null_<seed>`); its rows are in `ft`. */
  view: string;
  /** How many rows each side draws (the panel's top-k). */
  topK: number;
  base: TokenRow[];
  ft: TokenRow[];
  /**
   * Exact divergences over the full vocabulary (nats): JS, KL(ft‖base), KL(base‖ft) and each side's
   * entropy. Top-k decides only which rows are drawn, never these numbers.
   */
  divergence: ExactDivergence;
  /** Probability mass the drawn rows cover, per side. */
  baseMass: number;
  ftMass: number;
}

export interface ContinuationResult {
  /** The view set against base (`ft`, `scaled_<λ>`, `null_<seed>`); its numbers are in `ft`. */
  view: string;
  base: number;
  ft: number;
  delta: number;
  numTokens: number;
}

export interface HeatmapResult {
  /** The view set against base; its log-probs are in `ft`. */
  view: string;
  tokens: string[];
  base: RollingLogprob;
  ft: RollingLogprob;
}

export interface GenerateResult {
  /** The view that generated `ft` (`ft`, `scaled_<λ>`, `null_<seed>`). */
  view: string;
  /** The prompt the continuations were generated from (the input may have changed since). */
  prompt: string;
  base: string;
  ft: string;
}

/** Stats plus the trace events since the last update; delivered at most ~10 times a second. */
export interface FeedUpdate {
  events: TraceEvent[];
  stats: BackendStatsDict;
}

export interface BatchRunResult {
  /** Prompts scored on both views (fewer than asked when the batch was cancelled). */
  prompts: number;
  wallMs: number;
  cancelled: boolean;
  /** Why it stopped early: the user's cancel (or a new load), or a lost WebGPU device. */
  stoppedBy?: 'cancel' | 'device lost';
  /** What prompt hygiene did to the prompts before they ran (repeats are counted and kept). */
  hygiene: HygieneCounts;
}

export interface BatchProgress {
  done: number;
  total: number;
}

export interface SuiteValidation {
  ok: boolean;
  issues: SpecIssue[];
  probes: { name: string; kind: string; enabled: boolean }[];
}

export type SuiteEvent =
  ({ type: 'progress' } & SuiteProgress) | { type: 'result'; index: number; result: ProbeResult };

export type ReportFormat = 'json' | 'markdown' | 'junit';

/** The worker's whole surface, as the UI sees it (through Comlink). */
export interface WorkbenchApi {
  validateSuite(yamlText: string): Promise<SuiteValidation>;
  /** Runs a suite on the loaded pair; its trace goes to a new run in Traces. */
  runSuite(yamlText: string, onEvent: (e: SuiteEvent) => void): Promise<SuiteResult>;
  cancelSuite(): Promise<void>;
  suiteReport(format: ReportFormat): Promise<string>;
  init(appBaseUrl: string): Promise<void>;
  /** Loads a pair (disposing the current one first); rejects with a `CancelledError` after `cancelLoad`. */
  load(req: LoadRequest, onProgress: (p: LoadProgressMessage) => void): Promise<PairInfo>;
  cancelLoad(): Promise<void>;
  info(): Promise<PairInfo | null>;
  /**
   * Base against `view` (default `ft`; `scaled_<λ>` or `null_<seed>` on a base + adapter pair, which
   * a pair of two full models refuses with the reason).
   */
  compare(prompt: string, topK: number, view?: string): Promise<CompareResult>;
  /** `view`: what base is set against (`ft` by default; `scaled_<λ>`, `null_<seed>` on base + adapter). */
  scoreContinuation(prompt: string, completion: string, view?: string): Promise<ContinuationResult>;
  heatmap(text: string, view?: string): Promise<HeatmapResult>;
  generate(prompt: string, maxNewTokens: number, view?: string): Promise<GenerateResult>;
  /**
   * Next-token distributions for many prompts on both views (probe-suite style load). Runs in chunks, reporting progress after each; `cancelBatch` stops it after the chunk in flight,
   * and the result says how many prompts were scored (every traced event of those is kept).
   */
  runBatch(prompts: string[], topK: number, onProgress?: (p: BatchProgress) => void): Promise<BatchRunResult>;
  cancelBatch(): Promise<void>;
  /** Live stats and trace events, at once and then batched; returns the unsubscribe. */
  subscribe(listener: (update: FeedUpdate) => void): Promise<Unsubscribe>;
  /**
   * Calls `listener` with the message once the WebGPU device is lost (at once if it already was):
   * the worker then refuses all model work and must be restarted. Returns the unsubscribe.
   */
  watchDevice(listener: (message: string) => void): Promise<Unsubscribe>;
  stats(): Promise<BackendStatsDict>;

  // Persistent traces (IndexedDB). Each `load` starts a run; its events carry `run_id`.
  /** Every stored run, newest first (flushes buffered events first). */
  listRuns(): Promise<RunRecord[]>;
  runAnalysis(runId: string): Promise<TraceAnalysis>;
  /** The last finished suite's trace, analysed (for its HTML report); null where there is none. */
  suiteTraceAnalysis(): Promise<TraceAnalysis | null>;
  /** The run's events as sway JSONL, built from per-page chunks. */
  exportJsonl(runId: string): Promise<Blob>;
  /** The run as Chrome Trace Event JSON for ui.perfetto.dev / chrome://tracing. */
  exportPerfetto(runId: string): Promise<Blob>;
  importJsonl(file: File): Promise<ImportResult>;
  /** Returns how many events were removed. */
  deleteRun(runId: string): Promise<number>;
  storageUsed(): Promise<StorageUsage>;
  /** Commits buffered trace events now (the page calls it on pagehide / visibilitychange). */
  flushTraces(): Promise<void>;
  traceStatus(): Promise<TraceStatus>;

  // The GPU circuit breaker.
  /** The breaker's status at once (if it has one) and on every change; returns the unsubscribe. */
  watchBreaker(listener: (status: BreakerStatus) => void): Promise<Unsubscribe>;
  /** The last finished suite's result (the page carries it into a fresh worker). */
  lastSuiteResult(): Promise<SuiteResult | null>;
  /** Takes a result from a previous worker as the last finished suite (its reports can be downloaded). */
  adoptSuiteResult(result: SuiteResult): Promise<void>;

  // Run metrics (core/runMetrics.ts), kept with each run.
  /** The run's metrics: stored with its events (live runs) or computed from them (imports, older runs). */
  runMetrics(runId: string): Promise<RunMetricsResult>;
  /** Every run's metrics as one JSON file (`deltascope.metrics_history`). */
  exportMetricsHistory(): Promise<Blob>;
  /**
   * The page's measurement of this worker's JS heap (Chromium's workers cannot read their own; see
   * src/ui/heapSampler.ts): the runs' metrics keep its peak.
   */
  noteHeap(bytes: number, source: string): Promise<void>;
}
