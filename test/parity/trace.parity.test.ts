// The trace importer and analysis against sway's trace_analysis: its loader on single lines (valid,
// edge, invalid) → the event it builds or a skipped line, and build_report + render_json on seeded
// traces (fixtures from sway's suite/trace_analysis.py).
import { describe, expect, it } from 'vitest';
import { analysisToJson, analyzeTrace, parseTraceJsonl, type TraceEvent } from '../../src/core/index.ts';
import { fixture } from './parityHelpers.ts';

interface LoaderCase {
  line: string;
  blank?: boolean;
  accepted?: boolean;
  event?: Record<string, unknown>;
  sway_raises?: string;
  difference?: string;
}

const loader = fixture<{ cases: LoaderCase[] }>('trace_loader');
const FIELDS = ['ts', 'probe', 'view_id', 'prompt_hash', 'top_k', 'op', 'wall_ms', 'hit'] as const;

describe('trace import = sway trace_analysis.load', () => {
  it('has at least 200 lines', () => expect(loader.cases.length).toBeGreaterThanOrEqual(200));
  it.each(loader.cases.map((c, i) => [i, c.line.slice(0, 70), c] as const))('#%i %s', (_i, _l, c) => {
    const parsed = parseTraceJsonl(`${c.line}\n`);
    if (c.blank) {
      expect(parsed).toMatchObject({ events: [], skipped: 0 });
    } else if (!c.accepted || c.difference !== undefined) {
      // Refused by sway (skipped, or `payload.get` raising on a non-object), or one of the documented
      // stricter cases (non-string text fields, non-finite times): a skipped line here.
      expect(parsed.events).toEqual([]);
      expect(parsed.skipped).toBe(1);
    } else {
      expect(parsed.skipped).toBe(0);
      expect(parsed.events).toHaveLength(1);
      const e = parsed.events[0] as unknown as Record<string, unknown>;
      for (const k of FIELDS) expect(e[k], k).toStrictEqual(c.event![k]);
    }
  });

  it('accepts sway’s lenient spellings', () => {
    const one = (line: string) => parseTraceJsonl(line).events[0] as TraceEvent;
    expect(one('{"hit": 1}').hit).toBe(true);
    expect(one('{"top_k": "256", "wall_ms": "2.5"}')).toMatchObject({ top_k: 256, wall_ms: 2.5 });
    expect(parseTraceJsonl('{"top_k": "12.0"}\n{"wall_ms": null}\n[1]\n').skipped).toBe(3);
  });
});

const analysis = fixture<{
  cases: { slowest_k: number; events: TraceEvent[]; expected: Record<string, unknown> }[];
}>('trace_analysis');

describe('trace analysis = sway build_report + render_json', () => {
  it('has at least 200 traces, empty ones and ties included', () => {
    expect(analysis.cases.length).toBeGreaterThanOrEqual(200);
    expect(analysis.cases.some((c) => c.events.length === 0)).toBe(true);
  });

  it.each(analysis.cases.map((c, i) => [i, c.events.length, c] as const))('#%i (%i events)', (_i, _n, c) => {
    const json = analysisToJson(analyzeTrace(c.events, { slowest: c.slowest_k }));
    const sway = c.expected;
    for (const k of Object.keys(sway)) expect(json[k], k).toStrictEqual(sway[k]);
  });
});
