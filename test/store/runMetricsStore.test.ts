import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeTraceJsonl, type TraceEvent } from '../../src/core/index.ts';
import { runMetricsFromJson, runMetricsOf as metricsOfEvents } from '../../src/core/runMetrics.ts';
import { openTraceDb, type TraceDb } from '../../src/store/traceDb.ts';
import { importJsonl } from '../../src/store/traceImport.ts';
import {
  listRuns,
  metricsHistory,
  perfettoChunks,
  readRunPages,
  runMetricsOf,
} from '../../src/store/traceStore.ts';
import { WriteBehindSink, type Scheduler } from '../../src/store/writeBehindSink.ts';

/** What a reload must see: the trace-derived numbers of the stored events, with the notes. */
let expectedAfterReload: ReturnType<typeof metricsOfEvents> | null = null;
const metricsAfterReload = (m: ReturnType<typeof metricsOfEvents>) => ({
  ...expectedAfterReload!,
  load_ms: m.load_ms,
  heap_peak_bytes: m.heap_peak_bytes,
  heap_source: m.heap_source,
});

const noTimer: Scheduler = () => () => {};

function ev(
  i: number,
  over: Partial<TraceEvent> & { batch_size?: number; tokens?: number } = {},
): TraceEvent {
  return {
    ts: 1000 + i / 100,
    probe: 'p',
    view_id: 'base',
    prompt_hash: `h${i}`,
    top_k: 5,
    op: i % 3 === 0 ? 'logprob_of' : 'next_token_dist',
    wall_ms: 1 + (i % 7),
    hit: i % 4 === 0,
    ...over,
  } as TraceEvent;
}

let db: TraceDb;
let name: string;
let dbCount = 0;
beforeEach(async () => {
  name = `metrics-test-${++dbCount}`;
  db = await openTraceDb(name);
});
afterEach(() => {
  db.close();
  vi.restoreAllMocks();
});

async function stored(runId: string): Promise<TraceEvent[]> {
  const out: TraceEvent[] = [];
  for await (const page of readRunPages(db, runId)) out.push(...page);
  return out;
}

