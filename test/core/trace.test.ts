// Counterparts of sway's TestTraceWriter (seed 000), plus the JSONL codec.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BackendInstrumentation,
  MAX_LISTED_SKIPPED_LINES,
  MAX_TRACE_LINE_CHARS,
  MemoryTraceSink,
  TRACE_FIELDS,
  TraceJsonlReader,
  describeSkippedLines,
  encodeTraceJsonl,
  encodeTraceLine,
  noopTraceSink,
  parseTraceJsonl,
  promptHash,
  readTraceJsonl,
  type TraceEvent,
} from '../../src/core/index.ts';

const ev = (over: Partial<TraceEvent> = {}): TraceEvent => ({
  ts: 1.23,
  probe: 'dk',
  view_id: 'base',
  prompt_hash: 'abc',
  top_k: 32,
  op: 'next_token_dist',
  wall_ms: 0.75,
  hit: false,
  ...over,
});

describe('trace (sway TestTraceWriter)', () => {
  it('test_disabled_is_noop: instrumentation with no sink builds no events', async () => {
    const inst = new BackendInstrumentation();
    expect(inst.trace).toBe(noopTraceSink);
    noopTraceSink.write(ev()); // accepts and drops
    await inst.cached('op', 'base', 'p', 0, async () => 1);
    expect(inst.stats.cacheMisses).toBe(1);
    // Swapping in a sink afterwards only sees later events.
    const sink = new MemoryTraceSink();
    inst.trace = sink;
    await inst.cached('op', 'base', 'p', 0, async () => 1);
    expect(sink.events).toHaveLength(1);
  });

  it('test_enabled_writes_jsonl', () => {
    const text = encodeTraceJsonl([ev(), ev({ ts: 1.24, wall_ms: 0.01, hit: true })]);
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!);
    expect(first.probe).toBe('dk');
    expect(first.view_id).toBe('base');
    expect(first.op).toBe('next_token_dist');
    expect(first.hit).toBe(false);
    expect(JSON.parse(lines[1]!).hit).toBe(true);
  });

  it('test_instrumentation_end_to_end_trace', async () => {
    const sink = new MemoryTraceSink();
    const inst = new BackendInstrumentation();
    inst.trace = sink;
    inst.setCurrentProbe('my_probe');
    await inst.cached('next_token_dist', 'base', 'the capital', 16, async () => 'computed');
    await inst.cached('next_token_dist', 'base', 'the capital', 16, async () => 'computed');
    await inst.close();
    const events = parseTraceJsonl(encodeTraceJsonl(sink.events)).events;
    expect(events).toHaveLength(2);
    expect(events[0]!.probe).toBe('my_probe');
    expect(events[0]!.hit).toBe(false);
    expect(events[1]!.hit).toBe(true);
    expect(events[0]!.prompt_hash).toBe(promptHash('the capital'));
    expect(events[0]!.top_k).toBe(16);
  });
});

describe('JSONL codec', () => {
  it("writes sway's eight keys first, in order, with Python's separators and float style", () => {
    const line = encodeTraceLine({ ...ev({ ts: 2, wall_ms: 3 }), batch_size: 4 } as TraceEvent);
    expect(line).toBe(
      '{"ts": 2.0, "probe": "dk", "view_id": "base", "prompt_hash": "abc", "top_k": 32, ' +
        '"op": "next_token_dist", "wall_ms": 3.0, "hit": false, "batch_size": 4}',
    );
    expect(Object.keys(JSON.parse(line)).slice(0, 8)).toEqual([...TRACE_FIELDS]);
  });

  it('round-trips arbitrary events, extras included', () => {
    const eventArb = fc.record({
      ts: fc.double({ min: 0, max: 2e9, noNaN: true }),
      probe: fc.option(fc.string(), { nil: null }),
      view_id: fc.constantFrom('base', 'ft', 'scaled_0.50', 'null_3'),
      prompt_hash: fc.stringMatching(/^[0-9a-f]{12}$/),
      top_k: fc.integer({ min: 0, max: 100_000 }),
      op: fc.constantFrom('next_token_dist', 'rolling_logprob', 'logprob_of'),
      wall_ms: fc.double({ min: 0, max: 1e6, noNaN: true }),
      hit: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 20 }), (events) => {
        const parsed = parseTraceJsonl(encodeTraceJsonl(events));
        expect(parsed.skipped).toBe(0);
        expect(parsed.events).toEqual(events);
      }),
    );
    const withExtra = { ...ev(), run_id: 'r1', device: 'webgpu' } as TraceEvent;
    expect(parseTraceJsonl(encodeTraceJsonl([withExtra])).events[0]).toEqual(withExtra);
  });

  it('skips blank and malformed lines and reports how many, with line numbers', () => {
    const good = encodeTraceLine(ev());
    const text = [good, '', '   ', '{not json', '[1,2]', '{"op": 3, "view_id": "base"}', good, '"str"'].join(
      '\n',
    );
    const parsed = parseTraceJsonl(text);
    expect(parsed.events).toHaveLength(2);
    expect(parsed.skipped).toBe(4);
    expect(parsed.skippedLines).toEqual([4, 5, 6, 8]);
  });

  it("fills sway's defaults for missing fields", () => {
    const parsed = parseTraceJsonl('{"view_id": "ft", "op": "logprob_of", "wall_ms": 2.5}\n');
    expect(parsed.events[0]).toEqual({
      ts: 0,
      probe: null,
      view_id: 'ft',
      prompt_hash: '',
      top_k: 0,
      op: 'logprob_of',
      wall_ms: 2.5,
      hit: false,
    });
  });

  it('reads a line written by Python json.dumps', () => {
    const py =
      '{"ts": 1732312345.123456, "probe": null, "view_id": "base", "prompt_hash": "2c73d9790acb", ' +
      '"top_k": 16, "op": "next_token_dist", "wall_ms": 12.5, "hit": true}\r\n';
    const parsed = parseTraceJsonl(py);
    expect(parsed.skipped).toBe(0);
    expect(parsed.events[0]!.ts).toBe(1732312345.123456);
    expect(parsed.events[0]!.probe).toBeNull();
  });

  it('writes null for non-finite floats so every line stays valid JSON', () => {
    const line = encodeTraceLine(ev({ wall_ms: Number.NaN }));
    expect(JSON.parse(line).wall_ms).toBeNull();
  });
});

