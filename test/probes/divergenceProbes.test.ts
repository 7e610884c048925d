// The next-token-distribution probes (delta_kl, cluster_kl, prompt_collapse, adapter_ablation,
// null_adapter), each pinned to its verdict and numbers for a fixed input: on hand-written
// distributions with the expected value worked out in the comments, or on the deterministic fake pair.
import { describe, expect, it } from 'vitest';
import { openPair } from '../../src/backend/index.ts';
import { saturation } from '../../src/probes/adapterAblation.ts';
import { specificity } from '../../src/probes/clusterKl.ts';
import type { CommonProbeSpec } from '../../src/probes/types.ts';
import { common, js, runProbe as run, scriptedBackend } from './scriptedBackend.ts';

describe('delta_kl', () => {
  // JS([0.6, 0.4], [0.9, 0.1]) = 0.0632878 nats.
  const moved = js([0.6, 0.4], [0.9, 0.1]);

  it('mean JS over prompts 0.0316 ≥ 0.02 → PASS; score raw/ln2', async () => {
    const b = scriptedBackend(
      { dist: () => [0.6, 0.4] },
      { dist: (p) => (p === 'a' ? [0.9, 0.1] : [0.6, 0.4]) },
    );
    const r = await run('delta_kl', { prompts: ['a', 'b'] }, b);
    // (0.0632878 + 0) / 2
    expect(moved).toBeCloseTo(0.0632878, 6);
    expect(r.raw!).toBeCloseTo(0.0316439, 6);
    expect(r.verdict).toBe('pass');
    expect(r.score!).toBeCloseTo(0.0316439 / Math.LN2, 6);
    expect(r.evidence.num_prompts).toBe(2);
  });

  it('the same move over four prompts, one moved: mean 0.0158 < 0.02 → FAIL', async () => {
    const b = scriptedBackend(
      { dist: () => [0.6, 0.4] },
      { dist: (p) => (p === 'a' ? [0.9, 0.1] : [0.6, 0.4]) },
    );
    const r = await run('delta_kl', { prompts: ['a', 'b', 'c', 'd'] }, b);
    expect(r.raw!).toBeCloseTo(0.0158219, 6);
    expect(r.verdict).toBe('fail');
  });

  it('rejects a uniform base distribution as uninformative', async () => {
    const b = scriptedBackend({ dist: () => [0.5, 0.5] }, { dist: () => [0.9, 0.1] });
    await expect(run('delta_kl', { prompts: ['a'] }, b)).rejects.toThrow(/effectively uniform/);
  });

  it('calibrated: z = (0.0633 − 0.01)/0.01 = 5.33 ≥ 3 → PASS; score sigmoid(z/3)', async () => {
    const b = scriptedBackend({ dist: () => [0.6, 0.4] }, { dist: () => [0.9, 0.1] });
    const r = await run('delta_kl', { prompts: ['x'] }, b, {
      nullStats: { delta_kl: { mean: 0.01, std: 0.01, n: 3 } },
    });
    expect(r.zScore!).toBeCloseTo(5.328782, 5);
    expect(r.verdict).toBe('pass');
    expect(r.score!).toBeCloseTo(0.855235, 5);
  });

  it('calibrated against a wider null: z = (0.0633 − 0.05)/0.01 = 1.33 < 3 → FAIL', async () => {
    const b = scriptedBackend({ dist: () => [0.6, 0.4] }, { dist: () => [0.9, 0.1] });
    const r = await run('delta_kl', { prompts: ['x'] }, b, {
      nullStats: { delta_kl: { mean: 0.05, std: 0.01, n: 3 } },
    });
    expect(r.zScore!).toBeCloseTo(1.328782, 5);
    expect(r.verdict).toBe('fail');
  });

  it('reports an empty prompt list as ERROR', async () => {
    expect((await run('delta_kl', { prompts: [] })).verdict).toBe('error');
  });
});

