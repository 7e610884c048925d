import { clip, mean } from '../core/index.ts';
import { ci, decide, throwIfAborted } from './common.ts';
import { makeResult } from './result.ts';
import { approxTokens } from './textFeatures.ts';
import type { CommonProbeSpec, ProbeDefinition } from './types.ts';

export interface ParaphraseCase {
  prompt: string;
  gold: string;
  paraphrases: string[];
}

export interface ParaphraseInvarianceSpec extends CommonProbeSpec {
  cases: ParaphraseCase[];
  intent: 'generalize' | 'memorize';
  assert_verbatim_lift_gte: number;
  assert_ratio: number;
  assert_z_gte: number;
}

/**
 * paraphrase_invariance (attribution): does the lift ft gives the gold answer survive rephrasing the
 * question? lift = (lp_ft − lp_base)/tokens(gold); ratio = paraphrase lift / verbatim lift.
 * generalize: PASS when verbatim ≥ 0.2 and ratio ≥ 0.5; memorize: verbatim ≥ 0.2 and ratio ≤ 0.5.
 * Fallback score: half for the verbatim lift (clip(v/0.2)), half for the ratio condition's degree.
 */
export const paraphraseInvariance: ProbeDefinition<ParaphraseInvarianceSpec> = {
  kind: 'paraphrase_invariance',
  category: 'attribution',
  batchScore: true,
  needsBackend: true,
  fields: {
    cases: {
      type: 'list',
      minItems: 1,
      of: {
        type: 'object',
        fields: {
          prompt: { type: 'string' },
          gold: { type: 'string', nonEmpty: true },
          paraphrases: { type: 'list', of: { type: 'string' }, minItems: 1 },
        },
      },
    },
    intent: { type: 'enum', values: ['generalize', 'memorize'], default: 'generalize' },
    assert_verbatim_lift_gte: { type: 'number', default: 0.2 },
    assert_ratio: { type: 'number', default: 0.5 },
    assert_z_gte: { type: 'number', default: 3.0 },
  },
  async run(spec, ctx) {
    const verbatim: number[] = [];
    const ratios: number[] = [];
    const paraphrase: number[] = [];
    for (let c = 0; c < spec.cases.length; c++) {
      throwIfAborted(ctx);
      const k = spec.cases[c]!;
      const prompts = [k.prompt, ...k.paraphrases];
      const pairs = prompts.map((p) => [p, k.gold] as const);
      const [b, f] = [
        await ctx.backend.base.logprobOfBatch(pairs),
        await ctx.backend.ft.logprobOfBatch(pairs),
      ];
      const n = approxTokens(k.gold);
      const lifts = prompts.map((_, i) => (f[i]! - b[i]!) / n);
      const v = lifts[0]!;
      const p = mean(lifts.slice(1));
      verbatim.push(v);
      paraphrase.push(p);
      ratios.push(v === 0 ? 0 : p / v);
      ctx.onProgress({ done: c + 1, total: spec.cases.length });
    }
    const raw = mean(verbatim);
    const ratio = mean(ratios);
    const ratioOk = spec.intent === 'generalize' ? ratio >= spec.assert_ratio : ratio <= spec.assert_ratio;
    const ratioDegree =
      spec.intent === 'generalize'
        ? clip(ratio / spec.assert_ratio)
        : clip((1 - ratio) / (1 - spec.assert_ratio));
    const d = decide(spec.kind, raw, ctx, {
      zThreshold: spec.assert_z_gte,
      fallbackPass: raw >= spec.assert_verbatim_lift_gte && ratioOk,
      fallbackScore: 0.5 * clip(raw / spec.assert_verbatim_lift_gte) + 0.5 * ratioDegree,
    });
    return makeResult(spec, d.verdict, {
      raw,
      zScore: d.z,
      score: d.score,
      ci95: ci(verbatim, ctx),
      message: `verbatim lift ${raw.toFixed(3)} nats/token, paraphrase/verbatim ratio ${ratio.toFixed(2)} (${spec.intent})`,
      evidence: { verbatim_lift: verbatim, paraphrase_lift: paraphrase, ratio, intent: spec.intent },
    });
  },
  calibrateSpec: (spec) => spec,
};