describe('TraceJsonlReader / readTraceJsonl: one reader for whole text and streams', () => {
  const good = encodeTraceLine(ev());
  const text = [good, '{oops', '', good, '[1]', '"str"'].join('\r\n') + '\r\n';

  it('gives the same events and skipped lines however the text is cut into chunks', () => {
    const whole = parseTraceJsonl(text);
    expect(whole.events).toHaveLength(2);
    expect(whole).toMatchObject({ skipped: 3, skippedLines: [2, 5, 6] });
    fc.assert(
      fc.property(fc.array(fc.nat({ max: text.length }), { maxLength: 12 }), (cuts) => {
        const at = [0, ...[...cuts].sort((a, b) => a - b), text.length];
        const reader = new TraceJsonlReader();
        const events: TraceEvent[] = [];
        for (let i = 1; i < at.length; i++) events.push(...reader.push(text.slice(at[i - 1], at[i])));
        events.push(...reader.end());
        expect(events).toEqual(whole.events);
        expect(reader.report()).toEqual({ skipped: whole.skipped, skippedLines: whole.skippedLines });
      }),
    );
  });

  it('streams bytes split inside a character, drops a byte-order mark, counts a last line without a break', async () => {
    const withProbe = encodeTraceLine(ev({ probe: 'ünïcödé ✓' }));
    const bytes = new TextEncoder().encode(`\uFEFF${withProbe}\nnope\n${withProbe}`);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += 5) c.enqueue(bytes.slice(i, i + 5));
        c.close();
      },
    });
    const got: TraceEvent[] = [];
    const skipped = await readTraceJsonl(stream, (events) => {
      got.push(...events);
    });
    expect(got.map((e) => e.probe)).toEqual(['ünïcödé ✓', 'ünïcödé ✓']);
    expect(skipped).toEqual({ skipped: 1, skippedLines: [2] });
  });

  it('reads an async iterable of byte chunks (a Node read stream)', async () => {
    async function* chunks() {
      yield new TextEncoder().encode(`${good}\n${good.slice(0, 10)}`);
      yield new TextEncoder().encode(`${good.slice(10)}\n`);
    }
    let n = 0;
    const skipped = await readTraceJsonl(chunks(), (events) => {
      n += events.length;
    });
    expect(n).toBe(2);
    expect(skipped.skipped).toBe(0);
  });

  it('skips an over-long line without holding it, and lists at most MAX_LISTED_SKIPPED_LINES numbers', () => {
    const reader = new TraceJsonlReader();
    const piece = 'x'.repeat(64 * 1024);
    for (let i = 0; i * piece.length <= MAX_TRACE_LINE_CHARS; i++) expect(reader.push(piece)).toEqual([]);
    expect(reader.push(`\n${good}\n`)).toHaveLength(1);
    expect(reader.report()).toEqual({ skipped: 1, skippedLines: [1] });

    const bad = parseTraceJsonl('nope\n'.repeat(MAX_LISTED_SKIPPED_LINES + 5));
    expect(bad.skipped).toBe(MAX_LISTED_SKIPPED_LINES + 5);
    expect(bad.skippedLines).toHaveLength(MAX_LISTED_SKIPPED_LINES);
  });

  it('describes skipped lines one way', () => {
    expect(describeSkippedLines({ skipped: 0, skippedLines: [] })).toBe('no lines skipped');
    expect(describeSkippedLines({ skipped: 1, skippedLines: [4] })).toBe('skipped 1 malformed line (line 4)');
    expect(describeSkippedLines({ skipped: 3, skippedLines: [3, 5] })).toBe(
      'skipped 3 malformed lines (lines 3, 5, …)',
    );
  });
});
