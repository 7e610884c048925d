// Sharded = unsharded with the null-stats disk cache on: the unsharded sweep fills a cache folder,
// two shards then run against the same folder (as the Kubernetes example shares one across pods)
// and take their null statistics from it; the merged report equals the unsharded one, and both
// equal a sweep with the cache off, timing and timestamps aside.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.ts';
import { runCli } from '../../src/cli/main.ts';
import type { SweepReport } from '../../src/suite/sweep.ts';
import { writeDemoCheckpoints } from '../backend/adapterSwapFixtures.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'deltascope-sweep-null-cache-'));
const cache = join(dir, 'null-stats');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  writeDemoCheckpoints(join(dir, 'run'), [
    [1, 0.5],
    [2, 1],
    [3, 1.5],
  ]);
  writeFileSync(
    join(dir, 'suite.yaml'),
    [
      'version: 1',
      'models: {base: {base: b}, ft: {base: b}}',
      'suite:',
      '  - {name: nulls, kind: null_adapter, runs: 3}',
      "  - {name: kl, kind: delta_kl, prompts: ['The town of', 'The most famous lantern is called the']}",
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'sweep.yaml'),
    [
      'version: 1',
      `base: ${join(ROOT, 'public/models/deltascope-demo/base')}`,
      'suite: suite.yaml',
      'seed: 5',
      'adapters:',
      '  - glob: run/checkpoint-*',
      '',
    ].join('\n'),
  );
});

async function cli(args: string[], env: Record<string, string>) {
  let stderr = '';
  const io: CliIo = { out: () => {}, err: (t) => (stderr += t), cwd: dir, env };
  const code = await runCli(args, io);
  return { code, stderr };
}

const CACHED = { DELTASCOPE_DISABLE_NULL_CACHE: '0', DELTASCOPE_NULL_CACHE_DIR: cache };
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

/**
 * What cached null statistics change is how the numbers were got, not the numbers: the forward
 * passes counted (backend_stats), `from_cache` and the calibration message's "(from cache: …)".
 */
const HOW = new Set([...TIMING, 'backend_stats', 'from_cache']);

/** The report without how it ran (runs, forward passes, the cache's part) and clock readings. */
function numbersOf(r: SweepReport, also: string[] = []): unknown {
  const drop = new Set([...HOW, ...also]);
  const strip = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(/ \(from cache: [^)]*\)$/, '');
    if (Array.isArray(v)) return v.map(strip);
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => !drop.has(k))
        .map(([k, x]) => [k, strip(x)]),
    );
  };
  const { runs: _runs, ...rest } = r;
  return strip(rest);
}

const entries = () => readdirSync(cache).filter((f) => f.endsWith('.json'));

describe('deltascope sweep + merge with the null-stats disk cache', () => {
  it('shards reading null statistics the unsharded run cached merge into its report', async () => {
    expect((await cli(['sweep', 'sweep.yaml', '--json', 'all.json'], CACHED)).code).toBe(0);
    const filled = entries();
    expect(filled).toHaveLength(3);
    const whole = read('all.json');
    // The null statistics are in use: the probe calibrated against them has a z-score.
    expect(JSON.stringify(whole.results[0]!.report)).toMatch(/"z(_score)?":\s*-?\d/);

    for (const i of [1, 2])
      expect(
        (await cli(['sweep', 'sweep.yaml', '--shard', `${i}/2`, '--json', `shard-${i}.json`], CACHED)).code,
      ).toBe(0);
    // Nothing new was computed: every adapter's null statistics came from the cache.
    expect(entries()).toEqual(filled);
    const fromCache = (f: string) =>
      read(f).results.map((r) => JSON.stringify(r.report).includes('"from_cache":true'));
    expect([...fromCache('shard-1.json'), ...fromCache('shard-2.json')]).toEqual([true, true, true]);
    expect(fromCache('all.json')).toEqual([false, false, false]);
    expect((await cli(['merge', 'shard-*.json', '--json', 'merged.json'], CACHED)).code).toBe(0);
    expect(numbersOf(read('merged.json'))).toEqual(numbersOf(whole));

    // And the cached numbers are the computed ones.
    expect(
      (await cli(['sweep', 'sweep.yaml', '--json', 'fresh.json'], { DELTASCOPE_DISABLE_NULL_CACHE: '1' }))
        .code,
    ).toBe(0);
    // (With the cache off there is no cache key.)
    expect(numbersOf(read('fresh.json'), ['cache_key'])).toEqual(numbersOf(whole, ['cache_key']));
  }, 300_000);
});
