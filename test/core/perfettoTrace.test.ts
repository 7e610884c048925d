import { describe, expect, it } from 'vitest';
import { perfettoTraceChunks, type ChromeTraceEvent, type TraceEvent } from '../../src/core/index.ts';
import { traceEvent } from './traceEventFixture.ts';

const ev = (over: Parameters<typeof traceEvent>[0]): TraceEvent => traceEvent({ probe: 'delta_kl', ...over });

function parse(
  events: TraceEvent[],
  chunkEvents = 5000,
): { traceEvents: ChromeTraceEvent[]; displayTimeUnit: string } {
  const chunks = [...perfettoTraceChunks(events, { label: 'test' }, chunkEvents)];
  return JSON.parse(chunks.join('')) as { traceEvents: ChromeTraceEvent[]; displayTimeUnit: string };
}

describe('perfettoTraceChunks', () => {
  // A batch of 3 on base (each event has wall_ms = batch wall / 3 = 4 ms), then a hit, then a
  // single miss on ft.
  const events = [
    ev({ ts: 1000.0, prompt_hash: 'p1', wall_ms: 4, batch_size: 3 }),
    ev({ ts: 1000.0001, prompt_hash: 'p2', wall_ms: 4, batch_size: 3 }),
    ev({ ts: 1000.0002, prompt_hash: 'p3', wall_ms: 4, batch_size: 3 }),
    ev({ ts: 1000.5, prompt_hash: 'p1', wall_ms: 0.1, hit: true }),
    ev({ ts: 1001.0, view_id: 'ft', prompt_hash: 'p9', wall_ms: 20, op: 'logprob_of', top_k: 0 }),
  ];
  const trace = parse(events);
  const byPh = (ph: string) => trace.traceEvents.filter((e) => e.ph === ph);

  it('is the object form with displayTimeUnit ms', () => {
    expect(trace.displayTimeUnit).toBe('ms');
    expect(Array.isArray(trace.traceEvents)).toBe(true);
  });

  it('names the process and one thread per view', () => {
    const meta = byPh('M');
    expect(meta.find((m) => m.name === 'process_name')!.args!.name).toBe('deltascope — test');
    const threads = meta.filter((m) => m.name === 'thread_name').map((m) => [m.tid, m.args!.name]);
    expect(threads).toEqual([
      [1, 'base'],
      [2, 'ft'],
    ]);
  });

  it('merges one batch into one X slice that ends at ts and lasts the batch wall time', () => {
    const slices = byPh('X');
    expect(slices).toHaveLength(2);
    const batch = slices[0]!;
    expect(batch.tid).toBe(1);
    expect(batch.args).toMatchObject({
      batch_size: 3,
      op: 'next_token_dist',
      probe: 'delta_kl',
      prompts: ['p1', 'p2', 'p3'],
    });
    expect(batch.dur).toBeCloseTo(12_000, 3); // 3 × 4 ms, in µs
    expect(batch.ts).toBeCloseTo(1000.0 * 1e6 - 12_000, 0);
    const single = slices[1]!;
    expect(single.tid).toBe(2);
    expect(single.dur).toBeCloseTo(20_000, 3);
    expect(single.ts).toBeCloseTo(1001.0 * 1e6 - 20_000, 0);
  });

  it('hits are instants on their view thread', () => {
    const inst = byPh('i');
    expect(inst).toHaveLength(1);
    expect(inst[0]!.tid).toBe(1);
    expect(inst[0]!.s).toBe('t');
  });

  it('counter tracks for hit rate and batch size', () => {
    const counters = byPh('C');
    const hitRates = counters.filter((c) => c.name === 'cache hit rate').map((c) => c.args!.hit_rate);
    expect(hitRates[hitRates.length - 1]).toBeCloseTo(1 / 5, 4);
    const batch = counters.filter((c) => c.name === 'batch size base').map((c) => c.args!.prompts);
    expect(batch).toEqual([3, 0]);
  });

  it('gives the same JSON however the events are chunked', () => {
    expect(parse(events, 1)).toEqual(trace);
  });

  it('an empty trace is still valid JSON', () => {
    const empty = parse([]);
    expect(empty.traceEvents.filter((e) => e.ph !== 'M')).toEqual([]);
  });

  it('does not merge misses of different batches', () => {
    const t = parse([
      ev({ ts: 1000.0, prompt_hash: 'a', batch_size: 2 }),
      ev({ ts: 1000.0, prompt_hash: 'b', batch_size: 2 }),
      ev({ ts: 1000.0, prompt_hash: 'c', batch_size: 2 }),
      ev({ ts: 1000.0, prompt_hash: 'd', batch_size: 2 }),
      ev({ ts: 1005.0, prompt_hash: 'e', batch_size: 2 }),
    ]);
    const slices = t.traceEvents.filter((e) => e.ph === 'X');
    expect(slices.map((s) => (s.args!.prompts as string[]).length)).toEqual([2, 2, 1]);
  });
});
