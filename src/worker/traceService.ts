import type { TraceAnalysis } from '../core/index.ts';
import { errorMessage } from '../core/errors.ts';
import { makeRunId, openTraceDb, TraceStoreError, type RunRecord, type TraceDb } from '../store/traceDb.ts';
import { importJsonl, type ImportResult } from '../store/traceImport.ts';
import {
  analyzeRun,
  blobFromChunks,
  deleteRun,
  getRun,
  jsonlChunks,
  listRuns,
  perfettoChunks,
} from '../store/traceStore.ts';
import { WriteBehindSink, type SinkStatus } from '../store/writeBehindSink.ts';

export interface StorageUsage {
  /** Bytes used and available to this origin (navigator.storage.estimate()); null if unknown. */
  usage: number | null;
  quota: number | null;
}

export interface TraceStatus extends SinkStatus {
  currentRunId: string | null;
}

/**
 * The worker side of persistent traces: owns the database, the write-behind sink that the session
 * puts in its sink chain, and the read side (runs, analysis, exports, import, delete). Every read
 * flushes first, so what the UI sees includes the events of the last few hundred milliseconds.
 */
export class TraceService {
  readonly sink: WriteBehindSink;

  constructor(readonly db: TraceDb) {
    this.sink = new WriteBehindSink(db);
  }

  static async open(name?: string): Promise<TraceService> {
    return new TraceService(await openTraceDb(name));
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
    return blobFromChunks(perfettoChunks(this.db, runId, run.label), 'application/json');
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

/** Opens the service where IndexedDB exists; elsewhere (Node tests) says why persistence is off. */
export async function openTraceService(): Promise<TraceService> {
  if (typeof indexedDB === 'undefined') {
    throw new TraceStoreError('IndexedDB is not available here, so traces are not saved.');
  }
  try {
    return await TraceService.open();
  } catch (e) {
    throw new TraceStoreError(
      `Could not open the trace store in IndexedDB (${errorMessage(e)}). ` +
        'Private browsing or blocked site data turns it off; allow site data and reload.',
      { cause: e },
    );
  }
}
