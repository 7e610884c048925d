import type { ScaleDeviceResults, ScaleModelInfo } from '../lib/results.ts';
import type { MemorySample } from '../lib/scaleWorkload.ts';
import type { SuiteRun } from '../lib/suiteWorkload.ts';

export type BrowserDevice = 'wasm' | 'webgpu';

export interface LoadInfo {
  device: string;
  detail: string;
  loadMs: number;
}

export interface TracedRun {
  wallMs: number;
  /** Time to commit what the run left buffered, after it returned (0 with tracing off). */
  flushMs: number;
  events: number;
}

/** What the bench worker offers the bench page (and, through `window.bench`, Playwright). */
export interface BenchWorkerApi extends ScaleWorkerApi {
  load(device: BrowserDevice, origin: string): Promise<LoadInfo>;
  suite(perProbe: number): Promise<SuiteRun>;
  naive(perProbe: number): Promise<SuiteRun>;
  /** prompts/s of the plain base runner at one physical batch size. */
  scaling(prompts: number, batch: number): Promise<number>;
  /** events/s into IndexedDB: the write-behind sink, or one transaction per event. */
  ingest(kind: 'writeBehind' | 'perEvent', events: number): Promise<number>;
  tracedSuite(perProbe: number, tracing: boolean): Promise<TracedRun>;
  /** Stores `events` synthetic events as one run of the bench database; returns the run id. */
  seedRun(events: number): Promise<string>;
}

/** What the Node driver tells the worker about the 135M pair it serves under `/bench-models/`. */
export interface ScaleRequest {
  device: BrowserDevice;
  /** Absolute URL of the model folder (trailing slash). */
  modelUrl: string;
  dtype: 'fp32' | 'q4';
  quick: boolean;
  model: ScaleModelInfo;
  label: string;
  notes: string[];
}

/** The 135M-scale run in the worker; log lines and memory readings come back through the page. */
export interface ScaleWorkerApi {
  scale(
    req: ScaleRequest,
    origin: string,
    log: (line: string) => void,
    memory: () => Promise<MemorySample>,
    cpuMs: () => Promise<number>,
  ): Promise<ScaleDeviceResults>;
}

export const BENCH_DB = 'deltascope-bench';
