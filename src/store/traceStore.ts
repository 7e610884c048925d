import {
  PerfettoEncoder,
  TraceAnalyzer,
  encodeTraceLine,
  type AnalysisOptions,
  type TraceAnalysis,
  type TraceEvent,
} from '../core/index.ts';
import { TraceStoreError, type RunRecord, type TraceDb } from './traceDb.ts';

/** Events per read transaction: big enough to amortise a transaction, small enough to stream. */
export const READ_PAGE = 2000;

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
    );
  }
  return run;
}

/**
 * A run's events in order, one page per read transaction. A page is read with one `getAll` over
 * the `[run, seq]` index and the next page starts after the last `seq` seen, so no transaction has
 * to stay open while the caller works on a page.
 */
export async function* readRunPages(
  db: TraceDb,
  runId: string,
  pageSize = READ_PAGE,
): AsyncGenerator<TraceEvent[], void, undefined> {
  let from = 0;
  for (;;) {
    const range = IDBKeyRange.bound([runId, from], [runId, Infinity]);
    const page = await db.getAllFromIndex('events', 'by_run_seq', range, pageSize);
    if (page.length === 0) return;
    yield page.map((s) => s.event);
    if (page.length < pageSize) return;
    from = page[page.length - 1]!.seq + 1;
  }
}

/** The run as sway JSONL, one string chunk per page (never the whole file as one string). */
export async function* jsonlChunks(db: TraceDb, runId: string, pageSize = READ_PAGE): AsyncGenerator<string> {
  for await (const page of readRunPages(db, runId, pageSize)) {
    let chunk = '';
    for (const e of page) chunk += encodeTraceLine(e) + '\n';
    yield chunk;
  }
}

/** The run as Chrome Trace Event JSON chunks (Perfetto / chrome://tracing). */
export async function* perfettoChunks(db: TraceDb, runId: string, label?: string): AsyncGenerator<string> {
  const enc = new PerfettoEncoder(label !== undefined ? { label } : {});
  yield enc.begin();
  for await (const page of readRunPages(db, runId)) yield enc.push(page);
  yield enc.end();
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

/** Deletes a run and its events in one transaction. */
export async function deleteRun(db: TraceDb, runId: string): Promise<number> {
  const tx = db.transaction(['runs', 'events'], 'readwrite');
  const events = tx.objectStore('events');
  let removed = 0;
  let cursor = await events.index('by_run').openKeyCursor(IDBKeyRange.only(runId));
  while (cursor !== null) {
    void events.delete(cursor.primaryKey);
    removed++;
    cursor = await cursor.continue();
  }
  await tx.objectStore('runs').delete(runId);
  await tx.done;
  return removed;
}

/** Collects async string chunks into Blob parts; each page becomes its own small Blob. */
export async function blobFromChunks(chunks: AsyncIterable<string>, type: string): Promise<Blob> {
  const parts: Blob[] = [];
  for await (const chunk of chunks) if (chunk.length > 0) parts.push(new Blob([chunk]));
  return new Blob(parts, { type });
}
