import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeTraceFile, traceCommand } from '../../src/cli/traceCommand.ts';
import { DeltascopeError, encodeTraceLine } from '../../src/core/index.ts';
import { traceEvent } from '../core/traceEventFixture.ts';

function io(cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), cwd, env: {} }, out, err };
}

describe('deltascope trace (in process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'deltascope-trace-'));

  it('streams the file through the shared reader: a character split across read chunks, CRLF, skipped lines', async () => {
    // Over 64 KiB (a read stream's chunk), with multi-byte characters, so chunks split lines and characters.
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++)
      lines.push(encodeTraceLine(traceEvent({ probe: `prøbe ✓ ${i % 3}`, wall_ms: i })));
    lines.splice(10, 0, 'not json');
    writeFileSync(join(dir, 'big.jsonl'), lines.join('\r\n'));
    const r = await analyzeTraceFile(join(dir, 'big.jsonl'), 3);
    expect(r.analysis.events).toBe(2000);
    expect(r.analysis.byProbe.map((g) => g.name).sort()).toEqual(['prøbe ✓ 0', 'prøbe ✓ 1', 'prøbe ✓ 2']);
    expect(r.analysis.slowest.map((e) => e.wall_ms)).toEqual([1999, 1998, 1997]);
    expect(r).toMatchObject({ skipped: 1, skippedLines: [11] });
  });

  it('reports skipped lines in the one format and renders the chosen format', async () => {
    writeFileSync(join(dir, 't.jsonl'), `${encodeTraceLine(traceEvent())}\nnope\n\n{"wall_ms": null}\n`);
    const { io: cli, out, err } = io(dir);
    await traceCommand('t.jsonl', { format: 'md', slowest: 5 }, cli);
    expect(err.join('')).toBe('t.jsonl: skipped 2 malformed lines (lines 2, 4)\n');
    expect(out.join('')).toMatch(/^# Trace analysis\n/);
  });

  it('a missing file is input/unreadable, naming the file', async () => {
    const path = join(dir, 'missing.jsonl');
    const e = await analyzeTraceFile(path, 3).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DeltascopeError);
    expect(e).toMatchObject({ code: 'input/unreadable', input: path });
  });
});
