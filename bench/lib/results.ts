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
  /** Per part, the commit and date its figures were measured at (kept across `--only` re-runs). */
  partsFrom?: Record<string, string>;
}

/**
 * One device's figures for the 135M-class pair (issue 11): everything measured side by side in one
 * run of `scaleBench`, so each ratio compares against a baseline from the same process and load.
 */
export interface ScaleDeviceResults {
  /** The `npm run bench` part that measured it (scale-node, scale-wasm, …), for partial re-runs. */
  part?: string;
  /** e.g. 'Node · onnxruntime-node (CPU)' or 'Node · WebGPU via Dawn on SwiftShader (CPU-emulated GPU)'. */
  device: string;
  /** What the backend reported as its device detail (adapter name on WebGPU). */
  deviceDetail: string;
  quick: boolean;
  model: ScaleModelInfo;
  /** `openPair` of both views, warm-up pass off (so the first pass is measured on its own), ms. */
  loadMs: number;
  /** The first forward of each view after load (WebGPU: shader compilation), ms, base then ft. */
  firstPassMs: number[];
  /** The same forward again, warm, ms. */
  warmPassMs: Summary;
  suite: SuiteResults;
  overhead: ScaleOverhead;
  scaling: ScaleScaling;
  memory: ScaleMemory;
  /**
   * The same suite runs in CPU time (process user + system, ORT's threads included) where the
   * platform reports it: far less sensitive than wall time to other work on a shared machine.
   */
  cpu?: ScaleCpu | null;
  /** What this device's run could not measure, or measured with a caveat. */
  notes: string[];
}

export interface ScaleCpu {
  /** CPU ms of the deltascope suite (value) against the naive loop's (baseline), same paired runs. */
  suiteCpuMs: Compared;
  /** naive CPU ms / deltascope CPU ms, per pair. */
  speedup: Summary;
  /** Batch scaling in prompts per CPU-second, per batch size (same passes as the wall-time curve). */
  scalingPromptsPerCpuS: { batch: number; promptsPerCpuS: Summary }[];
  note: string;
}

export interface ScaleModelInfo {
  /** Folder name, e.g. 'smollm2-135m-shape'. */
  name: string;
  dtype: 'fp32' | 'q4';
  /** Bytes of the ONNX file(s) of one view. */
  onnxBytes: number;
  vocabSize: number;
  layers: number;
  hidden: number;
  heads: string;
  /** True when base and ft are the same folder (fine for speed; divergences are then 0). */
  sameFolderForBoth: boolean;
}

/** Suite wall time against the time ORT itself spent in `session.run` during it. */
export interface ScaleOverhead {
  /** ms of the deltascope suite run (value) against ms inside ORT's session.run (baseline). */
  wallVsOrt: Compared;
  /** (wall − ORT) / wall, %: deltascope's own work (tokenize, pad, copy, top-k, softmax, cache, trace). */
  ownPct: Summary;
  /** session.run calls per suite run (the physical batches, sliced runs counted one by one). */
  sessionRuns: number;
  /** The naive loop's own work in %, measured the same way, for comparison. */
  naiveOwnPct: Summary;
  note: string;
}

export interface ScaleScaling {
  prompts: number;
  /** Tokens of those prompts (unpadded), as fed. */
  tokens: number;
  points: {
    batch: number;
    promptsPerS: Summary;
    tokensPerS: Summary;
    vsBatch1: Summary;
  }[];
  flattensAt: number | null;
  note: string;
}

export interface ScaleMemory {
  /** Node: process RSS before the pair was opened, after, and the process's peak (maxRSS), MB. */
  rssBeforeMb: number | null;
  rssAfterLoadMb: number | null;
  peakRssMb: number | null;
  /** JS heap used after load, MB (Node: process.memoryUsage; Chromium: performance.memory). */
  heapUsedMb: number | null;
  /** Chromium: performance.measureUserAgentSpecificMemory() after load (wasm memory included), MB. */
  uaMemoryMb: number | null;
  /** Largest logits tensor one session.run returned during the whole device run, bytes. */
  peakLogitsBytes: number;
  /** The runner's own peak-logits counter, where the runner exposes one. */
  runnerPeakLogitsBytes: number | null;
  note: string;
}

