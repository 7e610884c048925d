import { z } from 'zod';
import { clip, mean, pyFixed } from '../core/index.ts';
import { ci, decide } from './common.ts';
import { nonEmptyString, probeSpec, zThresholdField } from './probeSpec.ts';
import { makeResult } from './result.ts';
import type { ProbeDefinition } from './types.ts';

const PreferenceTripleSchema = z.strictObject({
  prompt: z.string(),
  chosen: nonEmptyString,
  rejected: nonEmptyString,
});

export type PreferenceTriple = z.output<typeof PreferenceTripleSchema>;

export const PreferenceFlipSpecSchema = probeSpec('preference_flip', {
  triples: z.array(PreferenceTripleSchema).min(1),
  assert_flip_rate_gte: z.number().min(0).max(1).default(0.7),
  assert_z_gte: zThresholdField,
});

export type PreferenceFlipSpec = z.output<typeof PreferenceFlipSpecSchema>;

/**
 * preference_flip (attribution): of the triples base gets wrong (prefers `rejected`), how many does
 * ft get right? margin = lp(chosen) − lp(rejected) per view; flip rate over base-wrong triples.
 * Fewer than 3 base-wrong triples → WARN with score clip(0.5 + mean Δmargin / 4).
 */
export const preferenceFlip: ProbeDefinition<PreferenceFlipSpec> = {
  kind: 'preference_flip',
  category: 'attribution',
  schema: PreferenceFlipSpecSchema,
  async run(spec, ctx) {
    const pairs = spec.triples.flatMap((t) => [
      [t.prompt, t.chosen] as const,
      [t.prompt, t.rejected] as const,
    ]);
    const margins = async (view: typeof ctx.backend.base) => {
      const lp = await view.logprobOfBatch(pairs);
      return spec.triples.map((_, i) => lp[2 * i]! - lp[2 * i + 1]!);
    };
    const base = await margins(ctx.backend.base);
    ctx.onProgress({ done: 1, total: 2 });
    const ft = await margins(ctx.backend.ft);
    ctx.onProgress({ done: 2, total: 2 });
    const deltas = ft.map((m, i) => m - base[i]!);
    const wrong = base.map((m, i) => (m < 0 ? i : -1)).filter((i) => i >= 0);
    const evidence = {
      base_margins: base,
      ft_margins: ft,
      base_wrong: wrong.length,
      num_triples: spec.triples.length,
    };
    if (wrong.length < 3) {
      return makeResult(spec, 'warn', {
        score: clip(0.5 + mean(deltas) / 4),
        baseValue: mean(base),
        ftValue: mean(ft),
        message: `only ${wrong.length} triple(s) where base prefers the rejected answer; need 3 for a flip rate`,
        evidence,
      });
    }
    const flips = wrong.map((i) => (ft[i]! > 0 ? 1 : 0));
    const rate = mean(flips);
    const d = decide(spec.kind, rate, ctx, {
      zThreshold: spec.assert_z_gte,
      fallbackPass: rate >= spec.assert_flip_rate_gte,
      fallbackScore: rate,
    });
    return makeResult(spec, d.verdict, {
      raw: rate,
      zScore: d.z,
      score: d.score,
      baseValue: mean(base),
      ftValue: mean(ft),
      ci95: ci(flips, ctx),
      message: `flip rate ${pyFixed(rate, 3)} over ${wrong.length} base-wrong triples (threshold ${spec.assert_flip_rate_gte})`,
      evidence,
    });
  },
  calibrateSpec: (spec) => spec,
};
