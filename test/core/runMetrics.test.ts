import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BackendInstrumentation,
  MemoryTraceSink,
  PerfettoEncoder,
  TRACE_FIELDS,
  encodeTraceJsonl,
  encodeTraceLine,
  parseTraceJsonl,
  quantileSorted,
  type TraceEvent,
} from '../../src/core/index.ts';
import {
  Reservoir,
  RunMetricsTracker,
  reservoirRankError,
  runMetricsFromJson,
  runMetricsOf,
  type RunMetrics,
} from '../../src/core/runMetrics.ts';
import { fromJsonReport, toJsonReport } from '../../src/suite/reports/json.ts';
import { fixtureResult } from '../suite/reportFixture.ts';
import { traceEvent } from './traceEventFixture.ts';

type Extra = { batch_size?: number; tokens?: number };
const ev = (over: Partial<TraceEvent> & Extra = {}): TraceEvent => traceEvent(over);

/** Every number anywhere in the metrics is finite (or the value is null). */
function expectJsonSafe(m: RunMetrics): void {
  const walk = (v: unknown): void => {
    if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
  };
  walk(m);
  expect(JSON.parse(JSON.stringify(m))).toEqual(m);
}

describe('RunMetricsTracker', () => {
  it('no sample: counts are 0, every rate and percentile is null', () => {
    const m = new RunMetricsTracker().snapshot();
    expect(m).toMatchObject({
      lookups: 0,
      hits: 0,
      misses: 0,
      hit_rate: null,
      forward_batches: 0,
      peak_batch: null,
      busy_s: 0,
      span_s: 0,
      prompts_per_s: null,
      tokens: 0,
      tokens_per_s: null,
      load_ms: null,
      heap_peak_bytes: null,
      gpu_peak_bytes: null,
      ops: [],
    });
    expectJsonSafe(m);
  });

  it('one sample: every percentile is that sample, exact, no rank error', () => {
    const m = runMetricsOf([ev({ ts: 10, wall_ms: 7, tokens: 5 })]);
    expect(m.ops).toEqual([
      {
        op: 'next_token_dist',
        samples: 1,
        retained: 1,
        exact: true,
        p50_ms: 7,
        p95_ms: 7,
        p99_ms: 7,
        min_ms: 7,
        max_ms: 7,
        mean_ms: 7,
        rank_error: { p50: 0, p95: 0, p99: 0 },
      },
    ]);
    expect(m.lookups).toBe(1);
    expect(m.hit_rate).toBe(0);
    expect(m.peak_batch).toBe(1);
    expect(m.busy_s).toBeCloseTo(0.007, 12);
    expect(m.prompts_per_s).toBeCloseTo(1 / 0.007, 9);
    expect(m.tokens_per_s).toBeCloseTo(5 / 0.007, 9);
    expectJsonSafe(m);
  });

  it('zero durations: percentiles 0, rates null (no division by zero), nothing NaN or infinite', () => {
    const events = [
      ev({ ts: 5, wall_ms: 0, batch_size: 2, tokens: 3 }),
      ev({ ts: 5, wall_ms: 0, batch_size: 2, tokens: 3 }),
      ev({ ts: 5, wall_ms: 0, hit: true }),
    ];
    const m = runMetricsOf(events);
    expect(m.ops[0]).toMatchObject({ samples: 1, p50_ms: 0, p95_ms: 0, p99_ms: 0, mean_ms: 0 });
    expect(m.busy_s).toBe(0);
    expect(m.prompts_per_s).toBeNull();
    expect(m.tokens).toBe(6);
    expect(m.tokens_per_s).toBeNull();
    expect(m.hit_rate).toBeCloseTo(1 / 3, 12);
    expectJsonSafe(m);
  });

  it('a batch is one sample of the whole batch wall; hits are lookups but not samples', () => {
    const m = runMetricsOf([
      ev({ ts: 1.0, wall_ms: 10, batch_size: 3, tokens: 4 }),
      ev({ ts: 1.0, wall_ms: 10, batch_size: 3, tokens: 4 }),
      ev({ ts: 1.0, wall_ms: 10, batch_size: 3, tokens: 4 }),
      ev({ ts: 1.5, wall_ms: 0.1, hit: true }),
      ev({ ts: 2.0, wall_ms: 4, op: 'logprob_of' }),
    ]);
    expect(m.ops.map((o) => [o.op, o.samples, o.p50_ms])).toEqual([
      ['logprob_of', 1, 4],
      ['next_token_dist', 1, 30],
    ]);
    expect(m.forward_batches).toBe(2);
    expect(m.peak_batch).toBe(3);
    expect(m.lookups).toBe(5);
    expect(m.hits).toBe(1);
    // Busy: [0.97, 1.0] + [1.4999, 1.5] + [1.996, 2.0].
    expect(m.busy_s).toBeCloseTo(0.03 + 0.0001 + 0.004, 12);
    expect(m.span_s).toBeCloseTo(2.0 - 0.97, 12);
    // 12 tokens over the batch's 30 ms of forward time.
    expect(m.tokens).toBe(12);
    expect(m.token_misses).toBe(3);
    expect(m.tokens_per_s).toBeCloseTo(12 / 0.03, 9);
  });

  it('overlapping lookups count their union once as busy time', () => {
    const m = runMetricsOf([
      ev({ ts: 1.0, wall_ms: 100, view_id: 'base' }),
      ev({ ts: 1.05, wall_ms: 100, view_id: 'ft' }),
    ]);
    expect(m.busy_s).toBeCloseTo(0.15, 12);
  });

  it('warm-ups have their own latency row but are not lookups, batches or busy time', () => {
    const m = runMetricsOf([ev({ op: 'warmup', wall_ms: 300 }), ev({ ts: 1001, wall_ms: 2 })]);
    expect(m.ops.map((o) => o.op)).toEqual(['next_token_dist', 'warmup']);
    expect(m.lookups).toBe(1);
    expect(m.forward_batches).toBe(1);
    expect(m.busy_s).toBeCloseTo(0.002, 12);
  });

  it('notes: load time, heap and GPU peaks; unknown stays null', () => {
    const t = new RunMetricsTracker();
    t.note({ loadMs: 1234, heapBytes: 10, heapSource: 'performance.memory' });
    t.note({ heapBytes: 30 });
    t.note({ heapBytes: 20, gpuBytes: null, loadMs: Number.NaN });
    const m = t.snapshot();
    expect(m.load_ms).toBe(1234);
    expect(m.heap_peak_bytes).toBe(30);
    expect(m.heap_source).toBe('performance.memory');
    expect(m.gpu_peak_bytes).toBeNull();
    expect(m.gpu_source).toBeNull();
  });

  it('non-finite and negative walls never reach the metrics as NaN', () => {
    const m = runMetricsOf([ev({ wall_ms: Number.NaN }), ev({ wall_ms: -3, ts: Number.POSITIVE_INFINITY })]);
    expectJsonSafe(m);
    expect(m.ops[0]!.p50_ms).toBe(0);
  });

  it('percentiles use quantileSorted (numpy linear interpolation): one definition with the live charts', () => {
    const m = runMetricsOf([1, 2, 3, 4].map((w, i) => ev({ ts: i, wall_ms: w })));
    expect(m.ops[0]!.p50_ms).toBeCloseTo(2.5, 12);
    expect(m.ops[0]!.p95_ms).toBeCloseTo(3.85, 12);
    expect(m.ops[0]!.p99_ms).toBeCloseTo(3.97, 12);
  });

  it('is deterministic: the same events give the same metrics (seeded reservoir)', () => {
    const events = Array.from({ length: 500 }, (_, i) => ev({ ts: i, wall_ms: (i * 7919) % 101 }));
    expect(runMetricsOf(events, { reservoirSize: 32 })).toEqual(runMetricsOf(events, { reservoirSize: 32 }));
  });

  it('reads back from JSON; a foreign value is not metrics', () => {
    const m = runMetricsOf([ev({ wall_ms: 3 }), ev({ ts: 1001, hit: true })]);
    expect(runMetricsFromJson(JSON.parse(JSON.stringify(m)))).toEqual(m);
    expect(runMetricsFromJson({ lookups: 3 })).toBeNull();
    expect(runMetricsFromJson(null)).toBeNull();
  });
});

