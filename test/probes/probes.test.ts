// Each probe on hand-written backends, with expected values computed by hand (formulas in comments).
import { describe, expect, it } from 'vitest';
import { createFakeBackend } from '../../src/backend/index.ts';
import { checkObject, type SchemaIssue } from '../../src/core/index.ts';
import { probeRegistry, probeSchema } from '../../src/probes/registry.ts';
import { saturation } from '../../src/probes/adapterAblation.ts';
import { specificity } from '../../src/probes/clusterKl.ts';
import { sectionsFromMarkdown } from '../../src/probes/common.ts';
import { styleFingerprint, perturb, PERTURBATIONS } from '../../src/probes/textFeatures.ts';
import { CALIBRATION_PACK } from '../../src/probes/data/calibrationPack.ts';
import type { CommonProbeSpec, DocSection, ProbeResult } from '../../src/probes/types.ts';
import { common, ctxFor, scriptedBackend, type Script } from './scriptedBackend.ts';

/** Validates a probe entry through the registry schema (defaults filled), then runs it. */
async function run(
  kind: string,
  fields: Record<string, unknown>,
  backend = scriptedBackend({}, {}),
  ctx = {},
) {
  const def = probeRegistry.get(kind)!;
  const issues: SchemaIssue[] = [];
  const spec = checkObject(
    { ...common(kind), ...fields },
    probeSchema(def),
    [],
    issues,
  ) as unknown as CommonProbeSpec;
  expect(issues).toEqual([]);
  return def.run(spec, ctxFor(backend, ctx));
}

const js = (p: number[], q: number[]) => {
  const m = p.map((x, i) => (x + q[i]!) / 2);
  const kl = (a: number[], b: number[]) =>
    a.reduce((s, x, i) => (x > 0 ? s + x * Math.log(x / b[i]!) : s), 0);
  return 0.5 * kl(p, m) + 0.5 * kl(q, m);
};

describe('probe registry', () => {
  it('has all of sway’s probe kinds, one file each', () => {
    expect([...probeRegistry.keys()].sort()).toEqual(
      [
        'adapter_ablation',
        'calibration_drift',
        'cluster_kl',
        'delta_kl',
        'external_perplexity',
        'leakage',
        'null_adapter',
        'paraphrase_invariance',
        'preference_flip',
        'prompt_collapse',
        'section_internalization',
        'style_fingerprint',
      ].sort(),
    );
  });
  it('has ≥ 100 calibration items', () => {
    expect(CALIBRATION_PACK.length).toBeGreaterThanOrEqual(100);
  });
});

describe('delta_kl', () => {
  it('mean JS over prompts; PASS above 0.02; score raw/ln2', async () => {
    const b = scriptedBackend(
      { dist: () => [0.5, 0.5] },
      { dist: (p) => (p === 'a' ? [0.9, 0.1] : [0.5, 0.5]) },
    );
    // The uniform [0.5, 0.5] is rejected as "effectively uniform", so use near-uniform base values.
    const b2 = scriptedBackend(
      { dist: () => [0.6, 0.4] },
      { dist: (p) => (p === 'a' ? [0.9, 0.1] : [0.6, 0.4]) },
    );
    await expect(run('delta_kl', { prompts: ['a'] }, b)).rejects.toThrow(/effectively uniform/);
    const r = await run('delta_kl', { prompts: ['a', 'b'] }, b2);
    const expected = (js([0.6, 0.4], [0.9, 0.1]) + 0) / 2;
    expect(r.raw!).toBeCloseTo(expected, 6);
    expect(r.verdict).toBe(expected >= 0.02 ? 'pass' : 'fail');
    expect(r.score!).toBeCloseTo(expected / Math.LN2, 6);
    expect(r.evidence.num_prompts).toBe(2);
  });
  it('uses the null stats for a z-score when calibrated', async () => {
    const b = scriptedBackend({ dist: () => [0.6, 0.4] }, { dist: () => [0.9, 0.1] });
    const raw = js([0.6, 0.4], [0.9, 0.1]);
    const r = await run('delta_kl', { prompts: ['x'] }, b, {
      nullStats: { delta_kl: { mean: 0.01, std: 0.01, n: 3 } },
    });
    expect(r.zScore!).toBeCloseTo((raw - 0.01) / 0.01, 4);
    expect(r.score!).toBeCloseTo(1 / (1 + Math.exp(-r.zScore! / 3)), 6);
  });
  it('reports an empty prompt list as ERROR', async () => {
    expect((await run('delta_kl', { prompts: [] })).verdict).toBe('error');
  });
});

