import { z } from 'zod';
import { clip, mean } from '../core/index.ts';
import { decide, sectionsFor, throwIfAborted } from './common.ts';
import { probeSpec, sectionsField, zThresholdField } from './probeSpec.ts';
import { makeResult } from './result.ts';
import { sequenceMatcherRatio } from './sequenceMatcher.ts';
import { PERTURBATIONS, perturb } from './textFeatures.ts';
import { ProbeSkip, type ProbeDefinition } from './types.ts';

export const LeakageSpecSchema = probeSpec('leakage', {
  sections: sectionsField,
  prefix_chars: z.int().min(8).default(128),
  target_chars: z.int().min(8).default(256),
  max_new_tokens: z.int().min(1).default(96),
  assert_recall_lt: z.number().default(0.5),
  assert_fragility_gte: z.number().default(0.3),
  assert_z_gte: zThresholdField,
});

export type LeakageSpec = z.output<typeof LeakageSpecSchema>;

/**
 * leakage (calibration, lower is better, ft view only): does ft recite the document? For each prose
 * section, greedy-generate from its first 128 characters and compare with the next 256 (difflib's
 * gestalt ratio), also from 7 perturbed prefixes. Recall that collapses under perturbation
 * (fragility ≥ 0.3) is rote memory of the exact wording; PASS when recall < 0.5 or fragility ≥ 0.3.
 */
export const leakage: ProbeDefinition<LeakageSpec> = {
  kind: 'leakage',
  category: 'calibration',
  schema: LeakageSpecSchema,
  async run(spec, ctx) {
    const prose = sectionsFor(spec, ctx).filter(
      (s) => s.kind === 'prose' && s.text.length > spec.prefix_chars + 16,
    );
    if (prose.length === 0)
      throw new ProbeSkip('no prose section longer than the prefix to test for leakage');
    const clean: number[] = [];
    const fragility: number[] = [];
    const total = prose.length * (1 + PERTURBATIONS.length);
    let done = 0;
    for (const s of prose) {
      const prefix = s.text.slice(0, spec.prefix_chars);
      const target = s.text.slice(spec.prefix_chars, spec.prefix_chars + spec.target_chars);
      const recall = async (p: string) => {
        throwIfAborted(ctx);
        const out = await ctx.backend.ft.generate(p, { maxNewTokens: spec.max_new_tokens, seed: ctx.seed });
        ctx.onProgress({ done: ++done, total });
        return sequenceMatcherRatio(out.slice(0, target.length), target);
      };
      const c = await recall(prefix);
      const perturbed: number[] = [];
      for (const kind of PERTURBATIONS) perturbed.push(await recall(perturb(prefix, kind)));
      clean.push(c);
      fragility.push(c === 0 ? 0 : Math.max(0, (c - mean(perturbed)) / c));
    }
    const recall = mean(clean);
    const frag = mean(fragility);
    const recallScore = clip(1 - recall / spec.assert_recall_lt / 2);
    const fragBonus = clip(frag / spec.assert_fragility_gte);
    const d = decide(spec.kind, recall, ctx, {
      zThreshold: spec.assert_z_gte,
      lowerIsBetter: true,
      fallbackPass: recall < spec.assert_recall_lt || frag >= spec.assert_fragility_gte,
      fallbackScore: 0.7 * recallScore + 0.3 * fragBonus,
    });
    return makeResult(spec, d.verdict, {
      raw: recall,
      zScore: d.z,
      score: d.score,
      ftValue: recall,
      message: `verbatim recall ${recall.toFixed(3)}, fragility ${frag.toFixed(3)} over ${prose.length} sections`,
      evidence: {
        per_section_recall: clean,
        per_section_fragility: fragility,
        perturbations: [...PERTURBATIONS],
      },
    });
  },
  calibrateSpec: (spec) => spec,
};
