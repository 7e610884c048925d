import { describe, expect, it } from 'vitest';
import { openPair } from '../../src/backend/index.ts';
import { MemoryTraceSink } from '../../src/core/index.ts';
import { runSuite } from '../../src/suite/runner.ts';
import type { SuiteSpec } from '../../src/suite/types.ts';
import type { CommonProbeSpec } from '../../src/probes/types.ts';

const deltaKl = (name: string, prompts: string[], extra: Record<string, unknown> = {}) =>
  ({
    name,
    kind: 'delta_kl',
    enabled: true,
    weight: 1,
    prompts,
    divergence: 'js',
    top_k: null,
    assert_mean_gte: 0.02,
    assert_z_gte: 3,
    ...extra,
  }) as CommonProbeSpec & Record<string, unknown>;

const spec = (suite: SuiteSpec['suite']): SuiteSpec => ({
  version: 1,
  dlm_source: null,
  models: {
    base: {
      kind: 'dummy',
      base: 'fake-base',
      adapter: null,
      dtype: 'auto',
      device: 'auto',
      trust_remote_code: false,
      entry_point: null,
      endpoint: null,
    },
    ft: {
      kind: 'dummy',
      base: 'fake-ft',
      adapter: null,
      dtype: 'auto',
      device: 'auto',
      trust_remote_code: false,
      entry_point: null,
      endpoint: null,
    },
  },
  defaults: {
    seed: 0,
    top_k: 16,
    differential: true,
    coverage_threshold: 0.6,
    score_weights: {},
    concurrent_probes: 1,
  },
  suite,
});

describe('runSuite', () => {
  it('sway test_runner_backend_stats: a second delta_kl over the same 2 prompts gets 4 hits', async () => {
    const trace = new MemoryTraceSink();
    const backend = await openPair({ kind: 'fake' }, { trace });
    const result = await runSuite(
      spec([deltaKl('first', ['p1', 'p2']), deltaKl('second', ['p1', 'p2'])]),
      backend,
    );
    const stats = result.backendStats as Record<string, number>;
    // preflight: 2 misses; first: 4 misses; second: 4 hits
    expect(stats.cache_hits).toBe(4);
    expect(stats.forward_passes).toBe(stats.cache_misses);
    const second = trace.events.filter((e) => e.probe === 'second');
    expect(second).toHaveLength(4);
    expect(second.every((e) => e.hit)).toBe(true);
    expect(trace.events.filter((e) => e.probe === 'first')).toHaveLength(4);
    expect(result.probes.map((p) => p.verdict)).toEqual(['pass', 'pass']);
  });

  it('keeps declaration order, isolates errors, skips disabled probes, SKIPs missing capabilities', async () => {
    const result = await runSuite(
      spec([
        deltaKl('empty', []),
        { name: 'off', kind: 'delta_kl', enabled: false, weight: 1, prompts: ['x'] },
        {
          name: 'bad',
          kind: 'delta_kl',
          enabled: true,
          weight: 1,
          prompts: ['x'],
          divergence: 'js',
          top_k: 0,
        },
        {
          name: 'abl',
          kind: 'adapter_ablation',
          enabled: true,
          weight: 1,
          prompts: ['x'],
          lambdas: [0, 0.5, 1],
          divergence: 'js',
          top_k: null,
          assert_linearity_gte: 0.85,
          assert_saturation_between: [0.3, 1.05],
          assert_overshoot_gte: 1.02,
        },
        deltaKl('ok', ['x']),
      ]),
      await openPair({ kind: 'fake', adapterViews: false }),
    );
    expect(result.probes.map((p) => [p.name, p.verdict])).toEqual([
      ['empty', 'error'],
      ['off', 'skip'],
      ['bad', 'error'],
      ['abl', 'skip'],
      ['ok', 'pass'],
    ]);
    expect(result.probes[1]!.message).toBe('disabled in spec');
    expect(result.probes[2]!.message).toMatch(/topK must be a positive integer/);
    expect(result.probes[3]!.message).toMatch(/scaled-adapter views/);
    expect(result.score.findings).toContain('2 probe(s) errored — see full report for details');
  });

  it('null_adapter calibrates later probes, which then report a z-score', async () => {
    const result = await runSuite(
      spec([
        {
          name: 'null',
          kind: 'null_adapter',
          enabled: true,
          weight: 1,
          runs: 3,
          init_scale: 0.02,
          seed_base: 1000,
          calibrate_kinds: [],
          rank_multipliers: [1],
          cache: false,
        },
        deltaKl('dk', ['abc', 'hello', 'world']),
      ]),
      await openPair({ kind: 'fake' }),
    );
    expect(result.nullStats).toHaveProperty('delta_kl');
    expect(result.probes[1]!.zScore).not.toBeNull();
  });

  it('stops at preflight when a view returns non-finite log-probabilities', async () => {
    const backend = await openPair({ kind: 'fake' });
    const realDist = backend.ft.nextTokenDist.bind(backend.ft);
    backend.ft.nextTokenDist = async (p, o) => {
      const d = await realDist(p, o);
      return { ...d, logprobs: d.logprobs.map(() => Number.NaN) };
    };
    const result = await runSuite(spec([deltaKl('dk', ['x'])]), backend);
    expect(result.probes).toHaveLength(1);
    expect(result.probes[0]).toMatchObject({ name: '__preflight__', verdict: 'error' });
    expect(result.probes[0]!.message).toMatch(/ft view returned non-finite/);
  });

  it('cancel marks the remaining probes SKIP and keeps what was done', async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const result = await runSuite(
      spec([deltaKl('a', ['x']), deltaKl('b', ['y']), deltaKl('c', ['z'])]),
      await openPair({ kind: 'fake' }),
      {
        signal: controller.signal,
        onResult: (r) => {
          seen.push(r.name);
          if (r.name === 'a') controller.abort();
        },
      },
    );
    expect(result.probes.map((p) => [p.name, p.verdict])).toEqual([
      ['a', 'pass'],
      ['b', 'skip'],
      ['c', 'skip'],
    ]);
    expect(result.probes[1]!.message).toBe('cancelled by user');
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('reports progress and records seed and determinism', async () => {
    const progress: string[] = [];
    const result = await runSuite(spec([deltaKl('a', ['x', 'y'])]), await openPair({ kind: 'fake' }), {
      onProgress: (p) => progress.push(`${p.probeIndex}/${p.probeCount} ${p.done}/${p.total}`),
    });
    expect(progress).toEqual(['0/1 0/0', '0/1 0/2', '0/1 2/2']);
    expect(result.determinism).toMatchObject({ class: 'best_effort', seed: 0 });
  });
});