describe('preference_flip', () => {
  const margins: Record<string, [number, number]> = {
    // prompt: [base margin, ft margin]; margin = lp(chosen) − lp(rejected)
    p1: [-1, 1],
    p2: [-2, -1],
    p3: [-0.5, 0.5],
    p4: [1, 2],
  };
  const script = (side: 0 | 1): Script => ({
    logprob: (p, c) => (c === 'yes' ? margins[p]![side] : 0),
  });
  const triples = Object.keys(margins).map((prompt) => ({ prompt, chosen: 'yes', rejected: 'no' }));
  it('flip rate over base-wrong triples: 2 of 3 = 0.667 < 0.7 → FAIL', async () => {
    const r = await run('preference_flip', { triples }, scriptedBackend(script(0), script(1)));
    expect(r.raw!).toBeCloseTo(2 / 3, 12);
    expect(r.verdict).toBe('fail');
    expect(r.score!).toBeCloseTo(2 / 3, 12);
    expect(r.evidence.base_wrong).toBe(3);
  });
  it('WARNs with fewer than 3 base-wrong triples: score clip(0.5 + meanΔ/4)', async () => {
    const r = await run(
      'preference_flip',
      { triples: triples.slice(2) },
      scriptedBackend(script(0), script(1)),
    );
    // Δ = (0.5 − −0.5, 2 − 1) = (1, 1) → 0.5 + 1/4
    expect(r.verdict).toBe('warn');
    expect(r.score!).toBeCloseTo(0.75, 12);
  });
});

describe('calibration_drift', () => {
  it('δ per item = (lp_ft − lp_base)/max(1, len(gold)//4); regressed when δ < −1', async () => {
    const items = CALIBRATION_PACK.slice(0, 4);
    // ft loses 10 nats on the first item only. " Paris" has 6 chars → 1 token.
    const b = scriptedBackend({ logprob: () => -2 }, { logprob: (p) => (p === items[0]![0] ? -12 : -2) });
    const r = await run('calibration_drift', { items_limit: 4 }, b);
    expect(r.raw).toBe(0.25);
    expect(r.ftValue!).toBeCloseTo(-10 / 4, 12);
    // frac 0.25 ≥ 0.15 → FAIL; score 0.6·max(0, 1 − 0.25/0.15) + 0.4·clip((−2.5 + 1)/1.5) = 0
    expect(r.verdict).toBe('fail');
    expect(r.score).toBe(0);
  });
});

describe('external_perplexity', () => {
  it('mean δ of per-chunk mean log-probs; PASS at ≥ −0.1; score clip(0.5 + δ)', async () => {
    const b = scriptedBackend({ rolling: () => [-3, -3] }, { rolling: () => [-3, -3.1] });
    const r = await run('external_perplexity', { chunk_chars: 4096, max_chunks: 3 }, b);
    expect(r.raw!).toBeCloseTo(-0.05, 6);
    expect(r.verdict).toBe('pass');
    expect(r.score!).toBeCloseTo(0.45, 6);
  });
});

describe('section_internalization', () => {
  const sections: DocSection[] = [
    { id: 's1', kind: 'prose', text: 'one' },
    { id: 's2', kind: 'prose', text: 'two' },
  ];
  it('effective = own − mean(own of others): s1 0.5, s2 −0.5 → half pass → PASS', async () => {
    const b = scriptedBackend(
      { rolling: () => [-2, -2] },
      { rolling: (t) => (t === 'one' ? [-1, -1] : [-2, -2]) },
    );
    const r = await run('section_internalization', { sections }, b);
    // own: s1 (2 − 1)/2 = 0.5, s2 0 → effective 0.5, −0.5
    expect(r.raw!).toBeCloseTo(0, 12);
    expect(r.score).toBe(0.5);
    expect(r.verdict).toBe('pass');
  });
  it('SKIPs with fewer than two sections', async () => {
    await expect(run('section_internalization', { sections: sections.slice(0, 1) })).rejects.toThrow(
      /at least 2/,
    );
  });
});