describe('bounded memory: reservoir per op', () => {
  const K = 64;
  const walls = fc.array(fc.double({ min: 0, max: 1e4, noNaN: true }), {
    minLength: 0,
    maxLength: 3000,
    size: 'max',
  });
  const order = fc.constantFrom<'as-is' | 'ascending' | 'descending'>('as-is', 'ascending', 'descending');

  it('never holds more than K samples per op, however long the run', () => {
    fc.assert(
      fc.property(
        walls,
        fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 3000, size: 'max' }),
        (ws, ops) => {
          const t = new RunMetricsTracker({ reservoirSize: K });
          ws.forEach((w, i) => t.add(ev({ ts: i, wall_ms: w, op: ops[i % ops.length]! })));
          for (const held of t.retainedByOp().values()) expect(held).toBeLessThanOrEqual(K);
          for (const o of t.snapshot().ops) expect(o.retained).toBeLessThanOrEqual(K);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('exact up to K samples; beyond, each percentile within its stated rank error', () => {
    fc.assert(
      fc.property(walls, order, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (ws, ord, seed) => {
        const data =
          ord === 'ascending'
            ? [...ws].sort((a, b) => a - b)
            : ord === 'descending'
              ? [...ws].sort((a, b) => b - a)
              : ws;
        const m = runMetricsOf(
          data.map((w, i) => ev({ ts: i, wall_ms: w })),
          { reservoirSize: K, seed },
        );
        if (data.length === 0) {
          expect(m.ops).toEqual([]);
          return;
        }
        const sorted = Float64Array.from(data).sort();
        const op = m.ops[0]!;
        expect(op.samples).toBe(data.length);
        for (const [q, key, errKey] of [
          [0.5, 'p50_ms', 'p50'],
          [0.95, 'p95_ms', 'p95'],
          [0.99, 'p99_ms', 'p99'],
        ] as const) {
          const got = op[key]!;
          if (data.length <= K) {
            expect(op.exact).toBe(true);
            expect(got).toBe(quantileSorted(sorted, q));
            continue;
          }
          expect(op.exact).toBe(false);
          expect(op.rank_error[errKey]).toBe(reservoirRankError(q, K, data.length));
          // The stated bound holds with 99 %; the test checks it at 1 − 1e-9 so that it never flakes,
          // while a biased sample (e.g. the first K of a sorted stream) still fails it by far.
          const eps = reservoirRankError(q, K, data.length, 1e-9);
          const below = lowerBound(sorted, got) / data.length;
          const atOrBelow = upperBound(sorted, got) / data.length;
          expect(atOrBelow).toBeGreaterThanOrEqual(q - eps - 1 / K);
          expect(below).toBeLessThanOrEqual(q + eps + 1 / K);
        }
      }),
      { numRuns: 80 },
    );
  });

  it('the stated rank error shrinks with K and is 0 while exact', () => {
    expect(reservoirRankError(0.99, 4096, 4096)).toBe(0);
    expect(reservoirRankError(0.99, 4096, 1e6)).toBeLessThan(0.007);
    expect(reservoirRankError(0.5, 4096, 1e6)).toBeLessThan(0.03);
    expect(reservoirRankError(0.5, 1024, 1e6)).toBeGreaterThan(reservoirRankError(0.5, 4096, 1e6));
  });

  it('Reservoir refuses a capacity below 1 and grows its buffer only up to capacity', () => {
    expect(() => new Reservoir(0, 1)).toThrow(RangeError);
    const r = new Reservoir(100, 1);
    for (let i = 0; i < 10_000; i++) r.add(i);
    expect(r.allocated).toBe(100);
    expect(r.retained).toBe(100);
    expect(r.seen).toBe(10_000);
  });
});

function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

describe('RunMetricsTracker: events that are not lookups', () => {
  it('skips circuit-breaker state changes entirely', () => {
    const m = runMetricsOf([
      ev({ op: 'breaker', view_id: 'gpu', top_k: 0, wall_ms: 0 }),
      ev({ ts: 1001, wall_ms: 2 }),
    ]);
    expect(m.ops.map((o) => o.op)).toEqual(['next_token_dist']);
    expect(m.lookups).toBe(1);
  });
});

describe('the tokens key: instrumentation → JSONL → Perfetto', () => {
  async function traced(): Promise<TraceEvent[]> {
    const sink = new MemoryTraceSink();
    let t = 1_000_000;
    const inst = new BackendInstrumentation({ trace: sink, now: () => (t += 1) });
    // Tokens from the caller, per prompt index.
    await inst.cachedBatch(
      'next_token_dist',
      'base',
      ['a', 'bb', 'ccc'],
      8,
      async (miss) => miss.map((i) => i),
      {
        tokens: (i) => i + 2,
      },
    );
    // A value that says its own length (RollingLogprob's numTokens) needs no callback.
    await inst.cachedBatch('rolling_logprob', 'ft', ['x y z'], 0, async () => [{ numTokens: 7 }]);
    // A hit carries no tokens; nor does a miss whose count is unknown.
    await inst.cachedBatch('next_token_dist', 'base', ['a'], 8, async () => [0]);
    await inst.cachedBatch('logprob_of', 'base', ['p'], 0, async () => [1.5]);
    return sink.events;
  }

  it('miss events carry tokens after sway keys; hits and unknown counts carry none', async () => {
    const events = (await traced()) as (TraceEvent & { tokens?: number })[];
    expect(events.map((e) => [e.op, e.hit, e.tokens])).toEqual([
      ['next_token_dist', false, 2],
      ['next_token_dist', false, 3],
      ['next_token_dist', false, 4],
      ['rolling_logprob', false, 7],
      ['next_token_dist', true, undefined],
      ['logprob_of', false, undefined],
    ]);
    const line = encodeTraceLine(events[0]!);
    expect(Object.keys(JSON.parse(line) as object)).toEqual([...TRACE_FIELDS, 'batch_size', 'tokens']);
  });

  it('the JSONL codec keeps it, and metrics recomputed from the JSONL equal the live ones', async () => {
    const events = await traced();
    const live = runMetricsOf(events);
    const back = parseTraceJsonl(encodeTraceJsonl(events));
    expect(back.skipped).toBe(0);
    expect((back.events[3] as TraceEvent & { tokens?: number }).tokens).toBe(7);
    expect(runMetricsOf(back.events)).toEqual(live);
    expect(live.tokens).toBe(16);
    expect(live.token_misses).toBe(4);
  });

  it('Perfetto slices sum the batch tokens in args; metrics go in the top-level metadata', async () => {
    const events = await traced();
    const enc = new PerfettoEncoder();
    const metrics = runMetricsOf(events);
    const json = JSON.parse(
      enc.begin() + enc.push(events) + enc.end({ deltascope_run_metrics: metrics }),
    ) as {
      traceEvents: { ph: string; name: string; args?: Record<string, unknown> }[];
      metadata: Record<string, unknown>;
    };
    const slices = json.traceEvents.filter((e) => e.ph === 'X');
    expect(slices.map((s) => [s.name, s.args?.tokens])).toEqual([
      ['next_token_dist ×3', 9],
      ['rolling_logprob', 7],
      ['logprob_of', undefined],
    ]);
    expect(json.metadata.deltascope_run_metrics).toEqual(metrics);
  });
});

describe('metrics in the suite JSON report', () => {
  it('writes a metrics key when the result has metrics; reads it back; older reports still load', () => {
    const metrics = runMetricsOf([ev({ wall_ms: 4 }), ev({ ts: 1001, hit: true })]);
    const withMetrics = { ...fixtureResult(), metrics };
    const text = toJsonReport(withMetrics);
    expect((JSON.parse(text) as { metrics: unknown }).metrics).toEqual(JSON.parse(JSON.stringify(metrics)));
    expect(fromJsonReport(text).metrics).toEqual(metrics);
    // A report without metrics (older deltascope, sway) has none; a malformed value is dropped.
    const old = toJsonReport(fixtureResult());
    expect(old).not.toContain('"metrics"');
    expect(fromJsonReport(old).metrics).toBeUndefined();
    const bad = JSON.parse(old) as Record<string, unknown>;
    bad.metrics = { lookups: 'many' };
    expect(fromJsonReport(JSON.stringify(bad)).metrics).toBeUndefined();
  });
});
