import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TRACE_FIELDS, encodeTraceLine, type TraceEvent } from '../../src/core/index.ts';
import { CHUNK_EVENTS, chunksOf, decodeChunk, encodeChunk } from '../../src/store/traceChunk.ts';

const extraValue = fc.oneof(fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.constant(null));

const traceEvent: fc.Arbitrary<TraceEvent> = fc
  .record({
    ts: fc.double(),
    probe: fc.option(fc.string(), { nil: null }),
    view_id: fc.constantFrom('base', 'ft', 'scaled_0.50', 'null_7'),
    prompt_hash: fc.string(),
    top_k: fc.oneof(fc.integer(), fc.constantFrom(2 ** 40, -(2 ** 52))),
    op: fc.constantFrom('next_token_dist', 'rolling_logprob', 'logprob_of'),
    wall_ms: fc.double(),
    hit: fc.boolean(),
    extras: fc.array(fc.tuple(fc.constantFrom('batch_size', 'run_id', 'device', 'zz', 'a b'), extraValue), {
      maxLength: 4,
    }),
  })
  .map(({ extras, ...sway }) => {
    const e: Record<string, unknown> = { ...sway };
    for (const [k, v] of extras) e[k] = v;
    return e as unknown as TraceEvent;
  });

describe('trace chunks', () => {
  it('round-trips events: sway fields bit-exact, extra keys in order as JSON, the same JSONL line', () => {
    fc.assert(
      fc.property(fc.array(traceEvent, { maxLength: 60 }), (events) => {
        const back = decodeChunk(structuredClone(encodeChunk('r', 0, events)));
        expect(back).toHaveLength(events.length);
        for (const [i, e] of events.entries()) {
          // Extra keys are stored as JSON text, so -0 / ±Infinity come back as the export writes them.
          const swayPart = Object.fromEntries(TRACE_FIELDS.map((k) => [k, e[k]]));
          const extraPart = Object.fromEntries(Object.entries(e).filter(([k]) => !(k in swayPart)));
          const expected = { ...swayPart, ...(JSON.parse(JSON.stringify(extraPart)) as object) };
          expect(Object.keys(back[i]!)).toEqual([...TRACE_FIELDS, ...Object.keys(extraPart)]);
          expect(back[i]).toStrictEqual(expected);
          expect(encodeTraceLine(back[i]!)).toBe(encodeTraceLine(e));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('stores repeated strings once per chunk, not once per event', () => {
    const events = Array.from(
      { length: 500 },
      (_, i): TraceEvent =>
        ({
          ts: i,
          probe: 'delta_kl',
          view_id: i % 2 ? 'base' : 'ft',
          prompt_hash: 'abc',
          top_k: 5,
          op: 'next_token_dist',
          wall_ms: 1,
          hit: false,
          batch_size: 16,
          run_id: 'run-1',
        }) as TraceEvent,
    );
    const c = encodeChunk('run-1', 0, events);
    expect(c.strings.sort()).toEqual(
      ['delta_kl', 'base', 'ft', 'abc', 'next_token_dist', '{"batch_size":16,"run_id":"run-1"}'].sort(),
    );
    expect(c.topK).toBeInstanceOf(Int32Array);
  });

  it('leaves out extra keys JSON cannot write instead of failing the flush', () => {
    const e = {
      ts: 1,
      probe: null,
      view_id: 'base',
      prompt_hash: 'h',
      top_k: 1,
      op: 'o',
      wall_ms: 1,
      hit: true,
      big: 1n,
      fn: () => 1,
      device: 'wasm',
    } as unknown as TraceEvent;
    expect(decodeChunk(encodeChunk('r', 0, [e]))[0]).toEqual({ ...e, big: undefined, fn: undefined });
    expect(Object.keys(decodeChunk(encodeChunk('r', 0, [e]))[0]!)).toContain('device');
  });

  it('splits into chunks of at most CHUNK_EVENTS keyed by their first seq, and refuses larger ones', () => {
    const ev = (i: number): TraceEvent => ({
      ts: i,
      probe: null,
      view_id: 'base',
      prompt_hash: `${i}`,
      top_k: 0,
      op: 'o',
      wall_ms: 0,
      hit: false,
    });
    const items = Array.from({ length: 2 * CHUNK_EVENTS + 3 }, (_, i) => ({ seq: 10 + i, event: ev(i) }));
    const chunks = chunksOf('r', items);
    expect(chunks.map((c) => [c.seq, c.count])).toEqual([
      [10, CHUNK_EVENTS],
      [10 + CHUNK_EVENTS, CHUNK_EVENTS],
      [10 + 2 * CHUNK_EVENTS, 3],
    ]);
    expect(chunks.flatMap(decodeChunk).map((e) => e.prompt_hash)).toEqual(
      items.map((s) => s.event.prompt_hash),
    );
    expect(() =>
      encodeChunk(
        'r',
        0,
        items.map((s) => s.event),
      ),
    ).toThrow(RangeError);
  });
});
