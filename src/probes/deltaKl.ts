import { z } from 'zod';
import { bootstrapCi, mean, scoreFromZ, verdictFromZ, zScore, pyFixed } from '../core/index.ts';
import { nullStatsKey } from './common.ts';
import { exactEvidence, exactValue, methodField, promptDivergences } from './exactEvidence.ts';
import { divergenceField, probeSpec, topKField, zThresholdField } from './probeSpec.ts';
import { makeResult, safeFinalize } from './result.ts';
import type { ProbeDefinition } from './types.ts';

export const DeltaKlSpecSchema = probeSpec('delta_kl', {
  prompts: z.array(z.string()).default([]),
  divergence: divergenceField,
  top_k: topKField,
  assert_mean_gte: z.number().default(0.02),
  assert_z_gte: zThresholdField,
  /** `topk` (sway's formula, the default) or `exact` (full vocabulary; reported as its own method). */
  method: methodField,
});

export type DeltaKlSpec = z.output<typeof DeltaKlSpecSchema>;

/**
 * delta_kl (adherence): how far ft's next-token distribution moved from base's, averaged over
 * prompts. raw = mean divergence; PASS when z ≥ 3 if calibrated, else raw ≥ 0.02. Score sigmoid(z/3),
 * else min(1, raw/ln 2) for JS (raw for KL).
 */
export const deltaKl: ProbeDefinition<DeltaKlSpec> = {
  kind: 'delta_kl',
  category: 'adherence',
  schema: DeltaKlSpecSchema,
  async run(spec, ctx) {
    if (spec.prompts.length === 0) return makeResult(spec, 'error', { message: 'no prompts given' });
    const topK = spec.top_k ?? ctx.topK;
    const { backend } = ctx;
    ctx.onProgress({ done: 0, total: spec.prompts.length });
    const { perPrompt, exact } = await promptDivergences(backend, spec, topK);
    ctx.onProgress({ done: spec.prompts.length, total: spec.prompts.length });
    const raw = mean(perPrompt);
    // The label says which formula `raw` is: sway's top-k (with its k) or the exact full vocabulary.
    const label = spec.method === 'exact' ? `exact ${spec.divergence}` : `${spec.divergence}@${topK}`;
    const exactMean = exact === null ? null : mean(exact.map((d) => exactValue(d, spec.divergence)));
    const z = zScore(raw, ctx.nullStats[nullStatsKey(spec)]);
    const verdict = verdictFromZ(z, spec.assert_z_gte) ?? (raw >= spec.assert_mean_gte ? 'pass' : 'fail');
    const score = z !== null ? scoreFromZ(z) : Math.min(1, raw / (spec.divergence === 'js' ? Math.LN2 : 1));
    return safeFinalize(
      makeResult(spec, verdict, {
        raw,
        zScore: z,
        score,
        ci95: bootstrapCi(perPrompt, { seed: ctx.seed }),
        message:
          (z !== null
            ? `mean ${label} ${pyFixed(raw, 4)}, z ${pyFixed(z, 2)} (threshold ${spec.assert_z_gte})`
            : `mean ${label} ${pyFixed(raw, 4)} (threshold ${spec.assert_mean_gte}; no calibration for delta_kl)`) +
          (spec.method === 'exact' || exactMean === null
            ? ''
            : `; exact ${spec.divergence} ${pyFixed(exactMean, 4)}`),
        evidence: {
          per_prompt: perPrompt,
          max: Math.max(...perPrompt),
          num_prompts: perPrompt.length,
          divergence_kind: spec.divergence,
          raw_formula:
            spec.method === 'exact' ? `exact ${spec.divergence}` : `sway ${spec.divergence}@${topK}`,
          ...exactEvidence(exact, spec.method),
        },
      }),
    );
  },
  calibrateSpec: (spec) => spec,
};