describe('cluster_kl', () => {
  it('specificity = between/(between + within)', () => {
    expect(specificity([0, 0, 1, 1], [0, 0, 1, 1], 2).value).toBe(1);
    expect(specificity([0, 1, 0, 1], [0, 0, 1, 1], 2).value).toBe(0);
    expect(specificity([1, 1, 1, 1], [0, 0, 1, 1], 2)).toMatchObject({ value: 0.5, degenerate: true });
  });

  it('leaves singleton clusters out of "within" (sway): [0 | 0.2, 0.4] has within 0.01, not 0.005', () => {
    const s = specificity([0, 0.2, 0.4], [0, 1, 1], 2);
    expect(s.within).toBeCloseTo(0.01, 15);
    expect(s.between).toBeCloseTo(0.0225, 15);
    expect(s.value).toBeCloseTo(0.0225 / 0.0325, 12);
    expect(s.perClusterSize).toEqual([1, 2]);
  });

  it('SKIPs below min_prompts', async () => {
    await expect(run('cluster_kl', { prompts: ['a', 'b'], min_prompts: 4 })).rejects.toThrow(
      /need ≥4 prompts/,
    );
  });

  it('on the fake pair: 20 prompts in 4 clusters, specificity 0.976 ≥ 0.6 → PASS, deterministically', async () => {
    const prompts = Array.from({ length: 20 }, (_, i) => `topic ${i % 4} item ${i}`);
    const a = await run('cluster_kl', { prompts, num_clusters: 4 }, await openPair({ kind: 'fake' }));
    const b = await run('cluster_kl', { prompts, num_clusters: 4 }, await openPair({ kind: 'fake' }));
    expect(a.evidence.labels).toEqual(b.evidence.labels);
    expect(a.verdict).toBe('pass');
    expect(a.raw!).toBeCloseTo(0.97577, 4);
    // Uncalibrated score clip((specificity − 0.5)·2).
    expect(a.score!).toBeCloseTo(0.95155, 4);
  });
});

describe('prompt_collapse', () => {
  it('half-life ln2·(−1/slope) from a divergence halving every ~100 tokens: 116.8 ≥ 50 → PASS', async () => {
    // Divergence depends on context length L (≈ 4 chars per token of filler): make it 0.2·2^(−L/100).
    const ftFor = (p: string) => {
      const L = Math.round((p.length - 1) / 4 / 10) * 10;
      const target = 0.2 * 2 ** (-L / 100);
      // Solve for q in a 2-token distribution with JS([0.6,0.4],[q,1−q]) ≈ target by bisection.
      let lo = 0.6;
      let hi = 0.999999;
      for (let i = 0; i < 100; i++) {
        const mid = (lo + hi) / 2;
        if (js([0.6, 0.4], [mid, 1 - mid]) < target) lo = mid;
        else hi = mid;
      }
      return [lo, 1 - lo];
    };
    const b = scriptedBackend({ dist: () => [0.6, 0.4] }, { dist: ftFor });
    const r = await run(
      'prompt_collapse',
      { prompts: ['x'], context_lengths: [0, 100, 200], assert_half_life_tokens: 50 },
      b,
    );
    // Not exactly 100: the filler is cut at word ends and its length is read back to the nearest
    // 10 tokens, so the curve is a slightly stretched halving.
    expect(r.raw!).toBeCloseTo(116.773, 2);
    expect(r.verdict).toBe('pass');
    expect(r.score).toBe(1);
    // Against a 150-token threshold the same curve fails, scoring half-life / threshold.
    const strict = await run(
      'prompt_collapse',
      { prompts: ['x'], context_lengths: [0, 100, 200], assert_half_life_tokens: 150 },
      b,
    );
    expect(strict.verdict).toBe('fail');
    expect(strict.score!).toBeCloseTo(r.raw! / 150, 12);
  });

  it('fails with score 0 and no half-life when the effect does not decay (sway)', async () => {
    const b = scriptedBackend({ dist: () => [0.6, 0.4] }, { dist: () => [0.9, 0.1] });
    const r = await run('prompt_collapse', { prompts: ['x'], context_lengths: [0, 8] }, b);
    expect(r.verdict).toBe('fail');
    expect(r.score).toBe(0);
    expect(r.raw).toBeNull();
    expect(r.message).toBe('could not fit exponential decay (too flat or non-monotonic)');
  });

  it('fails with score 0 when ft equals base at some length (a divergence of 0)', async () => {
    const b = scriptedBackend(
      { dist: () => [0.6, 0.4] },
      { dist: (p) => (p === 'x' ? [0.9, 0.1] : [0.6, 0.4]) },
    );
    const r = await run('prompt_collapse', { prompts: ['x'], context_lengths: [0, 8] }, b);
    expect(r.evidence.mean_divergence_per_length).toEqual([expect.any(Number), 0]);
    expect(r.verdict).toBe('fail');
    expect(r.score).toBe(0);
  });
});

