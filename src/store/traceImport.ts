import {
  DeltascopeError,
  describeSkippedLines,
  errorMessage,
  readTraceJsonl,
  type SkippedLines,
  type TraceEvent,
} from '../core/index.ts';
import { deleteRun } from './traceStore.ts';
import { foldIntoRun, makeRunId, newRunRecord, TraceStoreError, type TraceDb } from './traceDb.ts';
import { chunksOf } from './traceChunk.ts';

/** Largest trace file accepted: 200 MB is ~1.3 M sway events, far beyond any suite run. */
export const MAX_IMPORT_BYTES = 200 * 1024 * 1024;
/** Events per write transaction during import (stored as chunks of CHUNK_EVENTS). */
const IMPORT_TX_EVENTS = 5000;

export interface ImportResult extends SkippedLines {
  runId: string;
  label: string;
  imported: number;
}

/** What import needs of a File: its name, size and a byte stream. */
export interface ImportSource {
  name: string;
  size: number;
  stream(): ReadableStream<Uint8Array>;
}

export interface ImportOptions {
  maxBytes?: number;
  now?: () => number;
  runId?: string;
}

/**
 * Imports a sway or deltascope JSONL trace as a new run labelled by the file name. The file is read
 * chunk by chunk through core's `readTraceJsonl` (the reader `deltascope trace` uses) and written in
 * transactions of a few thousand events, so a large file never sits in memory as one string.
 * Invalid lines are skipped and reported by line number. A file too large, unreadable or with no
 * valid event is rejected (`input/invalid`, `input/unreadable`; `input` is the file name) and
 * leaves nothing behind; a failed write is a `TraceStoreError`.
 */
export async function importJsonl(
  db: TraceDb,
  file: ImportSource,
  opts: ImportOptions = {},
): Promise<ImportResult> {
  const maxBytes = opts.maxBytes ?? MAX_IMPORT_BYTES;
  const now = opts.now ?? Date.now;
  const input = { input: file.name };
  if (file.size > maxBytes) {
    throw new DeltascopeError(
      'input/invalid',
      `"${file.name}" is ${(file.size / 1024 / 1024).toFixed(1)} MB; the import limit is ` +
        `${(maxBytes / 1024 / 1024).toFixed(0)} MB. Split the trace (e.g. \`split -l 500000\`) and import the parts.`,
      input,
    );
  }
  const runId = opts.runId ?? makeRunId(now());
  const run = newRunRecord({ id: runId, label: file.name, source: 'import', skippedLines: 0 }, now());
  let seq = 0;
  let pending: TraceEvent[] = [];
  let skipped: SkippedLines;
  let writing = false;

  const writePending = async (skippedSoFar: number) => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const first = seq;
    seq += batch.length;
    writing = true;
    const tx = db.transaction(['runs', 'chunks'], 'readwrite', { durability: 'relaxed' });
    foldIntoRun(run, batch, now());
    run.skippedLines = skippedSoFar;
    const items = batch.map((event, i) => ({ seq: first + i, event }));
    const ops: Promise<unknown>[] = chunksOf(runId, items).map((c) => tx.objectStore('chunks').add(c));
    ops.push(tx.objectStore('runs').put({ ...run }));
    await Promise.all([...ops, tx.done]);
    writing = false;
  };

  try {
    skipped = await readTraceJsonl(file.stream(), async (events, skippedSoFar) => {
      for (const e of events) pending.push({ ...e, run_id: runId } as TraceEvent);
      if (pending.length >= IMPORT_TX_EVENTS) await writePending(skippedSoFar.skipped);
    });
    await writePending(skipped.skipped);
  } catch (e) {
    await deleteRun(db, runId).catch(() => {});
    if (e instanceof DeltascopeError || e instanceof TraceStoreError) throw e;
    if (writing) throw new TraceStoreError(`Saving "${file.name}" failed: ${errorMessage(e)}.`);
    throw new DeltascopeError(
      'input/unreadable',
      `Cannot read "${file.name}": ${errorMessage(e)}. Pick the file again.`,
      input,
    );
  }
  if (seq === 0) {
    await deleteRun(db, runId).catch(() => {});
    const why = skipped.skipped > 0 ? `; ${describeSkippedLines(skipped)}` : '';
    throw new DeltascopeError(
      'input/invalid',
      `"${file.name}" holds no valid trace events${why}. Expected JSONL with one sway event per line: ` +
        'ts, probe, view_id, prompt_hash, top_k, op, wall_ms, hit.',
      input,
    );
  }
  return { runId, label: file.name, imported: seq, ...skipped };
}
