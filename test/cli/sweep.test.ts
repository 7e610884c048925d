// `deltascope sweep` and `deltascope merge` in-process on the demo base with six adapters (five
// scaled copies of the demo adapter, one of lower rank in the middle, which cannot be swapped and
// reloads the base): the unsharded run and three shards (one picked by JOB_COMPLETION_INDEX, as a
// Kubernetes Indexed Job does) merge into the same sweep report, timing and timestamps aside.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.ts';
import { runCli } from '../../src/cli/main.ts';
import type { SweepReport } from '../../src/suite/sweep.ts';
import { writeDemoCheckpoints, writeLowerRankDemoAdapter } from '../backend/adapterSwapFixtures.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'deltascope-sweep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LABELS = [
  'checkpoint-2',
  'checkpoint-10',
  'checkpoint-30',
  'checkpoint-100',
  'small',
  'checkpoint-final',
];

beforeAll(() => {
  writeDemoCheckpoints(join(dir, 'run'), [
    [100, 1],
    [2, 0.25],
    [30, 0.75],
    [10, 0.5],
  ]);
  writeLowerRankDemoAdapter(join(dir, 'small'), 4);
  writeDemoCheckpoints(join(dir, 'more'), [[0, 1.25]]);
  writeFileSync(
    join(dir, 'sweep.yaml'),
    [
      'version: 1',
      `base: ${join(ROOT, 'public/models/deltascope-demo/base')}`,
      `suite: ${join(ROOT, 'examples/demo-adapter.yaml')}`,
      'seed: 3',
      'adapters:',
      '  - glob: run/checkpoint-*',
      '  - path: small',
      '  - name: checkpoint-final',
      '    path: more/checkpoint-0',
      '',
    ].join('\n'),
  );
});

async function cli(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    out: (t) => (stdout += t),
    err: (t) => (stderr += t),
    cwd: dir,
    env: { DELTASCOPE_DISABLE_NULL_CACHE: '1', ...env },
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

const read = (f: string): SweepReport => JSON.parse(readFileSync(join(dir, f), 'utf8')) as SweepReport;

const TIMING = new Set([
  'started_at',
  'finished_at',
  'created_at',
  'wall_seconds',
  'duration_s',
  'scoring_wall_s',
  'metrics',
]);

/** The report without how it ran (runs) and without clock readings. */
function numbersOf(r: SweepReport): unknown {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => !TIMING.has(k))
        .map(([k, x]) => [k, strip(x)]),
    );
  };
  const { runs: _runs, ...rest } = r;
  return strip(rest);
}

