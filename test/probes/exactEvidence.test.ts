// Divergence probes carry the exact full-vocabulary divergence beside sway's top-k raw, computed from
// the same lookups (one per prompt and view, over the full vocabulary), and `method: exact` makes
// the exact value the raw one.
import { describe, expect, it } from 'vitest';
import { openPair } from '../../src/backend/index.ts';
import { MemoryTraceSink, exactDivergence, mean } from '../../src/core/index.ts';
import { runProbe, scriptedBackend } from './scriptedBackend.ts';

const PROMPTS = ['The keeper of the lighthouse', 'Every spring the town', 'A child found'];

describe('delta_kl evidence', () => {
  it('default (sway top-k): raw unchanged, exact_js / exact_kl from the full distributions beside it', async () => {
    const trace = new MemoryTraceSink();
    const pair = await openPair({ kind: 'fake' }, { trace });
    const r = await runProbe('delta_kl', { prompts: PROMPTS, top_k: 8 }, pair);
    const V = pair.info.vocabSize;
    // One lookup per prompt and view, over the full vocabulary (the top-k is cut from it).
    const lookups = trace.events.filter((e) => e.op === 'next_token_dist');
    expect(lookups).toHaveLength(2 * PROMPTS.length);
    expect(new Set(lookups.map((e) => e.top_k))).toEqual(new Set([V]));
    expect(pair.instrumentation.stats.forwardPasses).toBe(2 * PROMPTS.length);
    const [b, f] = await Promise.all([
      pair.base.nextTokenDistBatch(PROMPTS, { topK: V }),
      pair.ft.nextTokenDistBatch(PROMPTS, { topK: V }),
    ]);
    const exact = PROMPTS.map((_, i) => exactDivergence(b[i]!, f[i]!));
    expect(r.evidence.method).toBe('topk');
    expect(r.evidence.raw_formula).toBe('sway js@8');
    expect(r.evidence.exact_js).toBe(mean(exact.map((d) => d.js)));
    expect(r.evidence.exact_kl).toBe(mean(exact.map((d) => d.klFtBase)));
    // sway's top-8 formula reads differently from the truth, and the message says which is which.
    expect(r.raw).not.toBe(r.evidence.exact_js);
    expect(r.message).toMatch(/^mean js@8 \d\.\d{4} .*; exact js \d\.\d{4}$/);
  });

  it('method: exact reports the full-vocabulary mean as raw, for JS and for KL', async () => {
    const pair = await openPair({ kind: 'fake' });
    const js = await runProbe('delta_kl', { prompts: PROMPTS, method: 'exact' }, pair);
    expect(js.raw).toBe(js.evidence.exact_js);
    expect(js.evidence.method).toBe('exact');
    expect(js.evidence.raw_formula).toBe('exact js');
    expect(js.message).toMatch(/^mean exact js /);
    const kl = await runProbe('delta_kl', { prompts: PROMPTS, method: 'exact', divergence: 'kl' }, pair);
    expect(kl.raw).toBe(kl.evidence.exact_kl);
  });

  it('an unknown method is a spec error', async () => {
    await expect(runProbe('delta_kl', { prompts: PROMPTS, method: 'fast' })).rejects.toThrow(/method/);
  });
});

describe('exact evidence in the other divergence probes', () => {
  const many = Array.from({ length: 8 }, (_, i) => `prompt number ${i} about the harbour`);

  it('cluster_kl: exact_js/exact_kl beside sway’s specificity; method: exact clusters the exact divergences', async () => {
    const pair = await openPair({ kind: 'fake' });
    const topk = await runProbe('cluster_kl', { prompts: many, num_clusters: 2, min_prompts: 4 }, pair);
    expect(topk.evidence.method).toBe('topk');
    expect(typeof topk.evidence.exact_js).toBe('number');
    const exact = await runProbe(
      'cluster_kl',
      { prompts: many, num_clusters: 2, min_prompts: 4, method: 'exact' },
      pair,
    );
    expect(exact.evidence.method).toBe('exact');
    expect(mean(exact.evidence.per_prompt as number[])).toBeCloseTo(exact.evidence.exact_js as number, 12);
    expect(exact.evidence.exact_js).toBe(topk.evidence.exact_js);
  });

  it('prompt_collapse and adapter_ablation: the exact divergence at every point of their curve', async () => {
    const pair = await openPair({ kind: 'fake' });
    const pc = await runProbe(
      'prompt_collapse',
      { prompts: ['x', 'y'], context_lengths: [0, 64, 256] },
      pair,
    );
    expect(pc.evidence.exact_js_per_length).toHaveLength(3);
    expect(pc.evidence.exact_kl_per_length).toHaveLength(3);
    const ab = await runProbe('adapter_ablation', { prompts: ['abc', 'hello'] }, pair);
    const lambdas = ab.evidence.lambdas as number[];
    const exactJs = ab.evidence.exact_js_per_lambda as number[];
    expect(exactJs).toHaveLength(lambdas.length);
    expect(exactJs[0]).toBe(0); // λ_min against itself
  });

  it('a backend that answers with top-k only has no exact value: null evidence, and method: exact is an error', async () => {
    const topOnly = scriptedBackend({ dist: () => [0.5, 0.3] }, { dist: () => [0.6, 0.2] });
    // Two of three tokens, tail left out: not a full distribution.
    for (const v of [topOnly.base, topOnly.ft]) {
      const inner = v.nextTokenDistBatch;
      v.nextTokenDistBatch = async (ps, o) => (await inner(ps, o)).map((d) => ({ ...d, vocabSize: 3 }));
    }
    const r = await runProbe('delta_kl', { prompts: ['a'] }, topOnly);
    expect(r.evidence.exact_js).toBeNull();
    await expect(runProbe('delta_kl', { prompts: ['a'], method: 'exact' }, topOnly)).rejects.toThrow(
      /method: exact needs full-vocabulary distributions/,
    );
  });
});