describe('paraphrase_invariance', () => {
  it('lift per token and paraphrase ratio', async () => {
    // gold "abcdefgh" → 2 tokens; verbatim lift (−2 − −6)/2 = 2; paraphrase lift (−4 − −6)/2 = 1 → ratio 0.5
    const b = scriptedBackend({ logprob: () => -6 }, { logprob: (p) => (p === 'q' ? -2 : -4) });
    const r = await run(
      'paraphrase_invariance',
      { cases: [{ prompt: 'q', gold: 'abcdefgh', paraphrases: ['q2'] }] },
      b,
    );
    expect(r.raw).toBe(2);
    expect(r.evidence.ratio).toBe(0.5);
    expect(r.verdict).toBe('pass');
    expect(r.score).toBe(1);
  });
});

describe('prompt_collapse', () => {
  it('half-life ln2·(−1/slope) from a divergence halving every 100 tokens', async () => {
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
    expect(r.raw!).toBeGreaterThan(80);
    expect(r.raw!).toBeLessThan(120);
    expect(r.verdict).toBe('pass');
  });
  it('passes without a half-life when the effect does not decay', async () => {
    const b = scriptedBackend({ dist: () => [0.6, 0.4] }, { dist: () => [0.9, 0.1] });
    const r = await run('prompt_collapse', { prompts: ['x'], context_lengths: [0, 8] }, b);
    expect(r.verdict).toBe('pass');
    expect(r.evidence.half_life_tokens).toBeNull();
  });
});

describe('leakage', () => {
  const text = 'Quillhaven is a small harbour town. '.repeat(12);
  it('recites → recall 1; collapses under perturbation → fragile → PASS', async () => {
    const target = text.slice(32, 96);
    const b = scriptedBackend({}, { generate: (p) => (p === text.slice(0, 32) ? target : 'zzz') });
    const r = await run(
      'leakage',
      { sections: [{ id: 's', kind: 'prose', text }], prefix_chars: 32, target_chars: 64 },
      b,
    );
    expect(r.raw).toBe(1);
    // A perturbation that leaves the prefix unchanged still recites: fragility = 1 − unchanged/7.
    const prefix = text.slice(0, 32);
    const unchanged = PERTURBATIONS.filter((k) => perturb(prefix, k) === prefix).length;
    expect((r.evidence.per_section_fragility as number[])[0]).toBeCloseTo(1 - unchanged / 7, 12);
    expect(r.verdict).toBe('pass');
  });
  it('robust verbatim recall → FAIL', async () => {
    const target = text.slice(32, 96);
    const b = scriptedBackend({}, { generate: () => target });
    const r = await run(
      'leakage',
      { sections: [{ id: 's', kind: 'prose', text }], prefix_chars: 32, target_chars: 64 },
      b,
    );
    expect(r.verdict).toBe('fail');
  });
  it('has seven deterministic perturbations that change the text', () => {
    const s = 'The old lantern, made of glass, is bright.';
    for (const k of PERTURBATIONS) expect(perturb(s, k)).not.toBe(s);
    expect(perturb(s, 'prefix_inject')).toBe('I think that the old lantern, made of glass, is bright.');
    expect(perturb(s, 'clause_reverse')).toBe('made of glass, is bright., The old lantern');
  });
});

describe('style_fingerprint', () => {
  it('computes the six dimensions by hand', () => {
    // 2 sentences of 3 and 1 words; 4 words, 4 distinct; word lengths 3,3,3,2; punct 2 of 15 chars; 1 paragraph.
    const f = styleFingerprint('The cat sat. Go!');
    expect(f[0]).toBeCloseTo(2 / 30);
    expect(f[1]).toBeCloseTo(1 / 30);
    expect(f[2]).toBe(1);
    expect(f[3]).toBeCloseTo(11 / 4 / 10);
    expect(f[4]).toBeCloseTo((2 / 16) * 10);
    expect(f[5]).toBeCloseTo((1 / 4) * 30);
  });
  it('shift = (ft − base)·(doc − base)/‖doc − base‖²: ft writing like the doc → 1', async () => {
    const doc = 'Short one. Short two.';
    const b = scriptedBackend(
      { generate: () => 'A much longer sentence with many words in it here.' },
      { generate: () => doc },
    );
    const r = await run(
      'style_fingerprint',
      { prompts: ['x'], sections: [{ id: 'd', kind: 'prose', text: doc }] },
      b,
    );
    expect(r.raw!).toBeCloseTo(1, 12);
    expect(r.verdict).toBe('pass');
  });
});

