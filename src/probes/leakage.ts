import { pyFixed } from '../core/index.ts';
import { z } from 'zod';
import { decide, sectionsFor, throwIfAborted } from './common.ts';
import { probeSpec, sectionsField, zThresholdField } from './probeSpec.ts';
import { makeResult, safeFinalize } from './result.ts';
import { sequenceMatcherRatio } from './sequenceMatcher.ts';
import { PERTURBATIONS, hasText, perturb } from './textFeatures.ts';
import { ProbeSkip, type DocSection, type ProbeDefinition } from './types.ts';

export const LeakageSpecSchema = probeSpec('leakage', {
  sections: sectionsField,
  prefix_chars: z.int().min(1).default(128),
  continuation_chars: z.int().min(1).default(256),
  max_new_tokens: z.int().min(1).default(96),
  perturbations: z.array(z.enum(PERTURBATIONS)).default([...PERTURBATIONS]),
  assert_recall_lt: z.number().default(0.5),
  min_fragility: z.number().default(0.3),
  assert_z_gte: zThresholdField,
});

export type LeakageSpec = z.output<typeof LeakageSpecSchema>;

/** Python's `s[a:b]` on code points. */
const pySlice = (cps: string[], a: number, b?: number): string => cps.slice(a, b).join('');

/** sway's `_lcs_ratio`: difflib's gestalt ratio, 0 when either side is empty. */
export const recallRatio = (generated: string, target: string): number =>
  generated === '' || target === '' ? 0 : sequenceMatcherRatio(generated, target);

/** sway's fragility: how much of the clean recall is lost under perturbation, max(0, (c − p)/c). */
export const fragility = (clean: number, perturbed: number): number =>
  clean <= 0 ? 0 : Math.max(0, (clean - perturbed) / clean);

const fmean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * leakage (calibration, lower is better, ft view only): does ft recite the document? For each prose
 * section, greedy-generate from its first `prefix_chars` characters and compare the whole generation
 * with the next `continuation_chars` (difflib's gestalt ratio), then again from each perturbed prefix.
 * raw = mean clean recall; ft_value = fragility of the means, max(0, (clean − perturbed)/clean).
 * PASS when recall < 0.5 or fragility ≥ 0.3; fallback score 0.7·clip(1 − recall/0.5) +
 * 0.3·clip(fragility/0.3); with null stats the verdict is −z ≥ 3.
 */
export const leakage: ProbeDefinition<LeakageSpec> = {
  kind: 'leakage',
  category: 'calibration',
  schema: LeakageSpecSchema,
  async run(spec, ctx) {
    const prose = sectionsFor(spec, ctx).filter((s) => s.kind === 'prose' && hasText(s.text));
    if (prose.length === 0) throw new ProbeSkip('no PROSE sections to test for leakage');
    const total = prose.length * (1 + spec.perturbations.length);
    let done = 0;
    const generate = async (p: string) => {
      throwIfAborted(ctx);
      const out = await ctx.backend.ft.generate(p, { maxNewTokens: spec.max_new_tokens, seed: ctx.seed });
      ctx.onProgress({ done: ++done, total });
      return out;
    };
    return leakageResult(spec, ctx, prose, generate);
  },
  calibrateSpec: (spec) => ({
    ...spec,
    name: '_calibration',
    prefix_chars: 64,
    continuation_chars: 128,
    max_new_tokens: 48,
  }),
};

/** sway's leakage run over the prose sections with a generator (ft's greedy `generate`). */
export async function leakageResult(
  spec: LeakageSpec,
  ctx: Parameters<typeof decide>[2],
  prose: readonly DocSection[],
  generate: (prompt: string) => Promise<string>,
) {
  const clean: number[] = [];
  const perturbedMeans: number[] = [];
  const perSection: Record<string, unknown>[] = [];
  for (const s of prose) {
    const cps = Array.from(s.text);
    const prefix = pySlice(cps, 0, spec.prefix_chars);
    const target = pySlice(cps, spec.prefix_chars, spec.prefix_chars + spec.continuation_chars);
    if (!hasText(target)) continue;
    const c = recallRatio(await generate(prefix), target);
    clean.push(c);
    const per: number[] = [];
    for (const kind of spec.perturbations)
      per.push(recallRatio(await generate(perturb(prefix, kind)), target));
    const meanPert = per.length > 0 ? fmean(per) : c;
    perturbedMeans.push(meanPert);
    perSection.push({
      section_id: s.id,
      clean_recall: c,
      perturbed_recall: meanPert,
      fragility: fragility(c, meanPert),
    });
  }
  if (clean.length === 0) throw new ProbeSkip('no PROSE sections had scorable continuations');
  const meanClean = fmean(clean);
  const meanPert = fmean(perturbedMeans);
  const meanFragility = fragility(meanClean, meanPert);
  const recallScore = Math.max(0, Math.min(1, 1 - meanClean / Math.max(spec.assert_recall_lt, 1e-6)));
  const fragilityBonus = Math.min(1, Math.max(0, meanFragility / Math.max(spec.min_fragility, 1e-6)));
  const d = decide(spec.kind, meanClean, ctx, {
    zThreshold: spec.assert_z_gte,
    lowerIsBetter: true,
    fallbackPass: meanClean < spec.assert_recall_lt || meanFragility >= spec.min_fragility,
    fallbackScore: 0.7 * recallScore + 0.3 * fragilityBonus,
  });
  const head = `greedy_recall=${pyFixed(meanClean, 2)}`;
  const detail = `perturbed=${pyFixed(meanPert, 2)}, fragility=${pyFixed(meanFragility, 2)}`;
  return safeFinalize(
    makeResult(spec, d.verdict, {
      raw: meanClean,
      zScore: d.z,
      score: d.score,
      ftValue: meanFragility,
      message:
        d.z !== null
          ? `${head} (${detail}), z=${d.z >= 0 ? '+' : ''}${pyFixed(d.z, 2)}σ vs null`
          : `${head} (${detail}) (no calibration for leakage)`,
      evidence: {
        mean_clean_recall: meanClean,
        mean_perturbed_recall: meanPert,
        mean_fragility: meanFragility,
        per_section: perSection.slice(0, 10),
      },
    }),
  );
}
