import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  TRACE_FIELDS,
  analyzeTrace,
  encodeTraceLine,
  parseTraceJsonl,
  type TraceEvent,
} from '../../src/core/index.ts';
import { openTraceDb, type TraceDb } from '../../src/store/traceDb.ts';
import { importJsonl } from '../../src/store/traceImport.ts';
import {
  analyzeRun,
  blobFromChunks,
  deleteRun,
  getRun,
  jsonlChunks,
  listRuns,
  perfettoChunks,
  readRunPages,
} from '../../src/store/traceStore.ts';
import { WriteBehindSink } from '../../src/store/writeBehindSink.ts';

function ev(i: number): TraceEvent & { batch_size?: number } {
  const e: TraceEvent & { batch_size?: number } = {
    ts: 1700000000 + i / 100,
    probe: i % 3 === 0 ? null : 'delta_kl',
    view_id: i % 2 === 0 ? 'base' : 'ft',
    prompt_hash: `${(i % 7).toString(16).padStart(12, '0')}`,
    top_k: 5,
    op: 'next_token_dist',
    wall_ms: 1 + (i % 4),
    hit: i % 5 === 0,
  };
  if (!e.hit) e.batch_size = 1;
  return e;
}

let db: TraceDb;
let n = 0;
beforeEach(async () => {
  db = await openTraceDb(`store-test-${++n}`);
});
afterEach(() => db.close());

async function seed(id: string, count: number): Promise<TraceEvent[]> {
  const sink = new WriteBehindSink(db, { schedule: () => () => {} });
  sink.startRun({ id, label: id });
  const events = Array.from({ length: count }, (_, i) => ev(i));
  for (const e of events) sink.write(e);
  await sink.flush();
  return events;
}

const file = (name: string, text: string) => new File([text], name, { type: 'application/x-ndjson' });

