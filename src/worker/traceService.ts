import type { TraceAnalysis } from '../core/index.ts';
import { errorMessage } from '../core/errors.ts';
import { readHeapBytes, type MemoryNotes, type RunMetrics } from '../core/runMetrics.ts';
import { makeRunId, openTraceDb, TraceStoreError, type RunRecord, type TraceDb } from '../store/traceDb.ts';
import { importJsonl, type ImportResult } from '../store/traceImport.ts';
import {
  analyzeRun,
  blobFromChunks,
  deleteRun,
  getRun,
  jsonlChunks,
  listRuns,
  metricsHistory,
  perfettoChunks,
  runMetricsOf,
  type MetricsOrigin,
} from '../store/traceStore.ts';
import { WriteBehindSink, type SinkStatus, type WriteBehindOptions } from '../store/writeBehindSink.ts';
import { installGpuMemoryMeter, type GpuMemoryMeter } from './gpuMemoryMeter.ts';

export interface StorageUsage {
  /** Bytes used and available to this origin (navigator.storage.estimate()); null if unknown. */
  usage: number | null;
  quota: number | null;
}

export interface TraceStatus extends SinkStatus {
  currentRunId: string | null;
}

/** A run's metrics and whether they were stored with its events or computed from them now. */
export interface RunMetricsResult {
  runId: string;
  metrics: RunMetrics;
  origin: MetricsOrigin;
}

/**
 * What each flush notes in its runs' metrics: the JS heap where the runtime tells (readHeapBytes)
 * and, with a meter, the peak of live GPU buffer bytes since the last flush.
 */
export function memorySampler(
  gpu: GpuMemoryMeter | null,
  pageHeap: () => { bytes: number; source: string } | null = () => null,
): () => MemoryNotes {
  return () => {
    // The worker's own reading where the runtime has one, else the page's last measurement of it.
    const heap = readHeapBytes() ?? pageHeap();
    return {
      ...(heap !== null ? { heapBytes: heap.bytes, heapSource: heap.source } : {}),
      ...(gpu !== null
        ? { gpuBytes: gpu.takePeak(), gpuSource: 'WebGPU buffers created and not destroyed' }
        : {}),
    };
  };
}

/**
 * The worker side of persistent traces: owns the database, the write-behind sink that the session
 * puts in its sink chain, and the read side (runs, analysis, exports, import, delete). Every read
 * flushes first, so what the UI sees includes the events of the last few hundred milliseconds.
 */
export class TraceService {
  readonly sink: WriteBehindSink;

  constructor(
    readonly db: TraceDb,
    sinkOptions: WriteBehindOptions = {},
  ) {
    this.sink = new WriteBehindSink(db, sinkOptions);
  }

  static async open(name?: string, sinkOptions: WriteBehindOptions = {}): Promise<TraceService> {
    return new TraceService(await openTraceDb(name), sinkOptions);
  }

  /** A new run for the following events (the session calls this at the start of every load). */
  startRun(meta: { label: string; pairId?: string | null }): string {
    const id = makeRunId();
    this.sink.startRun({ id, label: meta.label, pairId: meta.pairId ?? null });
    return id;
  }

  updateRun(id: string, patch: { device?: string; dtype?: string; label?: string }): void {
    this.sink.updateRun(id, patch);
  }

  /** Load time and memory for a run's metrics; stored with its next flush. */
  noteRun(id: string, notes: MemoryNotes): void {
    this.sink.noteRun(id, notes);
  }

  /** The run's metrics: stored with its events, or computed from them (imports, older runs). */
  async runMetrics(runId: string): Promise<RunMetricsResult> {
    await this.flushQuietly();
    const run = await getRun(this.db, runId);
    const { metrics, origin } = await runMetricsOf(this.db, run);
    return { runId, metrics, origin };
  }

  /** Every run's metrics as one JSON file (`deltascope.metrics_history`). */
  async exportMetricsHistory(): Promise<Blob> {
    await this.flushQuietly();
    const history = await metricsHistory(this.db);
    return new Blob([JSON.stringify(history, null, 2) + '\n'], { type: 'application/json' });
  }

  async flush(): Promise<void> {
    await this.sink.flush();
  }

  /** Flushes, but a storage failure must not hide the data already stored: it shows in status. */
  private async flushQuietly(): Promise<void> {
    await this.sink.flush().catch(() => {});
  }

  async listRuns(): Promise<RunRecord[]> {
    await this.flushQuietly();
    return listRuns(this.db);
  }

  async analysis(runId: string): Promise<TraceAnalysis> {
    await this.flushQuietly();
    await getRun(this.db, runId);
    return analyzeRun(this.db, runId);
  }

  async exportJsonl(runId: string): Promise<Blob> {
    await this.flushQuietly();
    await getRun(this.db, runId);
    return blobFromChunks(jsonlChunks(this.db, runId), 'application/x-ndjson');
  }

  async exportPerfetto(runId: string): Promise<Blob> {
    await this.flushQuietly();
    const run = await getRun(this.db, runId);
    const { metrics, origin } = await runMetricsOf(this.db, run);
    const metadata = {
      deltascope_run_id: runId,
      deltascope_run_metrics: metrics,
      deltascope_metrics_origin: origin,
    };
    return blobFromChunks(perfettoChunks(this.db, runId, run.label, metadata), 'application/json');
  }

  async importJsonl(file: File): Promise<ImportResult> {
    return importJsonl(this.db, file);
  }

  async deleteRun(runId: string): Promise<number> {
    // Buffered events of this run must not recreate it on the next flush.
    this.sink.forgetRun(runId);
    await this.flushQuietly();
    return deleteRun(this.db, runId);
  }

  /** Deletes the run if nothing was recorded in it (a load that failed or was cancelled). */
  async dropIfEmpty(runId: string): Promise<boolean> {
    await this.flushQuietly();
    const run = await this.db.get('runs', runId);
    if (run === undefined || run.eventCount > 0) return false;
    await this.deleteRun(runId);
    return true;
  }

  async storageUsed(): Promise<StorageUsage> {
    const storage = (globalThis.navigator as Navigator | undefined)?.storage;
    if (storage?.estimate === undefined) return { usage: null, quota: null };
    const e = await storage.estimate();
    return { usage: e.usage ?? null, quota: e.quota ?? null };
  }

  status(): TraceStatus {
    return { ...this.sink.status(), currentRunId: this.sink.currentRunId };
  }
}

/**
 * Opens the service where IndexedDB exists; elsewhere (Node tests) says why persistence is off.
 * `pageHeap`: the worker's heap as the page last measured it (`src/ui/heapSampler.ts`).
 */
export async function openTraceService(
  pageHeap?: () => { bytes: number; source: string } | null,
): Promise<TraceService> {
  if (typeof indexedDB === 'undefined') {
    throw new TraceStoreError('IndexedDB is not available here, so traces are not saved.');
  }
  try {
    // Installed before any model loads, so every GPU buffer ORT creates in this worker is counted.
    return await TraceService.open(undefined, {
      sampleMemory: memorySampler(installGpuMemoryMeter(), pageHeap),
    });
  } catch (e) {
    throw new TraceStoreError(
      `Could not open the trace store in IndexedDB (${errorMessage(e)}). ` +
        'Private browsing or blocked site data turns it off; allow site data and reload.',
      { cause: e },
    );
  }
}
