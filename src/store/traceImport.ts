import { parseTraceJsonl, type TraceEvent } from '../core/index.ts';
import { deleteRun } from './traceStore.ts';
import {
  foldIntoRun,
  makeRunId,
  newRunRecord,
  TraceStoreError,
  type RunRecord,
  type StoredEvent,
  type TraceDb,
} from './traceDb.ts';
import { chunksOf } from './traceChunk.ts';

/** Largest trace file accepted: 200 MB is ~1.3 M sway events, far beyond any suite run. */
export const MAX_IMPORT_BYTES = 200 * 1024 * 1024;
/** Events per write transaction during import (stored as chunks of CHUNK_EVENTS). */
const IMPORT_TX_EVENTS = 5000;
const MAX_REPORTED_LINES = 20;

export interface ImportResult {
  runId: string;
  label: string;
  imported: number;
  skipped: number;
  /** 1-based line numbers of the first skipped lines. */
  skippedLines: number[];
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
 * Imports a sway or deltascope JSONL trace as a new run labelled by the file name. The file is
 * decoded and validated chunk by chunk (`parseTraceJsonl` per block of whole lines) and written in
 * transactions of a few thousand events, so a large file never sits in memory as one string.
 * Invalid lines are skipped and reported by line number; a file with no valid event is rejected
 * and leaves nothing behind.
 */
export async function importJsonl(
  db: TraceDb,
  file: ImportSource,
  opts: ImportOptions = {},
): Promise<ImportResult> {
  const maxBytes = opts.maxBytes ?? MAX_IMPORT_BYTES;
  const now = opts.now ?? Date.now;
  if (file.size > maxBytes) {
    throw new TraceStoreError(
      `"${file.name}" is ${(file.size / 1024 / 1024).toFixed(1)} MB; the import limit is ` +
        `${(maxBytes / 1024 / 1024).toFixed(0)} MB. Split the trace (e.g. \`split -l 500000\`) and import the parts.`,
    );
  }
  const runId = opts.runId ?? makeRunId(now());
  const run: RunRecord = newRunRecord(
    { id: runId, label: file.name, source: 'import', skippedLines: 0 },
    now(),
  );
  let seq = 0;
  let skipped = 0;
  const skippedLines: number[] = [];
  let lineOffset = 0;
  let pending: StoredEvent[] = [];

  const writePending = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const tx = db.transaction(['runs', 'chunks'], 'readwrite', { durability: 'relaxed' });
    foldIntoRun(
      run,
      batch.map((s) => s.event),
      now(),
    );
    run.skippedLines = skipped;
    const ops: Promise<unknown>[] = chunksOf(runId, batch).map((c) => tx.objectStore('chunks').add(c));
    ops.push(tx.objectStore('runs').put({ ...run }));
    await Promise.all([...ops, tx.done]);
  };

  const consume = async (text: string, lines: number) => {
    const parsed = parseTraceJsonl(text);
    skipped += parsed.skipped;
    for (const line of parsed.skippedLines) {
      if (skippedLines.length < MAX_REPORTED_LINES) skippedLines.push(line + lineOffset);
    }
    lineOffset += lines;
    for (const e of parsed.events) {
      const event = { ...e, run_id: runId } as TraceEvent;
      pending.push({ run: runId, seq: seq++, event });
    }
    if (pending.length >= IMPORT_TX_EVENTS) await writePending();
  };

  try {
    const reader = file.stream().getReader();
    const decoder = new TextDecoder('utf-8');
    let carry = '';
    for (;;) {
      const { done, value } = await reader.read();
      carry += done ? decoder.decode() : decoder.decode(value, { stream: true });
      const cut = done ? carry.length : carry.lastIndexOf('\n');
      if (cut > 0 || (done && carry.length > 0)) {
        const block = carry.slice(0, cut);
        carry = carry.slice(cut + 1);
        await consume(block, countNewlines(block) + 1);
      }
      if (done) break;
    }
    await writePending();
  } catch (e) {
    await deleteRun(db, runId).catch(() => {});
    if (e instanceof TraceStoreError) throw e;
    throw new TraceStoreError(
      `Importing "${file.name}" failed: ${e instanceof Error ? e.message : String(e)}.`,
    );
  }
  if (seq === 0) {
    await deleteRun(db, runId).catch(() => {});
    const where = skippedLines.length > 0 ? ` (invalid lines: ${skippedLines.join(', ')})` : '';
    throw new TraceStoreError(
      `"${file.name}" holds no valid trace events${where}. Expected JSONL with one sway event per line: ` +
        'ts, probe, view_id, prompt_hash, top_k, op, wall_ms, hit.',
    );
  }
  return { runId, label: file.name, imported: seq, skipped, skippedLines };
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}
