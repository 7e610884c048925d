import type { TraceEvent, TraceSink } from '../core/index.ts';
import {
  RunMetricsTracker,
  type MemoryNotes,
  type RunMetrics,
  type RunMetricsOptions,
} from '../core/runMetrics.ts';
import {
  foldIntoRun,
  newRunRecord,
  TraceStoreError,
  type RunRecord,
  type StoredEvent,
  type TraceDb,
} from './traceDb.ts';
import { chunksOf } from './traceChunk.ts';

/** Schedules `fn` after `ms`; returns a cancel function. Injected so tests drive time by hand. */
export type Scheduler = (fn: () => void, ms: number) => () => void;

const defaultScheduler: Scheduler = (fn, ms) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

export interface WriteBehindOptions {
  /** Flush when this many events are buffered (default 500). */
  maxEvents?: number;
  /** Flush at most this long after the first buffered event (default 250 ms). */
  intervalMs?: number;
  /**
   * Events kept in memory while storage keeps failing; beyond it the oldest unsaved ones are
   * dropped and counted (default 200,000), so a full disk cannot exhaust memory too.
   */
  maxPending?: number;
  schedule?: Scheduler;
  /** Epoch milliseconds, for the run's `endedAt`. */
  now?: () => number;
  /** Told about every failed flush (the sink also keeps it in `lastError`). */
  onError?: (error: Error) => void;
  /**
   * Read at every flush for each run the flush writes (heap, GPU bytes: kept as peaks in the run's
   * metrics). Must be cheap and synchronous; a throw is ignored.
   */
  sampleMemory?: () => MemoryNotes;
  /** Reservoir size and seed of each run's metrics tracker. */
  metrics?: RunMetricsOptions;
}

export interface SinkStatus {
  /** Events buffered and not yet committed. */
  pending: number;
  /** Events committed since the sink was created. */
  written: number;
  /** Events given up on after repeated failures (see `maxPending`). */
  dropped: number;
  flushes: number;
  lastError: string | null;
}

interface LiveRun {
  record: RunRecord;
  nextSeq: number;
  /** True once a flush has stored the record; a later miss means the user deleted the run. */
  stored: boolean;
  /** The record is new or its metadata changed since the last flush. */
  dirty: boolean;
  /** Folded from every event written to the run, as it is written (O(1) per event). */
  metrics: RunMetricsTracker;
}

/**
 * The IndexedDB writer of the sink chain: events are buffered in memory and written behind, ONE
 * relaxed-durability readwrite transaction per flush (a transaction costs far more than a record),
 * at least every `intervalMs` or `maxEvents` events, and whenever `flush()` is called (the page
 * calls it on `pagehide` / `visibilitychange`). A flush stores each run's share of the batch as a
 * few chunk records (up to CHUNK_EVENTS events each, see traceChunk.ts), not one record per event,
 * and the same transaction folds the batch into the run's counters, so the runs list never
 * disagrees with the stored events.
 *
 * A transaction is atomic: a flush that fails leaves what earlier flushes committed untouched, and
 * its own events go back to the front of the buffer to be retried by the next flush.
 */
export class WriteBehindSink implements TraceSink {
  private buffer: StoredEvent[] = [];
  private cancelTimer: (() => void) | null = null;
  private tail: Promise<void> = Promise.resolve();
  private readonly runs = new Map<string, LiveRun>();
  private current: LiveRun | null = null;
  private readonly maxEvents: number;
  private readonly intervalMs: number;
  private readonly maxPending: number;
  private readonly schedule: Scheduler;
  private readonly now: () => number;
  private inflight = 0;
  private written = 0;
  private dropped = 0;
  private flushes = 0;
  private lastError: Error | null = null;

  constructor(
    private readonly db: TraceDb,
    private readonly opts: WriteBehindOptions = {},
  ) {
    this.maxEvents = opts.maxEvents ?? 500;
    this.intervalMs = opts.intervalMs ?? 250;
    this.maxPending = opts.maxPending ?? 200_000;
    this.schedule = opts.schedule ?? defaultScheduler;
    this.now = opts.now ?? Date.now;
  }

  /** Directs the following events to a new run; its record is stored with the next flush. */
  startRun(init: Partial<RunRecord> & { id: string; label: string }): RunRecord {
    const live: LiveRun = {
      record: newRunRecord(init, this.now()),
      nextSeq: 0,
      stored: false,
      dirty: true,
      metrics: new RunMetricsTracker(this.opts.metrics),
    };
    this.runs.set(init.id, live);
    this.current = live;
    return { ...live.record };
  }

  get currentRunId(): string | null {
    return this.current?.record.id ?? null;
  }

