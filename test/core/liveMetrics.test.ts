import { describe, expect, it } from 'vitest';
import { LiveMetrics, Series, type TraceEvent } from '../../src/core/index.ts';

const ev = (ts: number, hit: boolean, over: Partial<TraceEvent> & { batch_size?: number } = {}): TraceEvent =>
  ({
    ts,
    probe: null,
    view_id: 'base',
    prompt_hash: 'h',
    top_k: 8,
    op: 'next_token_dist',
    wall_ms: 2,
    hit,
    ...over,
  }) as TraceEvent;

describe('LiveMetrics', () => {
  it('appends one hit-rate point per update: cumulative and rolling', () => {
    const m = new LiveMetrics();
    m.add([ev(100, false, { batch_size: 2 }), ev(100, false, { batch_size: 2 })]);
    m.add([ev(101, true), ev(101.5, true)]);
    expect(Array.from(m.hitT.view())).toEqual([0, 1.5]);
    expect(Array.from(m.hitCumulative.view())).toEqual([0, 0.5]);
    expect(m.lookups).toBe(4);
  });

  it('counts each batch once, with running average and max', () => {
    const m = new LiveMetrics();
    m.add([
      ev(1, false, { batch_size: 3, wall_ms: 10 }),
      ev(1, false, { batch_size: 3, wall_ms: 10 }),
      ev(1, false, { batch_size: 3, wall_ms: 10 }),
      ev(2, false, { batch_size: 1, wall_ms: 4, op: 'logprob_of' }),
    ]);
    expect(Array.from(m.batchSize.view())).toEqual([3, 1]);
    expect(Array.from(m.batchAvg.view())).toEqual([3, 2]);
    expect(Array.from(m.batchMax.view())).toEqual([3, 3]);
    // Batch latency is the whole batch's wall: 3 × 10 ms.
    expect(m.latencyByOperation()).toEqual([
      { op: 'logprob_of', count: 1, p50: 4, p95: 4, p99: 4 },
      { op: 'next_token_dist', count: 1, p50: 30, p95: 30, p99: 30 },
    ]);
  });

  it('ignores warm-up and circuit-breaker events (not lookups)', () => {
    const m = new LiveMetrics();
    m.add([ev(1, false, { op: 'warmup' }), ev(2, false, { op: 'breaker', view_id: 'gpu' })]);
    expect(m.lookups).toBe(0);
    expect(m.batches).toBe(0);
    expect(m.hitT.length).toBe(0);
  });

  it('latency percentiles interpolate linearly, as the reports do (one p95 everywhere)', () => {
    const m = new LiveMetrics();
    m.add([1, 2, 3, 4].map((w, i) => ev(i, false, { batch_size: 1, wall_ms: w })));
    // numpy: np.percentile([1, 2, 3, 4], [50, 95, 99]) == [2.5, 3.85, 3.97]; nearest rank gave 2, 4, 4.
    const [summary] = m.latencyByOperation();
    expect(summary!.p50).toBeCloseTo(2.5, 12);
    expect(summary!.p95).toBeCloseTo(3.85, 12);
    expect(summary!.p99).toBeCloseTo(3.97, 12);
    expect(m.latencyP95.last()).toBeCloseTo(3.85, 12);
  });

  it('Series grows', () => {
    const s = new Series(1);
    for (let i = 0; i < 10; i++) s.push(i);
    expect(Array.from(s.view())).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
