import { describe, expect, it } from 'vitest';
import {
  analysisToJson,
  analyzeTrace,
  renderAnalysisMarkdown,
  renderAnalysisText,
  type TraceEvent,
} from '../../src/core/index.ts';
import { traceEvent } from './traceEventFixture.ts';

// Six events, hand-tallied below.
const EVENTS: TraceEvent[] = [
  traceEvent({
    ts: 1000.0,
    probe: 'delta_kl',
    view_id: 'base',
    wall_ms: 10,
    hit: false,
    batch_size: 2,
    prompt_hash: 'p1',
  }),
  traceEvent({
    ts: 1000.001,
    probe: 'delta_kl',
    view_id: 'base',
    wall_ms: 10,
    hit: false,
    batch_size: 2,
    prompt_hash: 'p2',
  }),
  traceEvent({
    ts: 1001.0,
    probe: 'delta_kl',
    view_id: 'ft',
    wall_ms: 30,
    hit: false,
    batch_size: 1,
    prompt_hash: 'p1',
  }),
  traceEvent({ ts: 1002.0, probe: 'delta_kl', view_id: 'base', wall_ms: 0.5, hit: true, prompt_hash: 'p1' }),
  traceEvent({
    ts: 1003.0,
    probe: null,
    view_id: 'ft',
    op: 'logprob_of',
    top_k: 0,
    wall_ms: 5,
    hit: false,
    prompt_hash: 'p3',
  }),
  traceEvent({
    ts: 999.5,
    probe: null,
    view_id: 'ft',
    op: 'logprob_of',
    top_k: 0,
    wall_ms: 0.25,
    hit: true,
    prompt_hash: 'p3',
  }),
];

describe('analyzeTrace', () => {
  const a = analyzeTrace(EVENTS, { slowest: 3 });

  it('totals: events, wall ms, hit rate, time range', () => {
    expect(a.events).toBe(6);
    expect(a.totalMs).toBeCloseTo(55.75, 10); // 10+10+30+0.5+5+0.25
    expect(a.hits).toBe(2);
    expect(a.misses).toBe(4);
    expect(a.hitRate).toBeCloseTo(2 / 6, 12);
    expect(a.firstTs).toBe(999.5);
    expect(a.lastTs).toBe(1003.0);
    expect(a.spanS).toBeCloseTo(3.5, 12);
  });

  it('per probe, null as <unassigned>, sorted by total ms descending', () => {
    expect(a.byProbe).toEqual([
      { name: 'delta_kl', events: 4, totalMs: 50.5, hits: 1, misses: 3, hitRate: 0.25 },
      { name: '<unassigned>', events: 2, totalMs: 5.25, hits: 1, misses: 1, hitRate: 0.5 },
    ]);
  });

  it('per view and per op', () => {
    expect(a.byView.map((g) => [g.name, g.events, g.totalMs, g.hits])).toEqual([
      ['ft', 3, 35.25, 1],
      ['base', 3, 20.5, 1],
    ]);
    expect(a.byOp.map((g) => [g.name, g.events, g.hitRate])).toEqual([
      ['next_token_dist', 4, 0.25],
      ['logprob_of', 2, 0.5],
    ]);
  });

  it('k slowest events, hits included', () => {
    expect(a.slowest.map((e) => e.wall_ms)).toEqual([30, 10, 10]);
    const all = analyzeTrace(EVENTS, { slowest: 10 });
    expect(all.slowest.map((e) => e.wall_ms)).toEqual([30, 10, 10, 5, 0.5, 0.25]);
  });

  it('hot prompts by prompt_hash frequency (seen more than once)', () => {
    expect(a.hotPrompts).toEqual([
      { promptHash: 'p1', count: 3, hits: 1 },
      { promptHash: 'p3', count: 2, hits: 1 },
    ]);
  });

  it('batch statistics from batch_size on misses', () => {
    // One batch of 2 (two events with batch_size 2) and one batch of 1.
    expect(a.batch).toEqual({
      batchedPrompts: 3,
      batches: 2,
      maxBatchSize: 2,
      avgBatchSize: 1.5,
      sizes: [
        { size: 1, batches: 1 },
        { size: 2, batches: 1 },
      ],
    });
  });

  it('an empty trace has zeros, not NaN', () => {
    const e = analyzeTrace([]);
    expect(e.events).toBe(0);
    expect(e.hitRate).toBe(0);
    expect(e.firstTs).toBeNull();
    expect(e.spanS).toBe(0);
    expect(e.batch.avgBatchSize).toBe(0);
    expect(renderAnalysisText(e)).toContain('events: 0');
  });

  it('renders text, markdown and JSON with fixed decimals', () => {
    const text = renderAnalysisText(a);
    expect(text).toContain('events: 6  total: 55.75 ms  hit rate: 33.3% (2/6)');
    expect(text).toMatch(/delta_kl\s+4\s+50\.50\s+1\s+3\s+25\.0%/);
    expect(text).toContain('batches: 2 (avg=1.5, max=2, prompts=3)');
    const md = renderAnalysisMarkdown(a);
    expect(md).toContain('| <unassigned> | 2 | 5.25 | 1 | 1 | 50.0% |');
    expect(md).toContain('## Hot prompts');
    const json = analysisToJson(a);
    expect(json.total_events).toBe(6);
    expect((json.per_view as { view_id: string }[])[0]!.view_id).toBe('ft');
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});
