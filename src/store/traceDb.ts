import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import type { TraceEvent } from '../core/index.ts';
import { DeltascopeError, type ErrorOptions } from '../core/errors.ts';
import type { RunMetrics } from '../core/runMetrics.ts';
import { CHUNK_EVENTS, encodeChunk, type StoredChunk } from './traceChunk.ts';

/** A run: what one model-pair load (or one imported file) traced. */
export interface RunRecord {
  id: string;
  label: string;
  /** Where the events came from: a live session in this browser, or an imported file. */
  source: 'live' | 'import';
  /** Epoch milliseconds: when the run was created and when it last received events. */
  startedAt: number;
  endedAt: number;
  eventCount: number;
  hits: number;
  /** Sum of `wall_ms` over the run's events. */
  totalMs: number;
  /** Smallest and largest event `ts` (epoch seconds); null until the first event. */
  firstTs: number | null;
  lastTs: number | null;
  device: string | null;
  pairId: string | null;
  dtype?: string | null;
  /** Imports only: non-blank lines that were not valid events. */
  skippedLines?: number;
  /**
   * Live runs: the run's metrics (core/runMetrics.ts) as of its last flush, written in the same
   * transaction as the events they cover. Absent in imported runs and in runs stored before metrics
   * existed (a value inside the record, so no schema version change): those are computed from the
   * stored events when asked.
   */
  metrics?: RunMetrics;
}

/**
 * One event and its place in the run: `seq` numbers the run's events from 0. The write-behind
 * buffer and import hold events this way until they are packed into chunks. The event itself
 * carries `run_id` as an extra key, so it exports exactly as stored.
 */
export interface StoredEvent {
  run: string;
  seq: number;
  event: TraceEvent;
}

export interface TraceDbSchema extends DBSchema {
  runs: { key: string; value: RunRecord; indexes: { by_started: number } };
  /** A run's events, a few hundred per record (see traceChunk.ts), keyed `[run, first seq]`. */
  chunks: { key: [string, number]; value: StoredChunk };
  /**
   * Version 1's one-record-per-event layout. The app no longer writes it: opening a version 1
   * database moves its events into `chunks` and empties it. It stays in the schema because the
   * benchmark's per-event baseline (bench/browser/bench.worker.ts) still writes there.
   */
  events: { key: number; value: StoredEvent; indexes: { by_run: string; by_run_seq: [string, number] } };
}

export type TraceDb = IDBPDatabase<TraceDbSchema>;

export const TRACE_DB_NAME = 'deltascope-traces';
/** 1: one record per event. 2: one record per chunk of events (`chunks`). */
const TRACE_DB_VERSION = 2;

/**
 * Raised for storage problems the user can act on (quota, blocked upgrade, a missing run): code
 * `storage/failed`, so it crosses the worker boundary as that code.
 */
export class TraceStoreError extends DeltascopeError {
  override name = 'TraceStoreError';
  constructor(message: string, opts?: ErrorOptions) {
    super('storage/failed', message, opts);
  }
}

/** Opens (and on first use creates) the trace database. */
export async function openTraceDb(name = TRACE_DB_NAME): Promise<TraceDb> {
  return openDB<TraceDbSchema>(name, TRACE_DB_VERSION, {
    upgrade(db, oldVersion, _newVersion, tx) {
      if (oldVersion < 1) {
        const runs = db.createObjectStore('runs', { keyPath: 'id' });
        runs.createIndex('by_started', 'startedAt');
        // Out-of-line auto-increment keys: the key never leaks into the stored event.
        const events = db.createObjectStore('events', { autoIncrement: true });
        events.createIndex('by_run', 'run');
        events.createIndex('by_run_seq', ['run', 'seq'], { unique: true });
      }
      if (oldVersion < 2) db.createObjectStore('chunks', { keyPath: ['run', 'seq'] });
      if (oldVersion === 1) {
        // The open only succeeds once the whole move has committed; a failure aborts the upgrade,
        // which leaves the database at version 1 with its events where they were.
        migrateEventsToChunks(tx).catch(() => tx.abort());
      }
    },
    blocked() {
      // An older tab holds the previous version open; opening waits until it closes or reloads.
    },
  });
}

type UpgradeTx = IDBPTransaction<TraceDbSchema, StoreNames<TraceDbSchema>[], 'versionchange'>;

/**
 * Version 1 → 2: walks the per-event records in `[run, seq]` order, writes them as chunks of up to
 * CHUNK_EVENTS (a new chunk at every run boundary), then empties `events`. Run records and their
 * counters are unchanged: the same events are still there.
 */
async function migrateEventsToChunks(tx: UpgradeTx): Promise<void> {
  const chunks = tx.objectStore('chunks');
  const events = tx.objectStore('events');
  let run: string | null = null;
  let first = 0;
  let pending: TraceEvent[] = [];
  const adds: Promise<unknown>[] = [];
  const emit = () => {
    if (run !== null && pending.length > 0) adds.push(chunks.add(encodeChunk(run, first, pending)));
    pending = [];
  };
  let cursor = await events.index('by_run_seq').openCursor();
  while (cursor !== null) {
    const s = cursor.value;
    if (s.run !== run || pending.length === CHUNK_EVENTS) {
      emit();
      run = s.run;
      first = s.seq;
    }
    pending.push(s.event);
    cursor = await cursor.continue();
  }
  emit();
  await Promise.all([...adds, events.clear()]);
}

/** Adds one batch of events to a run's counters (the caller writes the record back). */
export function foldIntoRun(run: RunRecord, events: readonly TraceEvent[], nowMs: number): void {
  for (const e of events) {
    run.eventCount += 1;
    if (e.hit) run.hits += 1;
    run.totalMs += e.wall_ms;
    if (run.firstTs === null || e.ts < run.firstTs) run.firstTs = e.ts;
    if (run.lastTs === null || e.ts > run.lastTs) run.lastTs = e.ts;
  }
  run.endedAt = nowMs;
}

export function newRunRecord(
  init: Partial<RunRecord> & { id: string; label: string },
  nowMs: number,
): RunRecord {
  return {
    source: 'live',
    startedAt: nowMs,
    endedAt: nowMs,
    eventCount: 0,
    hits: 0,
    totalMs: 0,
    firstTs: null,
    lastTs: null,
    device: null,
    pairId: null,
    ...init,
  };
}

/** A short, sortable, unique-enough run id: time in base 36 plus random bits. */
export function makeRunId(nowMs: number = Date.now(), random: () => number = Math.random): string {
  const rand = Math.floor(random() * 36 ** 4)
    .toString(36)
    .padStart(4, '0');
  return `run-${Math.floor(nowMs).toString(36)}-${rand}`;
}
