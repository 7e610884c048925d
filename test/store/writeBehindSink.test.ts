import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TraceEvent } from '../../src/core/index.ts';
import { openTraceDb, type TraceDb } from '../../src/store/traceDb.ts';
import { listRuns, readRunPages } from '../../src/store/traceStore.ts';
import { WriteBehindSink, type Scheduler } from '../../src/store/writeBehindSink.ts';
import { CHUNK_EVENTS } from '../../src/store/traceChunk.ts';

/** A scheduler the test fires by hand; records the delays it was asked for. */
function manualScheduler() {
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  const schedule: Scheduler = (fn, ms) => {
    const t = { fn, ms, cancelled: false };
    timers.push(t);
    return () => {
      t.cancelled = true;
    };
  };
  const fire = () => {
    for (const t of timers.splice(0)) if (!t.cancelled) t.fn();
  };
  const armed = () => timers.filter((t) => !t.cancelled);
  return { schedule, fire, armed };
}

function ev(i: number, hit = false): TraceEvent {
  return {
    ts: 1000 + i / 1000,
    probe: 'p',
    view_id: i % 2 === 0 ? 'base' : 'ft',
    prompt_hash: `h${i}`,
    top_k: 5,
    op: 'next_token_dist',
    wall_ms: 2,
    hit,
  };
}

let db: TraceDb;
let dbCount = 0;
beforeEach(async () => {
  db = await openTraceDb(`wb-test-${++dbCount}`);
});
afterEach(() => {
  db.close();
  vi.restoreAllMocks();
});

async function allEvents(runId: string): Promise<TraceEvent[]> {
  const out: TraceEvent[] = [];
  for await (const page of readRunPages(db, runId, 7)) out.push(...page);
  return out;
}

