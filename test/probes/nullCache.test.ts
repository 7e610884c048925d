// null_adapter's statistics cache: a hit reports exactly what the calibration reported, any change
// to what decides the statistics misses, and a broken or malformed store only costs a calibration.
import { describe, expect, it } from 'vitest';
import { openPair } from '../../src/backend/index.ts';
import type { NullStatsCache } from '../../src/probes/types.ts';
import { runSuite } from '../../src/suite/runner.ts';
import { parseSuiteSpec } from '../../src/suite/spec.ts';

const spec = (opts: { runs?: number; prompt?: string; cache?: boolean } = {}) => `version: 1
models:
  base: {base: fake}
  ft: {base: fake}
suite:
  - {name: nulls, kind: null_adapter, runs: ${opts.runs ?? 3}${opts.cache === false ? ', cache: false' : ''}}
  - name: shift
    kind: delta_kl
    prompts: ["The keeper of the lighthouse", "${opts.prompt ?? 'Every spring the town'}"]
`;

class MapCache implements NullStatsCache {
  readonly where = 'memory';
  readonly map = new Map<string, unknown>();
  gets = 0;
  puts = 0;
  get(key: string): Promise<unknown> {
    this.gets++;
    return Promise.resolve(structuredClone(this.map.get(key) ?? null));
  }
  put(key: string, value: unknown): Promise<void> {
    this.puts++;
    this.map.set(key, structuredClone(value));
    return Promise.resolve();
  }
}

/** Runs the suite on a fresh fake pair and counts the null views' forward passes. */
async function run(text: string, nullCache?: NullStatsCache, pairId = 'fake:cache-test') {
  const pair = await openPair({ kind: 'fake', pairId });
  try {
    const result = await runSuite(parseSuiteSpec(text), pair, {
      specPath: 'inline',
      ...(nullCache !== undefined ? { nullCache } : {}),
    });
    const nulls = result.probes.find((p) => p.name === 'nulls')!;
    const shift = result.probes.find((p) => p.name === 'shift')!;
    return { nulls, shift, passes: pair.instrumentation.stats.forwardPasses };
  } finally {
    await pair.dispose();
  }
}

describe('null-stats cache', () => {
  it('a second run reads the statistics: same z-score, no null forward passes, from_cache', async () => {
    const cache = new MapCache();
    const first = await run(spec(), cache);
    expect(first.nulls.evidence.from_cache).toBe(false);
    expect(cache.puts).toBe(1);
    const second = await run(spec(), cache);
    expect(second.nulls.evidence.from_cache).toBe(true);
    expect(second.nulls.message).toMatch(/\(from cache: memory\)$/);
    expect(second.nulls.evidence.null_stats).toEqual(first.nulls.evidence.null_stats);
    expect(second.nulls.evidence.per_kind_raw_samples).toEqual(first.nulls.evidence.per_kind_raw_samples);
    expect(second.shift.zScore).toBe(first.shift.zScore);
    expect(second.shift.zScore).not.toBeNull();
    // The calibration's forward passes are gone; only delta_kl's own remain.
    const uncached = await run(spec());
    expect(second.passes).toBeLessThan(first.passes);
    expect(uncached.passes).toBe(first.passes);
    expect(cache.puts).toBe(1);
  });

  it('misses when the runs, a calibrated prompt or the backend identity change', async () => {
    const cache = new MapCache();
    await run(spec(), cache);
    for (const [text, pairId] of [
      [spec({ runs: 2 }), undefined],
      [spec({ prompt: 'A child found a lamp' }), undefined],
      [spec(), 'fake:another-adapter'],
    ] as const) {
      const r = await run(text, cache, pairId);
      expect(r.nulls.evidence.from_cache).toBe(false);
    }
    expect(cache.map.size).toBe(4);
  });

  it('a malformed entry or a failing store is a miss: the probe calibrates and passes', async () => {
    const cache = new MapCache();
    const first = await run(spec(), cache);
    const key = first.nulls.evidence.cache_key as string;
    expect(key).toMatch(/^[0-9a-f]{40}$/);
    for (const bad of [
      { format: 'deltascope-null-stats/0' },
      { format: 'deltascope-null-stats/1', byRank: { 'rank_1.00': { delta_kl: { mean: 'x' } } } },
      'not an object',
    ]) {
      cache.map.set(key, bad);
      const r = await run(spec(), cache);
      expect(r.nulls.evidence.from_cache).toBe(false);
      expect(r.shift.zScore).toBe(first.shift.zScore);
    }
    const failing: NullStatsCache = {
      where: 'broken',
      get: () => Promise.reject(new Error('quota')),
      put: () => Promise.reject(new Error('quota')),
    };
    const r = await run(spec(), failing);
    expect(r.nulls.verdict).toBe('pass');
    expect(r.shift.zScore).toBe(first.shift.zScore);
  });

  it('cache: false never reads or writes', async () => {
    const cache = new MapCache();
    await run(spec({ cache: false }), cache);
    await run(spec({ cache: false }), cache);
    expect([cache.gets, cache.puts]).toEqual([0, 0]);
  });
});
