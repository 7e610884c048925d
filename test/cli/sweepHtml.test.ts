// `deltascope sweep … --html` and `deltascope merge … --html` in-process on the demo sweep
// (examples/sweep-demo.yaml): two shards merged write the HTML report of the whole sweep, its
// composite-score line having a point per adapter in the spec's order at the merged JSON's scores,
// the same points as the unsharded run's report; a shard's own --html report holds its adapters.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.ts';
import { runCli } from '../../src/cli/main.ts';
import type { SweepReport } from '../../src/suite/sweep.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'deltascope-sweep-html-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    out: (t) => (stdout += t),
    err: (t) => (stderr += t),
    cwd: ROOT,
    env: { DELTASCOPE_DISABLE_NULL_CACHE: '1' },
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

const out = (f: string) => join(dir, f);

/** The composite score's points as [adapter index, JSON path, exact value], in document order. */
function points(html: string): [number, string, number][] {
  const fig = /<figure id="fig-sweep-score"[\s\S]*?<\/figure>/.exec(html)?.[0] ?? '';
  return [...fig.matchAll(/<circle [^>]*data-adapter="(\d+)" data-key="([^"]+)" data-value="([^"]+)"/g)].map(
    (m) => [Number(m[1]), m[2]!, Number(m[3])],
  );
}

const at = (json: unknown, key: string): unknown =>
  key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | null)?.[k], json);

describe('sweep and merge --html', () => {
  it('merge --html writes the whole sweep’s report, equal in its points to the unsharded one', async () => {
    for (const i of [1, 2]) {
      const r = await cli([
        'sweep',
        'examples/sweep-demo.yaml',
        '--quiet',
        '--shard',
        `${i}/2`,
        '--json',
        out(`shard-${i}.json`),
        '--html',
        out(`shard-${i}.html`),
      ]);
      expect(r.code, r.stderr).toBe(0);
    }
    const merged = await cli([
      'merge',
      out('shard-2.json'),
      out('shard-1.json'),
      '--json',
      out('merged.json'),
      '--html',
      out('merged.html'),
    ]);
    expect(merged.code, merged.stderr).toBe(0);
    const whole = await cli([
      'sweep',
      'examples/sweep-demo.yaml',
      '--quiet',
      '--json',
      out('whole.json'),
      '--html',
      out('whole.html'),
    ]);
    expect(whole.code, whole.stderr).toBe(0);

    const json = JSON.parse(readFileSync(out('merged.json'), 'utf8')) as SweepReport;
    const html = readFileSync(out('merged.html'), 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(Buffer.byteLength(html)).toBeLessThan(200_000);
    const pts = points(html);
    expect(pts.map(([i]) => i)).toEqual([0, 1, 2]);
    for (const [i, key, value] of pts) {
      expect(at(json, key)).toBe(value);
      expect(json.results.find((r) => r.index === i)!.report.score).toMatchObject({ overall: value });
    }
    // Both shards' runs are named; the unsharded run draws the same points.
    expect(html).toMatch(/<td>1\/2<\/td>[\s\S]*<td>2\/2<\/td>/);
    expect(points(readFileSync(out('whole.html'), 'utf8'))).toEqual(pts);

    // A shard's own report: shard 1/2 runs adapters 0 and 2 (round robin).
    const shard1 = points(readFileSync(out('shard-1.html'), 'utf8'));
    expect(shard1.map(([i]) => i)).toEqual([0, 2]);
    expect(shard1.map(([, , v]) => v)).toEqual([pts[0]![2], pts[2]![2]]);
  }, 180_000);

  it('--html is in both commands’ usage', async () => {
    for (const cmd of ['sweep', 'merge']) {
      const r = await cli([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('--html FILE');
    }
  });
});