describe('cluster_kl', () => {
  it('specificity = between/(between + within)', () => {
    expect(specificity([0, 0, 1, 1], [0, 0, 1, 1]).value).toBe(1);
    expect(specificity([0, 1, 0, 1], [0, 0, 1, 1]).value).toBe(0);
    expect(specificity([1, 1, 1, 1], [0, 0, 1, 1]).value).toBe(0.5);
  });
  it('SKIPs below min_prompts', async () => {
    await expect(run('cluster_kl', { prompts: ['a', 'b'], min_prompts: 4 })).rejects.toThrow(
      /at least 4 prompts/,
    );
  });
  it('runs on the fake backend and clusters deterministically', async () => {
    const prompts = Array.from({ length: 20 }, (_, i) => `topic ${i % 4} item ${i}`);
    const a = await run('cluster_kl', { prompts, num_clusters: 4 }, createFakeBackend());
    const b = await run('cluster_kl', { prompts, num_clusters: 4 }, createFakeBackend());
    expect(a.evidence.labels).toEqual(b.evidence.labels);
    expect(a.raw!).toBeGreaterThanOrEqual(0);
    expect(a.raw!).toBeLessThanOrEqual(1);
  });
});

describe('adapter_ablation', () => {
  it('saturation search: found, non-monotonic, flat', () => {
    expect(saturation([0, 0.5, 1], [0, 0.5, 1])).toEqual({ lambda: 1, reason: 'found' });
    expect(saturation([0, 0.5, 1, 1.5], [0, 0.95, 0.9, 1])).toEqual({ lambda: 0.5, reason: 'found' });
    expect(saturation([0, 0.5, 1], [0.2, 0.1, 1])).toEqual({ lambda: 1, reason: 'non_monotonic' });
    expect(saturation([0, 1], [0, 0])).toEqual({ lambda: null, reason: 'flat_curve' });
  });
  it('SKIPs without scaled views, runs a curve with them', async () => {
    await expect(
      run('adapter_ablation', { prompts: ['a'] }, createFakeBackend({ adapterViews: false })),
    ).rejects.toThrow(/scaled-adapter views/);
    const r: ProbeResult = await run('adapter_ablation', { prompts: ['abc', 'hello'] }, createFakeBackend());
    const curve = r.evidence.mean_divergence_per_lambda as number[];
    expect(curve).toHaveLength(6);
    expect(curve[0]).toBe(0);
    for (let i = 1; i < curve.length; i++) expect(curve[i]!).toBeGreaterThan(curve[i - 1]!);
    expect(r.evidence.overshoot as number).toBeGreaterThan(1);
  });
});

describe('null_adapter', () => {
  it('calibrates the probes after it and hands their stats on', async () => {
    const fake = createFakeBackend();
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
    const r = await run('null_adapter', { runs: 3 }, fake, { downstream });
    const stats = r.evidence.null_stats as Record<string, { mean: number; std: number; n: number }>;
    expect(stats.delta_kl!.n).toBe(3);
    expect(stats.delta_kl!.std).toBeGreaterThan(0);
    await expect(run('null_adapter', {}, createFakeBackend({ adapterViews: false }))).rejects.toThrow(
      /null-adapter views/,
    );
  });
});

describe('sectionsFromMarkdown', () => {
  it('makes one prose section per paragraph, named after its heading', () => {
    const s = sectionsFromMarkdown('# Title\n\nFirst para.\n\nSecond para.\n\n## Next\n\nThird.');
    expect(s.map((x) => x.id)).toEqual(['Title ¶1', 'Title ¶2', 'Next ¶3']);
    expect(s[2]!.text).toBe('Third.');
  });
});