describe('run metrics in the trace store', () => {
  it('each flush writes the run metrics in the same transaction as the events, covering exactly them', async () => {
    const sink = new WriteBehindSink(db, { schedule: noTimer });
    sink.startRun({ id: 'r1', label: 'demo' });
    const spy = vi.spyOn(IDBDatabase.prototype, 'transaction');
    for (let i = 0; i < 30; i++) sink.write(ev(i));
    await sink.flush();
    const writes = () => spy.mock.calls.filter((c) => c[1] === 'readwrite');
    expect(writes()).toHaveLength(1);
    expect(writes()[0]![0]).toEqual(['runs', 'chunks']);
    let [run] = await listRuns(db);
    expect(run!.metrics).toBeDefined();
    expect(run!.metrics!.lookups).toBe(30);
    // The metrics are those of the events stored with them (the store adds run_id, which they ignore).
    expect(run!.metrics).toEqual(metricsOfEvents(await stored('r1')));

    for (let i = 30; i < 50; i++) sink.write(ev(i));
    await sink.flush();
    expect(writes()).toHaveLength(2);
    [run] = await listRuns(db);
    expect(run!.metrics!.lookups).toBe(50);
    expect(run!.metrics).toEqual(metricsOfEvents(await stored('r1')));
  });

  it('a failed flush commits neither the events nor the metrics; the retry commits both', async () => {
    const sink = new WriteBehindSink(db, { schedule: noTimer });
    sink.startRun({ id: 'r1', label: 'x' });
    for (let i = 0; i < 4; i++) sink.write(ev(i));
    await sink.flush();
    const spy = vi.spyOn(IDBObjectStore.prototype, 'add').mockImplementationOnce(() => {
      throw new DOMException('cannot clone', 'DataCloneError');
    });
    for (let i = 4; i < 9; i++) sink.write(ev(i));
    await expect(sink.flush()).rejects.toThrow();
    let [run] = await listRuns(db);
    expect(run!.eventCount).toBe(4);
    expect(run!.metrics!.lookups).toBe(4);
    spy.mockRestore();
    await sink.flush();
    [run] = await listRuns(db);
    expect(run!.eventCount).toBe(9);
    expect(run!.metrics!.lookups).toBe(9);
  });

  it('a reload reads the stored metrics back, notes included', async () => {
    let heap = 100;
    const sink = new WriteBehindSink(db, {
      schedule: noTimer,
      sampleMemory: () => ({ heapBytes: (heap += 50), heapSource: 'test heap' }),
    });
    sink.startRun({ id: 'r1', label: 'x' });
    sink.noteRun('r1', { loadMs: 812 });
    for (let i = 0; i < 5; i++) sink.write(ev(i, { tokens: 3 }));
    await sink.flush();
    sink.write(ev(5, { tokens: 3 }));
    await sink.flush();
    db.close();

    db = await openTraceDb(name);
    expectedAfterReload = metricsOfEvents(await stored('r1'));
    const [run] = await listRuns(db);
    expect(run!.metrics).toEqual(metricsAfterReload(run!.metrics!));
    expect(run!.metrics).toMatchObject({
      load_ms: 812,
      heap_peak_bytes: 200,
      heap_source: 'test heap',
      tokens: 12,
    });
    expect(run!.metrics!.gpu_peak_bytes).toBeNull();
    const { metrics, origin } = await runMetricsOf(db, run!);
    expect(origin).toBe('stored');
    expect(runMetricsFromJson(JSON.parse(JSON.stringify(metrics)))).toEqual(metrics);
  });

  it('a note alone (no new event) is written with the next flush', async () => {
    const sink = new WriteBehindSink(db, { schedule: noTimer });
    sink.startRun({ id: 'r1', label: 'x' });
    sink.write(ev(1));
    await sink.flush();
    sink.noteRun('r1', { loadMs: 42 });
    await sink.flush();
    expect((await listRuns(db))[0]!.metrics!.load_ms).toBe(42);
  });

  it('an imported run (no stored metrics) gets them computed from its events', async () => {
    const events = Array.from({ length: 12 }, (_, i) => ev(i));
    const file = new File([encodeTraceJsonl(events)], 'sway.jsonl');
    const result = await importJsonl(db, file);
    const [run] = await listRuns(db);
    expect(run!.id).toBe(result.runId);
    expect(run!.metrics).toBeUndefined();
    const { metrics, origin } = await runMetricsOf(db, run!);
    expect(origin).toBe('computed');
    expect(metrics).toEqual(metricsOfEvents(events));
  });

  it('the history lists every run oldest first, JSON-safe, with where its metrics came from', async () => {
    let t = 1000;
    const sink = new WriteBehindSink(db, { schedule: noTimer, now: () => t });
    sink.startRun({ id: 'a', label: 'first' });
    sink.write(ev(1));
    t = 2000;
    sink.startRun({ id: 'b', label: 'second' });
    sink.write(ev(2));
    await sink.flush();
    const history = await metricsHistory(db, 5000);
    expect(history).toMatchObject({ schema: 'deltascope.metrics_history', version: 1 });
    expect(history.runs.map((r) => [r.run_id, r.label, r.metrics_origin, r.metrics.lookups])).toEqual([
      ['a', 'first', 'stored', 1],
      ['b', 'second', 'stored', 1],
    ]);
    expect(JSON.parse(JSON.stringify(history))).toEqual(history);
  });

  it('the Perfetto export carries the metrics in its metadata', async () => {
    const sink = new WriteBehindSink(db, { schedule: noTimer });
    sink.startRun({ id: 'r1', label: 'x' });
    for (let i = 0; i < 6; i++) sink.write(ev(i));
    await sink.flush();
    const [run] = await listRuns(db);
    let text = '';
    for await (const c of perfettoChunks(db, 'r1', 'x', { deltascope_run_metrics: run!.metrics })) text += c;
    const parsed = JSON.parse(text) as { metadata: { deltascope_run_metrics: unknown } };
    expect(parsed.metadata.deltascope_run_metrics).toEqual(run!.metrics);
  });
});