  /** Metadata known later (device, dtype); written with the next flush. */
  updateRun(id: string, patch: Partial<Pick<RunRecord, 'label' | 'device' | 'pairId' | 'dtype'>>): void {
    const live = this.runs.get(id);
    if (live === undefined) return;
    Object.assign(live.record, patch);
    live.dirty = true;
    this.arm();
  }

  /** Notes for a run's metrics (load time, memory); written with the next flush. */
  noteRun(id: string, notes: MemoryNotes): void {
    const live = this.runs.get(id);
    if (live === undefined) return;
    live.metrics.note(notes);
    live.dirty = true;
    this.arm();
  }

  /**
   * A live run's metrics now (events still buffered included, memory sampled now and kept for the
   * next flush); null for a run not written here.
   */
  runMetrics(id: string): RunMetrics | null {
    const live = this.runs.get(id);
    if (live === undefined) return null;
    const memory = this.sampleMemoryNow();
    if (memory !== null) {
      live.metrics.note(memory);
      live.dirty = true;
      this.arm();
    }
    return live.metrics.snapshot();
  }

  private sampleMemoryNow(): MemoryNotes | null {
    if (this.opts.sampleMemory === undefined) return null;
    try {
      return this.opts.sampleMemory();
    } catch {
      return null;
    }
  }

  write(event: TraceEvent): void {
    if (this.current === null) {
      // Events before any load (none today) still land somewhere visible.
      this.startRun({ id: `run-${Math.floor(this.now()).toString(36)}-session`, label: 'session' });
    }
    const live = this.current!;
    const run = live.record.id;
    this.buffer.push({ run, seq: live.nextSeq++, event: { ...event, run_id: run } as TraceEvent });
    live.metrics.add(event);
    if (this.buffer.length >= this.maxEvents) void this.flush().catch(() => {});
    else this.arm();
  }

  private arm(): void {
    if (this.cancelTimer !== null) return;
    this.cancelTimer = this.schedule(() => {
      this.cancelTimer = null;
      // A failed timed flush is reported through onError / status; nobody awaits it.
      void this.flush().catch(() => {});
    }, this.intervalMs);
  }

  /** Writes everything buffered so far; resolves once it is committed, rejects if it failed. */
  flush(): Promise<void> {
    if (this.cancelTimer !== null) {
      this.cancelTimer();
      this.cancelTimer = null;
    }
    // The buffer is taken now, so writes from here on start the next batch; the transactions run
    // one after another so counters are folded in commit order.
    const dirtyRuns = [...this.runs.values()].filter((r) => r.dirty);
    if (this.buffer.length === 0 && dirtyRuns.length === 0) return this.tail;
    const batch = this.buffer;
    this.buffer = [];
    this.inflight += batch.length;
    for (const r of dirtyRuns) r.dirty = false;
    // Taken now, with the buffer: each run's metrics cover exactly the events written so far, which
    // this flush (with any earlier one) commits in the same transaction as the metrics.
    const metrics = this.snapshotMetrics(batch, dirtyRuns);
    const run = this.tail.then(() => this.writeBatch(batch, dirtyRuns, metrics));
    this.tail = run.catch(() => {});
    return run;
  }

  async close(): Promise<void> {
    await this.flush();
  }

  status(): SinkStatus {
    return {
      pending: this.buffer.length + this.inflight,
      written: this.written,
      dropped: this.dropped,
      flushes: this.flushes,
      lastError: this.lastError?.message ?? null,
    };
  }

  /** Forgets a run deleted by the user so no later flush recreates it. */
  forgetRun(id: string): void {
    this.buffer = this.buffer.filter((s) => s.run !== id);
    this.runs.delete(id);
    if (this.current?.record.id === id) this.current = null;
  }

  private snapshotMetrics(
    batch: readonly StoredEvent[],
    dirtyRuns: readonly LiveRun[],
  ): Map<string, RunMetrics> {
    const ids = new Set<string>(dirtyRuns.map((r) => r.record.id));
    for (const s of batch) ids.add(s.run);
    const memory = ids.size > 0 ? this.sampleMemoryNow() : null;
    const out = new Map<string, RunMetrics>();
    for (const id of ids) {
      const live = this.runs.get(id);
      if (live === undefined) continue;
      if (memory !== null) live.metrics.note(memory);
      out.set(id, live.metrics.snapshot());
    }
    return out;
  }

