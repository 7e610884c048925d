// prompt_collapse and cluster_kl against sway's own code: the half-life fit and verdict on scripted
// mean divergences, sway's test_probe_prompt_collapse scenarios on the same token distributions, and
// cluster_kl's specificity aggregation (fixtures from sway's prompt_collapse / cluster_kl).
import { describe, expect, it } from 'vitest';
import type { TokenDist } from '../../src/core/index.ts';
import type { DifferentialBackend, ScoringView } from '../../src/backend/index.ts';
import { clusterKlResult, specificity } from '../../src/probes/clusterKl.ts';
import { ClusterKlSpecSchema } from '../../src/probes/clusterKl.ts';
import { PromptCollapseSpecSchema, filler, promptCollapseResult } from '../../src/probes/promptCollapse.ts';
import { common, ctxFor, runProbe, scriptedBackend } from '../probes/scriptedBackend.ts';
import { close, closeAll, fixture } from './parityHelpers.ts';

interface PcExpected {
  verdict: string;
  score: number;
  raw: number | null;
  message: string;
}

const pc = fixture<{
  cases: {
    context_lengths: number[];
    mean_divergence: number[];
    assert_half_life_tokens: number;
    expected: PcExpected;
  }[];
  scenarios: {
    name: string;
    assert_half_life_tokens: number;
    prompt: string;
    context_lengths: number[];
    token_ids: number[];
    vocab_size: number;
    views: { base_logprobs: number[]; ft_logprobs: number[] }[];
    stuffing: string[];
    mean_divergence: number[];
    expected: PcExpected;
  }[];
}>('prompt_collapse');

describe('prompt_collapse = sway PromptCollapseProbe', () => {
  it('has at least 200 vectors', () => expect(pc.cases.length).toBeGreaterThanOrEqual(200));
  it.each(pc.cases.map((c, i) => [i, c.expected.verdict, c] as const))('#%i → %s', (_i, _v, c) => {
    const spec = PromptCollapseSpecSchema.parse({
      ...common('prompt_collapse'),
      prompts: ['q'],
      context_lengths: c.context_lengths,
      assert_half_life_tokens: c.assert_half_life_tokens,
    });
    const r = promptCollapseResult(spec, c.mean_divergence);
    expect(r.verdict).toBe(c.expected.verdict);
    close(r.score, c.expected.score, 'score');
    close(r.raw, c.expected.raw, 'raw');
    expect(r.message).toBe(c.expected.message);
    expect(r.evidence.context_lengths).toEqual(c.context_lengths);
  });

  it('uses sway’s stuffing', () => {
    const s = pc.scenarios[0]!;
    s.context_lengths.forEach((L, i) => expect(filler(L)).toBe(s.stuffing[i]));
  });

  // sway's tests/unit/test_probe_prompt_collapse.py: a programmed backend whose ft distribution decays
  // back to base with the stuffing length; the collapsing adapter (sensitivity 0.02) reaches ft = base
  // in float32 at 1024 tokens, so a divergence is 0 and there is no half-life → FAIL, score 0.
  it.each(pc.scenarios.map((s) => [s.name, s] as const))('%s', async (_n, s) => {
    const byPrompt = new Map<string, { base: TokenDist; ft: TokenDist }>();
    s.context_lengths.forEach((L, i) => {
      const d = (lp: number[]): TokenDist => ({
        tokenIds: Int32Array.from(s.token_ids),
        logprobs: Float32Array.from(lp),
        vocabSize: s.vocab_size,
        tailLogprob: null,
      });
      byPrompt.set(filler(L) + s.prompt, {
        base: d(s.views[i]!.base_logprobs),
        ft: d(s.views[i]!.ft_logprobs),
      });
    });
    const backend = scriptedBackend({}, {});
    const programmed = (side: 'base' | 'ft'): ScoringView => ({
      ...backend[side],
      nextTokenDistBatch: async (ps) => ps.map((p) => byPrompt.get(p)![side]),
      nextTokenDist: async (p) => byPrompt.get(p)![side],
    });
    const b: DifferentialBackend = { ...backend, base: programmed('base'), ft: programmed('ft') };
    const r = await runProbe(
      'prompt_collapse',
      {
        prompts: [s.prompt],
        context_lengths: s.context_lengths,
        assert_half_life_tokens: s.assert_half_life_tokens,
      },
      b,
    );
    // JS of two distributions 1e-10 apart is cancellation noise: a one-ulp difference between libm's
    // and V8's log moves it by ~1e-16 absolute, so those points are compared at 1e-15.
    closeAll(r.evidence.mean_divergence_per_length as number[], s.mean_divergence, 'mean divergence', 1e-15);
    expect(r.verdict).toBe(s.expected.verdict);
    close(r.score, s.expected.score, 'score');
    close(r.raw, s.expected.raw, 'raw');
  });
});

const ck = fixture<{
  cases: {
    divergences: number[];
    labels: number[];
    num_clusters: number;
    expected: {
      between: number;
      within: number;
      specificity: number;
      degenerate: boolean;
      per_cluster_size: number[];
      per_cluster_mean_kl: (number | null)[];
      mean_kl: number;
    };
    verdict: { verdict: string; score: number; raw: number };
  }[];
}>('cluster_kl_specificity');

describe('cluster_kl specificity = sway ClusterKLProbe aggregation', () => {
  it('has at least 200 vectors', () => expect(ck.cases.length).toBeGreaterThanOrEqual(200));
  it.each(ck.cases.map((c, i) => [i, c.verdict.verdict, c] as const))('#%i → %s', (_i, _v, c) => {
    const s = specificity(c.divergences, c.labels, c.num_clusters);
    const e = c.expected;
    expect(s.degenerate).toBe(e.degenerate);
    close(s.between, e.between, 'between');
    close(s.within, e.within, 'within');
    close(s.value, e.specificity, 'specificity');
    expect(s.perClusterSize).toEqual(e.per_cluster_size);
    e.per_cluster_mean_kl.forEach((m, j) => close(s.perClusterMean[j], m, `mean[${j}]`));
    if (c.divergences.length === 0) return;
    const spec = ClusterKlSpecSchema.parse({
      ...common('cluster_kl'),
      prompts: c.divergences.map((_, i) => `p${i}`),
      num_clusters: c.num_clusters,
    });
    const r = clusterKlResult(spec, ctxFor(scriptedBackend({}, {})), c.divergences, c.labels);
    expect(r.verdict).toBe(c.verdict.verdict);
    close(r.score, c.verdict.score, 'score');
    close(r.raw, c.verdict.raw, 'raw');
    close(r.evidence.mean_kl as number, e.mean_kl, 'mean_kl');
  });
});
