import { z } from 'zod';
import { clip, mean, pyFixed } from '../core/index.ts';
import { ci, decide, throwIfAborted } from './common.ts';
import { nonEmptyString, probeSpec, zThresholdField } from './probeSpec.ts';
import { makeResult } from './result.ts';
import { approxTokens } from './textFeatures.ts';
import type { ProbeDefinition } from './types.ts';

const ParaphraseCaseSchema = z.strictObject({
  prompt: z.string(),
  gold: nonEmptyString,
  paraphrases: z.array(z.string()).min(1),
});

export type ParaphraseCase = z.output<typeof ParaphraseCaseSchema>;

export const ParaphraseInvarianceSpecSchema = probeSpec('paraphrase_invariance', {
  cases: z.array(ParaphraseCaseSchema).min(1),
  intent: z.enum(['generalize', 'memorize']).default('generalize'),
  assert_verbatim_lift_gte: z.number().default(0.2),
  assert_ratio: z.number().default(0.5),
  assert_z_gte: zThresholdField,
});

export type ParaphraseInvarianceSpec = z.output<typeof ParaphraseInvarianceSpecSchema>;

/**
 * paraphrase_invariance (attribution): does the lift ft gives the gold answer survive rephrasing the
 * question? lift = (lp_ft − lp_base)/tokens(gold); ratio = paraphrase lift / verbatim lift.
 * generalize: PASS when verbatim ≥ 0.2 and ratio ≥ 0.5; memorize: verbatim ≥ 0.2 and ratio ≤ 0.5.
 * Fallback score: half for the verbatim lift (clip(v/0.2)), half for the ratio condition's degree.
 */
export const paraphraseInvariance: ProbeDefinition<ParaphraseInvarianceSpec> = {
  kind: 'paraphrase_invariance',
  category: 'attribution',
  schema: ParaphraseInvarianceSpecSchema,
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
      message: `verbatim lift ${pyFixed(raw, 3)} nats/token, paraphrase/verbatim ratio ${pyFixed(ratio, 2)} (${spec.intent})`,
      evidence: { verbatim_lift: verbatim, paraphrase_lift: paraphrase, ratio, intent: spec.intent },
    });
  },
  calibrateSpec: (spec) => spec,
};
