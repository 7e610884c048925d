import {
  PerfettoEncoder,
  TraceAnalyzer,
  encodeTraceLine,
  type AnalysisOptions,
  type TraceAnalysis,
  type TraceEvent,
} from '../core/index.ts';
import { RunMetricsTracker, type RunMetrics } from '../core/runMetrics.ts';
import { decodeChunk } from './traceChunk.ts';
import { TraceStoreError, type RunRecord, type TraceDb } from './traceDb.ts';

/** Events per page handed to the caller: one JSONL / Perfetto string chunk each. */
export const READ_PAGE = 2000;
/**
 * Chunk records per read transaction: up to 16,000 events (far fewer when timed flushes wrote
 * small chunks). They arrive compact and are unpacked one at a time as pages are handed out.
 */
const CHUNKS_PER_READ = 16;

/** Every run, newest first. */
export async function listRuns(db: TraceDb): Promise<RunRecord[]> {
  const runs = await db.getAllFromIndex('runs', 'by_started');
  return runs.reverse();
}

export async function getRun(db: TraceDb, id: string): Promise<RunRecord> {
  const run = await db.get('runs', id);
  if (run === undefined) {
    throw new TraceStoreError(
      `Run "${id}" is not in this browser's trace store (deleted?). Pick another run.`,
      { input: id },
    );
  }
  return run;
}

/**
 * A run's events in order, in pages of `pageSize` (the last one shorter). Each read transaction
 * fetches a few chunk records with one `getAll` over the `[run, seq]` key range and the next one
 * starts after the last key seen, so no transaction stays open while the caller works on a page.
 */
export async function* readRunPages(
  db: TraceDb,
  runId: string,
  pageSize = READ_PAGE,
): AsyncGenerator<TraceEvent[], void, undefined> {
  let range = IDBKeyRange.bound([runId, -Infinity], [runId, Infinity]);
  let page: TraceEvent[] = [];
  for (;;) {
    const chunks = await db.getAll('chunks', range, CHUNKS_PER_READ);
    for (const chunk of chunks) {
      const events = decodeChunk(chunk);
      if (page.length === 0 && events.length === pageSize) {
        yield events;
        continue;
      }
      for (let i = 0; i < events.length;) {
        const end = Math.min(i + pageSize - page.length, events.length);
        while (i < end) page.push(events[i++]!);
        if (page.length === pageSize) {
          yield page;
          page = [];
        }
      }
    }
    if (chunks.length < CHUNKS_PER_READ) break;
    range = IDBKeyRange.bound([runId, chunks[chunks.length - 1]!.seq], [runId, Infinity], true);
  }
  if (page.length > 0) yield page;
}

/** The run as sway JSONL, one string chunk per page (never the whole file as one string). */
export async function* jsonlChunks(db: TraceDb, runId: string, pageSize = READ_PAGE): AsyncGenerator<string> {
  for await (const page of readRunPages(db, runId, pageSize)) {
    let chunk = '';
    for (const e of page) chunk += encodeTraceLine(e) + '\n';
    yield chunk;
  }
}

/**
 * The run as Chrome Trace Event JSON chunks (Perfetto / chrome://tracing). `metadata` (the run's
 * metrics) goes in the file's top-level `metadata` object.
 */
export async function* perfettoChunks(
  db: TraceDb,
  runId: string,
  label?: string,
  metadata?: Record<string, unknown>,
): AsyncGenerator<string> {
  const enc = new PerfettoEncoder(label !== undefined ? { label } : {});
  yield enc.begin();
  for await (const page of readRunPages(db, runId)) yield enc.push(page);
  yield enc.end(metadata);
}

/** Where a run's metrics came from: its record (written with its events) or its stored events now. */
export type MetricsOrigin = 'stored' | 'computed';

/**
 * A run's metrics: the ones its flushes stored with its events, or, for a run without them (an
 * import, a run from before metrics were kept), computed from its stored events now, page by page
 * (latency, rates, hit rate and peak batch; load time and memory are then unknown).
 */
export async function runMetricsOf(
  db: TraceDb,
  run: RunRecord,
): Promise<{ metrics: RunMetrics; origin: MetricsOrigin }> {
  if (run.metrics !== undefined) return { metrics: run.metrics, origin: 'stored' };
  const tracker = new RunMetricsTracker();
  for await (const page of readRunPages(db, run.id)) tracker.addAll(page);
  return { metrics: tracker.snapshot(), origin: 'computed' };
}

const isoOrNull = (ms: number): string | null => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);

/** One run's line in the metrics history export. */
export interface RunMetricsEntry {
  run_id: string;
  label: string;
  source: RunRecord['source'];
  started_at: string | null;
  ended_at: string | null;
  device: string | null;
  pair_id: string | null;
  dtype: string | null;
  event_count: number;
  metrics_origin: MetricsOrigin;
  metrics: RunMetrics;
}

export interface MetricsHistory {
  schema: 'deltascope.metrics_history';
  version: 1;
  exported_at: string;
  runs: RunMetricsEntry[];
}

/** Every run's metrics, oldest first, as one JSON-safe object (the Traces panel's history export). */
export async function metricsHistory(db: TraceDb, nowMs: number = Date.now()): Promise<MetricsHistory> {
  const runs = (await listRuns(db)).reverse();
  const out: RunMetricsEntry[] = [];
  for (const run of runs) {
    const { metrics, origin } = await runMetricsOf(db, run);
    out.push({
      run_id: run.id,
      label: run.label,
      source: run.source,
      started_at: isoOrNull(run.startedAt),
      ended_at: isoOrNull(run.endedAt),
      device: run.device,
      pair_id: run.pairId,
      dtype: run.dtype ?? null,
      event_count: run.eventCount,
      metrics_origin: origin,
      metrics,
    });
  }
  return {
    schema: 'deltascope.metrics_history',
    version: 1,
    exported_at: new Date(nowMs).toISOString(),
    runs: out,
  };
}

/** Trace analysis of one stored run, streamed page by page. */
export async function analyzeRun(
  db: TraceDb,
  runId: string,
  opts: AnalysisOptions = {},
): Promise<TraceAnalysis> {
  const analyzer = new TraceAnalyzer(opts);
  for await (const page of readRunPages(db, runId)) analyzer.addAll(page);
  return analyzer.result();
}

/**
 * Deletes a run and its events in one transaction; returns how many events it held. The count is
 * the run record's, which every write updates in the same transaction as the events themselves.
 */
export async function deleteRun(db: TraceDb, runId: string): Promise<number> {
  const tx = db.transaction(['runs', 'chunks'], 'readwrite');
  const runs = tx.objectStore('runs');
  const run = await runs.get(runId);
  await Promise.all([
    tx.objectStore('chunks').delete(IDBKeyRange.bound([runId, -Infinity], [runId, Infinity])),
    runs.delete(runId),
    tx.done,
  ]);
  return run?.eventCount ?? 0;
}

/** Collects async string chunks into Blob parts; each page becomes its own small Blob. */
export async function blobFromChunks(chunks: AsyncIterable<string>, type: string): Promise<Blob> {
  const parts: Blob[] = [];
  for await (const chunk of chunks) if (chunk.length > 0) parts.push(new Blob([chunk]));
  return new Blob(parts, { type });
}