describe('adapter_ablation', () => {
  it('saturation search: found, non-monotonic, flat', () => {
    expect(saturation([0, 0.5, 1], [0, 0.5, 1])).toEqual({ lambda: 1, reason: 'found' });
    expect(saturation([0, 0.5, 1, 1.5], [0, 0.95, 0.9, 1])).toEqual({ lambda: 0.5, reason: 'found' });
    expect(saturation([0, 0.5, 1], [0.2, 0.1, 1])).toEqual({ lambda: 1, reason: 'non_monotonic' });
    expect(saturation([0, 1], [0, 0])).toEqual({ lambda: null, reason: 'flat_curve' });
  });

  it('SKIPs without scaled views', async () => {
    await expect(
      run('adapter_ablation', { prompts: ['a'] }, await openPair({ kind: 'fake', adapterViews: false })),
    ).rejects.toThrow(/scaled-adapter views/);
  });

  it('on the fake pair: linear and overshooting, but saturating at λ 1.25 > 1.05 → FAIL', async () => {
    const r = await run('adapter_ablation', { prompts: ['abc', 'hello'] }, await openPair({ kind: 'fake' }));
    const curve = r.evidence.mean_divergence_per_lambda as number[];
    expect(curve).toHaveLength(6);
    expect(curve[0]).toBe(0);
    for (let i = 1; i < curve.length; i++) expect(curve[i]!).toBeGreaterThan(curve[i - 1]!);
    expect(r.raw!).toBeCloseTo(0.94189, 4);
    expect(r.evidence.saturation_lambda).toBe(1.25);
    expect(r.evidence.overshoot as number).toBeCloseTo(1.46853, 4);
    expect(r.verdict).toBe('fail');
    // 0.4·clip(0.942/0.85) + 0.3·0.3 (saturation outside the range) + 0.3·clip((1.469 − 1)/0.2)
    expect(r.score!).toBeCloseTo(0.79, 12);
  });

  it('accepts a saturation range that holds λ 1.25 → PASS', async () => {
    const r = await run(
      'adapter_ablation',
      { prompts: ['abc', 'hello'], assert_saturation_between: [0.3, 1.3] },
      await openPair({ kind: 'fake' }),
    );
    expect(r.verdict).toBe('pass');
    expect(r.score!).toBeCloseTo(1, 12);
  });
});

describe('null_adapter', () => {
  it('calibrates the probes after it and hands their stats on', async () => {
    const downstream: CommonProbeSpec[] = [
      {
        ...common('delta_kl'),
        prompts: ['abc', 'hello'],
        divergence: 'js',
        top_k: null,
        assert_mean_gte: 0.02,
        assert_z_gte: 3,
      } as CommonProbeSpec,
    ];
    const r = await run('null_adapter', { runs: 3 }, await openPair({ kind: 'fake' }), { downstream });
    expect(r.verdict).toBe('pass');
    const stats = r.evidence.null_stats as Record<string, { mean: number; std: number; n: number }>;
    expect(stats.delta_kl!.n).toBe(3);
    expect(stats.delta_kl!.mean).toBeCloseTo(1.552e-4, 7);
    // sway: population std (sample std × √(2/3)), floored at 1e-6.
    expect(stats.delta_kl!.std).toBeCloseTo(8.466e-6, 8);
    await expect(
      run('null_adapter', {}, await openPair({ kind: 'fake', adapterViews: false })),
    ).rejects.toThrow(/null-adapter views/);
  });
});