  private async writeBatch(
    batch: StoredEvent[],
    dirtyRuns: LiveRun[],
    metrics: Map<string, RunMetrics>,
  ): Promise<void> {
    const taken = batch.length;
    try {
      await this.commit(
        batch,
        dirtyRuns.map((r) => r.record.id),
        metrics,
      );
      this.written += batch.length;
      this.flushes += 1;
      this.lastError = null;
    } catch (e) {
      // A run forgotten meanwhile (deleted by the user) must not come back with the retry.
      batch = batch.filter((s) => this.runs.has(s.run));
      // Nothing of this batch was committed: put it back ahead of newer events for the next try.
      this.buffer = batch.concat(this.buffer);
      for (const r of dirtyRuns) r.dirty = true;
      if (this.buffer.length > this.maxPending) {
        const over = this.buffer.length - this.maxPending;
        this.buffer.splice(0, over);
        this.dropped += over;
      }
      const error = toStoreError(e);
      this.lastError = error;
      this.opts.onError?.(error);
      throw error;
    } finally {
      this.inflight -= taken;
    }
  }

  private async commit(
    batch: StoredEvent[],
    dirtyIds: string[],
    metrics: Map<string, RunMetrics>,
  ): Promise<void> {
    // The buffer holds each run's events in `seq` order, so grouping keeps that order per run.
    const byRun = new Map<string, StoredEvent[]>();
    for (const s of batch) {
      let list = byRun.get(s.run);
      if (list === undefined) byRun.set(s.run, (list = []));
      list.push(s);
    }
    for (const id of dirtyIds) if (!byRun.has(id)) byRun.set(id, []);
    // Packed before the transaction opens: it stays short, and nothing can throw between the first
    // request and the last, which would let the transaction commit counters without their events.
    const packed = [...byRun].map(([id, list]) => ({
      id,
      events: list.map((s) => s.event),
      chunks: chunksOf(id, list),
    }));
    const tx = this.db.transaction(['runs', 'chunks'], 'readwrite', { durability: 'relaxed' });
    const runs = tx.objectStore('runs');
    const chunks = tx.objectStore('chunks');
    const now = this.now();
    const ops: Promise<unknown>[] = [];
    const deleted = new Set<string>();
    try {
      for (const p of packed) {
        const live = this.runs.get(p.id);
        const stored = await runs.get(p.id);
        let record: RunRecord;
        if (stored !== undefined) {
          record = { ...stored, ...pickMeta(live?.record) };
        } else if (live !== undefined && !live.stored) {
          record = { ...live.record };
        } else {
          // The user deleted this run while events for it were buffered: drop them.
          deleted.add(p.id);
          continue;
        }
        foldIntoRun(record, p.events, now);
        const m = metrics.get(p.id);
        if (m !== undefined) record.metrics = m;
        ops.push(runs.put(record));
        // `add`, not `put`: a chunk key is written once; a clash is a bug and must not overwrite.
        for (const chunk of p.chunks) ops.push(chunks.add(chunk));
      }
    } catch (e) {
      // All or nothing: requests already queued must not commit without the rest.
      for (const op of ops) op.catch(() => {});
      abortQuietly(tx);
      throw e;
    }
    try {
      await Promise.all([...ops, tx.done]);
    } catch (e) {
      // A request of an aborted transaction fails with AbortError; why it aborted (e.g. the
      // browser's QuotaExceededError) is the transaction's own error.
      throw tx.error ?? e;
    }
    for (const id of byRun.keys()) {
      const live = this.runs.get(id);
      if (live !== undefined) live.stored = !deleted.has(id);
      if (deleted.has(id)) this.forgetRun(id);
    }
  }
}

/** Aborts a transaction that may already have finished or aborted on its own. */
function abortQuietly(tx: { abort(): void; done: Promise<void> }): void {
  tx.done.catch(() => {});
  try {
    tx.abort();
  } catch {
    // InvalidStateError: it is no longer active, so it has already committed nothing more.
  }
}

/** Metadata the session may change after the run started; counters always come from storage. */
function pickMeta(r: RunRecord | undefined): Partial<RunRecord> {
  if (r === undefined) return {};
  return { label: r.label, device: r.device, pairId: r.pairId, dtype: r.dtype ?? null };
}

function toStoreError(e: unknown): Error {
  const name = e instanceof Error || e instanceof DOMException ? e.name : '';
  const message = e instanceof Error || e instanceof DOMException ? e.message : String(e);
  if (name === 'QuotaExceededError') {
    return new TraceStoreError(
      'Saving trace events failed: browser storage is full (QuotaExceededError). ' +
        'Delete old runs in the Traces panel or free disk space; unsaved events are kept and retried.',
    );
  }
  return new TraceStoreError(
    `Saving trace events to IndexedDB failed: ${message || name || 'unknown error'}.`,
  );
}
