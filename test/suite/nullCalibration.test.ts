// null_adapter calibrates the probes declared after it on a pair with null-adapter views (the fake):
// the kinds whose calibrateSpec opts in (delta_kl, cluster_kl, style_fingerprint, leakage) get null
// statistics and a z-score (style_fingerprint on its sentinel prompts); prompt_collapse and
// adapter_ablation opt out.
import { describe, expect, it } from 'vitest';
import { openPair } from '../../src/backend/index.ts';
import { parseSuiteSpec } from '../../src/suite/spec.ts';
import { runSuite } from '../../src/suite/runner.ts';

const SPEC = `version: 1
models:
  base: {base: fake}
  ft: {base: fake}
suite:
  - {name: nulls, kind: null_adapter, runs: 3}
  - name: shift
    kind: delta_kl
    prompts: ["The keeper of the lighthouse", "Every spring the town", "A child found a lamp"]
  - name: shift_exact
    kind: delta_kl
    method: exact
    prompts: ["The keeper of the lighthouse", "Every spring the town", "A child found a lamp"]
  - name: clusters
    kind: cluster_kl
    num_clusters: 2
    min_prompts: 4
    prompts: ["a harbour", "the harbour boats", "a green lamp", "the old lamp", "bells ring", "the bell"]
  - name: decay
    kind: prompt_collapse
    prompts: ["The keeper"]
    context_lengths: [0, 32, 64]
  - name: style
    kind: style_fingerprint
    prompts: ["Write about the harbour.", "Describe the lamp."]
    max_new_tokens: 16
`;

describe('null calibration across probes', () => {
  it('gives z-scores to the kinds that opt in and none to those that opt out', async () => {
    const pair = await openPair({ kind: 'fake' });
    const result = await runSuite(parseSuiteSpec(SPEC), pair, { specPath: 'inline', sections: [] });
    const byName = Object.fromEntries(result.probes.map((p) => [p.name, p]));
    expect(byName.nulls!.verdict).toBe('pass');
    expect(Object.keys(result.nullStats)).toEqual(expect.arrayContaining(['delta_kl', 'cluster_kl']));
    expect(Object.keys(result.nullStats)).not.toContain('prompt_collapse');
    expect(byName.shift!.zScore).not.toBeNull();
    // An exact delta_kl is scored against nulls of the exact formula, never against sway's top-k ones.
    const nulls = result.nullStats as Record<string, { mean: number }>;
    expect(nulls['delta_kl@exact']).toBeDefined();
    expect(nulls['delta_kl@exact']!.mean).not.toBe(nulls.delta_kl!.mean);
    expect(byName.shift_exact!.zScore).not.toBeNull();
    expect(byName.clusters!.zScore).not.toBeNull();
    expect(byName.decay!.zScore).toBeNull();
    // style_fingerprint calibrates on its sentinel prompts and reference (it generates on null views).
    expect(Object.keys(result.nullStats)).toContain('style_fingerprint');
  });
});