describe('trace store', () => {
  it('exports a run as JSONL in chunks, sway keys first and in order, run_id after them', async () => {
    const events = await seed('r1', 45);
    const chunks: string[] = [];
    for await (const c of jsonlChunks(db, 'r1', 10)) chunks.push(c);
    expect(chunks).toHaveLength(5);
    const lines = chunks.join('').trimEnd().split('\n');
    expect(lines).toHaveLength(45);
    for (const [i, line] of lines.entries()) {
      const obj = JSON.parse(line) as Record<string, unknown>;
      expect(Object.keys(obj).slice(0, 8)).toEqual([...TRACE_FIELDS]);
      expect(obj.run_id).toBe('r1');
      expect(obj.prompt_hash).toBe(events[i]!.prompt_hash);
    }
    expect(lines[1]).toMatch(/^\{"ts": 1700000000\.01, "probe": "delta_kl", "view_id": "ft"/);
  });

  it('analysis of a stored run equals the in-memory analysis', async () => {
    const events = await seed('r1', 123);
    const stored = await analyzeRun(db, 'r1');
    const mem = analyzeTrace(events);
    expect(stored.events).toBe(mem.events);
    expect(stored.hitRate).toBe(mem.hitRate);
    expect(stored.byView).toEqual(mem.byView);
    expect(stored.byProbe).toEqual(mem.byProbe);
    expect(stored.batch).toEqual(mem.batch);
  });

  it('import → same analysis; skipped lines are reported by number', async () => {
    await seed('r1', 60);
    const text =
      (await blobFromChunks(jsonlChunks(db, 'r1', 16), 'text/plain').then((b) => b.text())) +
      '{oops\n\n[1]\n';
    const result = await importJsonl(db, file('trace.jsonl', text), { runId: 'imp' });
    expect(result).toEqual({
      runId: 'imp',
      label: 'trace.jsonl',
      imported: 60,
      skipped: 2,
      skippedLines: [61, 63],
    });
    const runs = await listRuns(db);
    const imp = runs.find((r) => r.id === 'imp')!;
    expect(imp).toMatchObject({ label: 'trace.jsonl', source: 'import', eventCount: 60, skippedLines: 2 });
    const a = await analyzeRun(db, 'r1');
    const b = await analyzeRun(db, 'imp');
    expect(b.events).toBe(a.events);
    expect(b.hitRate).toBe(a.hitRate);
    expect(b.byView).toEqual(a.byView);
  });

  it('import streams: line numbers stay right across read chunks', async () => {
    const good = JSON.stringify({
      ts: 1,
      probe: null,
      view_id: 'base',
      prompt_hash: 'x',
      top_k: 0,
      op: 'o',
      wall_ms: 1,
      hit: false,
    });
    const lines: string[] = [];
    for (let i = 1; i <= 3000; i++) lines.push(i % 1000 === 0 ? 'not json' : good);
    const big = lines.join('\n');
    // A stream that hands the bytes over in 777-byte pieces, splitting lines (and UTF-8) anywhere.
    const bytes = new TextEncoder().encode(big);
    const src = {
      name: 'pieces.jsonl',
      size: bytes.length,
      stream: () =>
        new ReadableStream<Uint8Array>({
          start(c) {
            for (let i = 0; i < bytes.length; i += 777) c.enqueue(bytes.slice(i, i + 777));
            c.close();
          },
        }),
    };
    const r = await importJsonl(db, src, { runId: 'p' });
    expect(r.imported).toBe(2997);
    expect(r.skippedLines).toEqual([1000, 2000, 3000]);
  });

  it('rejects a file over the size limit, and a file with no valid events, leaving no run', async () => {
    await expect(importJsonl(db, file('big.jsonl', 'x'.repeat(2000)), { maxBytes: 1000 })).rejects.toThrow(
      /"big\.jsonl" is 0\.0 MB; the import limit is 0 MB/,
    );
    await expect(importJsonl(db, file('bad.jsonl', 'nope\n{"top_k": "x"}\n'))).rejects.toThrow(
      /holds no valid trace events; skipped 2 malformed lines \(lines 1, 2\)\./,
    );
    expect(await listRuns(db)).toEqual([]);
  });

  it('imports a plain sway trace (no extra keys) and gives it a run_id', async () => {
    const sway =
      '{"ts": 1712345678.5, "probe": "delta_kl", "view_id": "base", "prompt_hash": "0123456789ab", "top_k": 10, "op": "next_token_dist", "wall_ms": 12.5, "hit": false}\n';
    await importJsonl(db, file('sway.jsonl', sway), { runId: 's' });
    let text = '';
    for await (const c of jsonlChunks(db, 's')) text += c;
    expect(text).toBe(sway.replace('}\n', ', "run_id": "s"}\n'));
    expect(parseTraceJsonl(text).events).toHaveLength(1);
  });

  it('Perfetto export from the store is valid JSON with a thread per view', async () => {
    await seed('r1', 30);
    const blob = await blobFromChunks(perfettoChunks(db, 'r1', 'demo'), 'application/json');
    const trace = JSON.parse(await blob.text()) as {
      traceEvents: { ph: string; name: string; args?: { name?: string } }[];
    };
    const threads = trace.traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args!.name);
    expect(threads.sort()).toEqual(['base', 'ft']);
    expect(trace.traceEvents.some((e) => e.ph === 'X')).toBe(true);
    expect(trace.traceEvents.some((e) => e.ph === 'C')).toBe(true);
  });

  it('a run that is not stored is a storage/failed error naming the run', async () => {
    await expect(getRun(db, 'gone')).rejects.toMatchObject({ code: 'storage/failed', input: 'gone' });
  });

  it('deletes a run and only its events', async () => {
    await seed('a', 20);
    await seed('b', 5);
    expect(await deleteRun(db, 'a')).toBe(20);
    expect((await listRuns(db)).map((r) => r.id)).toEqual(['b']);
    expect(await db.count('chunks')).toBe(1);
    expect((await analyzeRun(db, 'b')).events).toBe(5);
    expect((await analyzeRun(db, 'a')).events).toBe(0);
  });

  it('reads pages of exactly pageSize across chunk boundaries, in order', async () => {
    // Chunks of 3, 7 and 1,000 events: pages must not follow the chunk sizes.
    const sink = new WriteBehindSink(db, { schedule: () => () => {}, maxEvents: 10_000 });
    sink.startRun({ id: 'r', label: 'r' });
    const events = Array.from({ length: 1010 }, (_, i) => ev(i));
    let at = 0;
    for (const size of [3, 7, 1000]) {
      for (const e of events.slice(at, at + size)) sink.write(e);
      at += size;
      await sink.flush();
    }
    expect(await db.count('chunks')).toBe(3);
    const sizes: number[] = [];
    const hashes: string[] = [];
    for await (const page of readRunPages(db, 'r', 4)) {
      sizes.push(page.length);
      hashes.push(...page.map((e) => e.prompt_hash));
    }
    expect(sizes).toEqual([...Array<number>(252).fill(4), 2]);
    expect(hashes).toEqual(events.map((e) => e.prompt_hash));
    // More chunks than one read transaction fetches.
    for (let i = 0; i < 40; i++) {
      sink.write(ev(i));
      await sink.flush();
    }
    let n = 0;
    for await (const page of readRunPages(db, 'r', 2000)) n += page.length;
    expect(n).toBe(1050);
  });

  it('import writes chunk records, not one record per event, and reads back in order', async () => {
    const lines = Array.from({ length: 2500 }, (_, i) => encodeTraceLine(ev(i)));
    const r = await importJsonl(db, file('t.jsonl', lines.join('\n') + '\n'), { runId: 'i' });
    expect(r.imported).toBe(2500);
    expect(await db.count('chunks')).toBe(3);
    let text = '';
    for await (const c of jsonlChunks(db, 'i')) text += c;
    expect(text.trimEnd().split('\n')).toEqual(lines.map((l) => l.replace(/\}$/, ', "run_id": "i"}')));
    expect(await deleteRun(db, 'i')).toBe(2500);
    expect(await db.count('chunks')).toBe(0);
  });
});