describe('WriteBehindSink', () => {
  it('flushes after 250 ms in ONE relaxed readwrite transaction and updates the run counters', async () => {
    const clock = manualScheduler();
    const sink = new WriteBehindSink(db, { schedule: clock.schedule, now: () => 5000 });
    sink.startRun({ id: 'r1', label: 'demo', pairId: 'demo:x' });
    const spy = vi.spyOn(IDBDatabase.prototype, 'transaction');
    for (let i = 0; i < 10; i++) sink.write(ev(i, i % 5 === 0));
    expect(clock.armed().map((t) => t.ms)).toEqual([250]);
    expect(spy).not.toHaveBeenCalled();
    clock.fire();
    await sink.flush();
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.calls[0]![1]).toBe('readwrite');
    expect(spy.mock.calls[0]![2]).toEqual({ durability: 'relaxed' });
    const [run] = await listRuns(db);
    expect(run).toMatchObject({
      id: 'r1',
      label: 'demo',
      eventCount: 10,
      hits: 2,
      totalMs: 20,
      firstTs: 1000,
    });
    expect(run!.lastTs).toBeCloseTo(1000.009, 9);
    const stored = await allEvents('r1');
    expect(stored).toHaveLength(10);
    expect(stored[3]).toEqual({ ...ev(3), run_id: 'r1' });
  });

  it('flushes at 500 events without waiting for the timer', async () => {
    const clock = manualScheduler();
    const sink = new WriteBehindSink(db, { schedule: clock.schedule });
    sink.startRun({ id: 'r1', label: 'x' });
    const spy = vi.spyOn(IDBDatabase.prototype, 'transaction');
    for (let i = 0; i < 499; i++) sink.write(ev(i));
    expect(spy).not.toHaveBeenCalled();
    sink.write(ev(499));
    // The 500th event started the flush itself and cancelled the 250 ms timer.
    expect(clock.armed()).toEqual([]);
    await sink.flush();
    expect(spy).toHaveBeenCalledTimes(1);
    expect((await listRuns(db))[0]!.eventCount).toBe(500);
    // The whole flush is one record, not 500.
    expect(await db.count('chunks')).toBe(1);
    for (let i = 500; i < 1250; i++) sink.write(ev(i));
    await sink.flush();
    // 500 → flush, 1000 → flush, the last 250 by the explicit flush (listRuns read in between).
    expect(spy.mock.calls.filter((c) => c[1] === 'readwrite')).toHaveLength(3);
    expect(await db.count('chunks')).toBe(3);
    expect((await allEvents('r1')).map((e) => e.prompt_hash)).toEqual(
      Array.from({ length: 1250 }, (_, i) => `h${i}`),
    );
  });

  it('a failed flush loses nothing already committed, keeps its events, reports the error and retries', async () => {
    const clock = manualScheduler();
    const errors: Error[] = [];
    const sink = new WriteBehindSink(db, { schedule: clock.schedule, onError: (e) => errors.push(e) });
    sink.startRun({ id: 'r1', label: 'x' });
    for (let i = 0; i < 3; i++) sink.write(ev(i));
    await sink.flush();
    const real = IDBDatabase.prototype.transaction;
    const spy = vi.spyOn(IDBDatabase.prototype, 'transaction').mockImplementationOnce(() => {
      throw new DOMException('disk full', 'QuotaExceededError');
    });
    for (let i = 3; i < 6; i++) sink.write(ev(i));
    await expect(sink.flush()).rejects.toThrow(/storage is full/);
    expect(errors).toHaveLength(1);
    expect(sink.status()).toMatchObject({ pending: 3, written: 3 });
    expect(sink.status().lastError).toMatch(/QuotaExceededError/);
    expect((await listRuns(db))[0]!.eventCount).toBe(3);
    spy.mockImplementation(real);
    sink.write(ev(6));
    await sink.flush();
    expect(sink.status()).toMatchObject({ pending: 0, written: 7, lastError: null });
    expect((await allEvents('r1')).map((e) => e.prompt_hash)).toEqual([
      'h0',
      'h1',
      'h2',
      'h3',
      'h4',
      'h5',
      'h6',
    ]);
    expect((await listRuns(db))[0]!.eventCount).toBe(7);
  });

  it('a big flush is still one transaction, split into chunks of at most CHUNK_EVENTS per run', async () => {
    const clock = manualScheduler();
    const sink = new WriteBehindSink(db, { schedule: clock.schedule, maxEvents: 100_000 });
    sink.startRun({ id: 'a', label: 'a' });
    for (let i = 0; i < CHUNK_EVENTS + 1; i++) sink.write(ev(i));
    sink.startRun({ id: 'b', label: 'b' });
    for (let i = 0; i < 2 * CHUNK_EVENTS + 5; i++) sink.write(ev(i, i % 2 === 0));
    const spy = vi.spyOn(IDBDatabase.prototype, 'transaction');
    await sink.flush();
    expect(spy).toHaveBeenCalledTimes(1);
    const chunks = await db.getAll('chunks');
    expect(chunks.map((c) => [c.run, c.seq, c.count])).toEqual([
      ['a', 0, CHUNK_EVENTS],
      ['a', CHUNK_EVENTS, 1],
      ['b', 0, CHUNK_EVENTS],
      ['b', CHUNK_EVENTS, CHUNK_EVENTS],
      ['b', 2 * CHUNK_EVENTS, 5],
    ]);
    const runs = await listRuns(db);
    expect(runs.map((r) => [r.id, r.eventCount, r.hits])).toEqual([
      ['b', 2 * CHUNK_EVENTS + 5, CHUNK_EVENTS + 3],
      ['a', CHUNK_EVENTS + 1, 0],
    ]);
    expect((await allEvents('b')).map((e) => e.prompt_hash)).toEqual(
      Array.from({ length: 2 * CHUNK_EVENTS + 5 }, (_, i) => `h${i}`),
    );
  });

  it('a flush failing inside its transaction commits nothing, not even the counters', async () => {
    const clock = manualScheduler();
    const sink = new WriteBehindSink(db, { schedule: clock.schedule });
    sink.startRun({ id: 'r1', label: 'x' });
    for (let i = 0; i < 4; i++) sink.write(ev(i, true));
    await sink.flush();
    // The chunk write fails after the run record's put was queued in the same transaction.
    const spy = vi.spyOn(IDBObjectStore.prototype, 'add').mockImplementationOnce(() => {
      throw new DOMException('cannot clone', 'DataCloneError');
    });
    for (let i = 4; i < 9; i++) sink.write(ev(i, true));
    await expect(sink.flush()).rejects.toThrow(/DataCloneError|cannot clone/);
    expect(spy).toHaveBeenCalled();
    expect((await listRuns(db))[0]).toMatchObject({ eventCount: 4, hits: 4 });
    expect(await allEvents('r1')).toHaveLength(4);
    spy.mockRestore();
    await sink.flush();
    expect((await listRuns(db))[0]).toMatchObject({ eventCount: 9, hits: 9 });
    expect((await allEvents('r1')).map((e) => e.prompt_hash)).toEqual(
      Array.from({ length: 9 }, (_, i) => `h${i}`),
    );
  });

  it('each startRun begins a new run; metadata set later is stored', async () => {
    const clock = manualScheduler();
    let t = 1000;
    const sink = new WriteBehindSink(db, { schedule: clock.schedule, now: () => t });
    sink.startRun({ id: 'a', label: 'first' });
    sink.write(ev(0));
    t = 2000;
    sink.startRun({ id: 'b', label: 'second' });
    sink.write(ev(1));
    sink.write(ev(2));
    sink.updateRun('b', { device: 'wasm' });
    await sink.flush();
    const runs = await listRuns(db);
    expect(runs.map((r) => [r.id, r.eventCount, r.device])).toEqual([
      ['b', 2, 'wasm'],
      ['a', 1, null],
    ]);
    expect((await allEvents('b')).map((e) => (e as unknown as { run_id: string }).run_id)).toEqual([
      'b',
      'b',
    ]);
  });

  it('buffered events of a forgotten (deleted) run are not written', async () => {
    const clock = manualScheduler();
    const sink = new WriteBehindSink(db, { schedule: clock.schedule });
    sink.startRun({ id: 'gone', label: 'x' });
    sink.write(ev(0));
    sink.forgetRun('gone');
    await sink.flush();
    expect(await listRuns(db)).toEqual([]);
  });
});