describe('deltascope sweep + merge', () => {
  it('three shards merged equal the unsharded sweep, the base loaded once per machine and adapters swapped', async () => {
    const all = await cli(['sweep', 'sweep.yaml', '--json', 'all.json', '--markdown', 'all.md']);
    expect(all.stderr).toMatch(/lm_head has rank 4, the loaded adapter's has 8.*Reloading the base/);
    expect(all.code).toBe(0);
    const whole = read('all.json');
    expect(whole.results.map((r) => r.label)).toEqual(LABELS);
    expect(whole.sweep.adapters.map((a) => a.label)).toEqual(LABELS);
    expect(whole.runs[0]!.loads.map((l) => l.how)).toEqual([
      'loaded',
      'swapped',
      'swapped',
      'swapped',
      'reloaded',
      'reloaded',
    ]);
    expect(all.stdout).toMatch(/checkpoint-30 +\d\.\d\d/);
    expect(readFileSync(join(dir, 'all.md'), 'utf8')).toMatch(/^\| 4 \| checkpoint-100 \| \d\.\d\d \|/m);
    // Each result's provenance names the sweep spec, with its hash, and its own adapter.
    const prov = whole.results.map((r) => r.report.provenance as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any -- a few fields of the JSON
    expect(prov.every((p) => p.spec_path === 'sweep.yaml' && /^[0-9a-f]{64}$/.test(p.spec_sha256))).toBe(
      true,
    );
    expect(prov.map((p) => p.adapter.name)).toEqual([
      'checkpoint-2',
      'checkpoint-10',
      'checkpoint-30',
      'checkpoint-100',
      'small',
      'checkpoint-0',
    ]);
    // The seed of the sweep spec is the suite's.
    expect(whole.results.every((r) => (r.report.determinism as { seed: number }).seed === 3)).toBe(true);
    // The checkpoints differ, so a mix-up between adapters would show.
    const overall = whole.results.map((r) => (r.report.score as { overall: number }).overall);
    expect(new Set(overall).size).toBeGreaterThan(3);

    expect((await cli(['sweep', 'sweep.yaml', '--shard', '1/3', '--json', 'out/shard-1.json'])).code).toBe(0);
    const second = await cli(['sweep', 'sweep.yaml', '--json', 'out/shard-2.json'], {
      JOB_COMPLETION_INDEX: '1',
      DELTASCOPE_SHARD_COUNT: '3',
    });
    expect(second.code).toBe(0);
    expect((await cli(['sweep', 'sweep.yaml', '--shard', '3/3', '--json', 'out/shard-3.json'])).code).toBe(0);
    expect(read('out/shard-2.json').runs[0]).toMatchObject({
      shard: { index: 2, count: 3 },
      adapters: [1, 4],
    });
    expect(read('out/shard-2.json').runs[0]!.loads.map((l) => l.how)).toEqual(['loaded', 'reloaded']);

    const merged = await cli(['merge', 'out/shard-*.json', '--json', 'merged.json']);
    expect(merged.code).toBe(0);
    const mergedAll = await cli(['merge', 'all.json', '--json', 'merged-all.json']);
    expect(mergedAll.code).toBe(0);
    const three = read('merged.json');
    expect(three.results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(three.runs.map((r) => `${r.shard.index}/${r.shard.count}`)).toEqual(['1/3', '2/3', '3/3']);
    expect(numbersOf(three)).toEqual(numbersOf(read('merged-all.json')));
    expect(numbersOf(three)).toEqual(numbersOf(whole));
    expect(merged.stdout).toContain('adapters: 6 of 6 (shards 1/3, 2/3, 3/3)');

    // Two of three shards: the missing adapters are named with their shard; a shard twice is refused.
    const missing = await cli(['merge', 'out/shard-1.json', 'out/shard-3.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('"checkpoint-10" (index 1, shard 2/3), "small" (index 4, shard 2/3)');
    const twice = await cli(['merge', 'out/shard-1.json', 'out/shard-1.json', 'out/shard-2.json']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain(
      '"checkpoint-2" (index 0) is in both out/shard-1.json and out/shard-1.json',
    );
  }, 300_000);

  it('refuses to merge a shard of another sweep spec (another seed)', async () => {
    writeFileSync(
      join(dir, 'other.yaml'),
      readFileSync(join(dir, 'sweep.yaml'), 'utf8').replace('seed: 3', 'seed: 4'),
    );
    expect((await cli(['sweep', 'other.yaml', '--shard', '2/3', '--json', 'other-2.json'])).code).toBe(0);
    const r = await cli(['merge', 'out/shard-1.json', 'other-2.json', 'out/shard-3.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/other-2\.json is from another sweep than out\/shard-1\.json/);
  }, 300_000);

  it('Ctrl-C between adapters: exit 130, the report holds the adapters done, and merge names the rest', async () => {
    const ctl = new AbortController();
    let stderr = '';
    const io: CliIo = {
      out: () => {},
      err: (t) => {
        stderr += t;
        if (t.startsWith('[1/')) ctl.abort();
      },
      cwd: dir,
      env: { DELTASCOPE_DISABLE_NULL_CACHE: '1' },
      signal: ctl.signal,
    };
    expect(await runCli(['sweep', 'sweep.yaml', '--shard', '1/2', '--json', 'cut.json'], io)).toBe(130);
    expect(stderr).toContain("cancelled: 2 of this shard's adapters did not run");
    expect(read('cut.json').results.map((r) => r.label)).toEqual(['checkpoint-2']);
    const r = await cli(['merge', 'cut.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('5 of 6 adapters have no result');
  }, 120_000);

  it('keeps null statistics per adapter: a swapped adapter gets its own entry in the null-stats cache', async () => {
    const cache = join(dir, 'null-stats');
    const r = await cli(['sweep', 'sweep.yaml', '--shard', '1/2', '--json', 'cached.json'], {
      DELTASCOPE_DISABLE_NULL_CACHE: '0',
      DELTASCOPE_NULL_CACHE_DIR: cache,
    });
    expect(r.code).toBe(0);
    expect(read('cached.json').runs[0]!.loads.map((l) => l.how)).toEqual(['loaded', 'swapped', 'reloaded']);
    expect(readdirSync(cache).filter((f) => f.endsWith('.json'))).toHaveLength(3);
  }, 120_000);

  it('refuses a bad --shard, a job index without a count, and a sweep spec error with its line', async () => {
    const bad = await cli(['sweep', 'sweep.yaml', '--shard', '4/3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--shard must be i/n with 1 ≤ i ≤ n');
    const noCount = await cli(['sweep', 'sweep.yaml'], { JOB_COMPLETION_INDEX: '0' });
    expect(noCount.code).toBe(2);
    expect(noCount.stderr).toContain('pass --shard-count N or set DELTASCOPE_SHARD_COUNT');
    writeFileSync(
      join(dir, 'broken.yaml'),
      `version: 1\nbase: x/y\nsuite: ${join(ROOT, 'examples/demo-adapter.yaml')}\nadapters:\n  - glob: run/ckpt-*\n`,
    );
    const broken = await cli(['sweep', 'broken.yaml']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(
      'adapters[0].glob (line 5:1): "run/ckpt-*" matches no folder holding adapter_config.json',
    );
  }, 60_000);
});