/**
 * Runtime LoRA (a base + a PEFT adapter as one rewritten session, `src/backend/adapterPair.ts`), one
 * entry per `npm run bench` part (`adapter`: the demo and the 135M model in fp32; `adapter-q4`: the
 * 135M model in q4). Everything is measured through `openPair`, the sides of each ratio interleaved.
 */
export interface AdapterPartResults {
  /** The `npm run bench` part that measured it, for partial re-runs. */
  part: string;
  device: string;
  quick: boolean;
  /** Views as rows against the same views in separate batches, per model. */
  rows: AdapterRowsResult[];
  /** The base view of base + adapter against the unrewritten base's, per model. */
  baseView: AdapterBaseViewResult[];
  /** base + adapter against two full models, in child processes, per model and dtype. */
  memory: AdapterMemoryResult[];
  notes: string[];
}

/** What a comparison ran on. */
export interface AdapterModelInfo {
  /** e.g. 'demo' or 'smollm2-135m-shape'. */
  name: string;
  dtype: 'fp32' | 'q4';
  /** The adapter, in words (rank, modules, size). */
  adapter: string;
}

export interface AdapterRowsResult {
  model: AdapterModelInfo;
  /** The suite workload: `probes × promptsPerProbe` delta_kl probes (30% repeats), the real suite runner. */
  probes: number;
  promptsPerProbe: number;
  /** Suite wall ms with views as rows (value) against `viewsAsRows: false` (baseline); < 1 is faster. */
  wallMs: Compared;
  /** The same runs in process CPU time (ORT's threads included), where it could be read. */
  cpuMs: Compared | null;
  /** Forward passes the instrumentation counted (one per view per batch): the same on both sides. */
  forwardPasses: { rows: number; separate: number };
  /** `session.run` calls per suite run: what rows save. */
  sessionRuns: { rows: number; separate: number };
  /** The merger's groups and the rows they carried per suite run (views as rows only). */
  merged: { groups: number; rows: number };
  /** Largest |Δ| of a probe's mean JS between the two sides (they compute the same thing). */
  maxMeanDiff: number;
  note: string;
}

export interface AdapterBaseViewResult {
  model: AdapterModelInfo;
  /** Prompts scored per round (asked together, so the view batches them) and their tokens. */
  prompts: number;
  tokens: number;
  /** ms per round: base view of base + adapter, λ = 0 (value), against the unrewritten base (baseline). */
  wallMs: Compared;
  cpuMs: Compared | null;
  /** `openPair` ms: base + adapter (rewrite included) and the plain pair (two sessions). */
  loadMs: { adapterPair: number; plainPair: number };
  /** Largest |Δ| of a next-token logprob between the two sides (λ = 0 must be the base). */
  maxLogprobDiff: number;
  note: string;
}

export interface AdapterMemoryResult {
  model: AdapterModelInfo;
  /** RSS after load + one forward per view, MB: base + adapter (value) against two full models (baseline). */
  rssMb: Compared;
  /** Peak RSS of the process, MB, same sides. */
  peakRssMb: Compared;
  note: string;
}

export interface BenchResults {
  env: Environment;
  /** The 135M-class pair, one entry per device; absent in results recorded before issue 11. */
  scale?: ScaleDeviceResults[];
  cache: CacheResults | null;
  suite: SuiteResults[];
  batchScaling: BatchScalingResults[];
  persistence: PersistenceResults | null;
  export: ExportResults | null;
  ui: UiResults | null;
  /** Runtime LoRA, one entry per part; absent in results recorded before it was measured. */
  adapter?: AdapterPartResults[];
  absent: Absent[];
  errors: BenchError[];
}

export function compared(value: Summary, baseline: Summary, ratio: Summary): Compared {
  return { value, baseline, ratio };
}
