import { z } from 'zod';
import { linearFit, mean, clip, pyFixed } from '../core/index.ts';
import { isScalable } from '../backend/capabilities.ts';
import { throwIfAborted } from './common.ts';
import { ExactCurve, promptDivergences } from './exactEvidence.ts';
import { divergenceField, probeSpec, topKField } from './probeSpec.ts';
import { makeResult } from './result.ts';
import { ProbeSkip, type ProbeDefinition } from './types.ts';

export const AdapterAblationSpecSchema = probeSpec('adapter_ablation', {
  prompts: z.array(z.string()).min(1),
  lambdas: z
    .array(z.number())
    .min(3)
    .default([0, 0.25, 0.5, 0.75, 1.0, 1.25])
    .refine((ls) => new Set(ls).size === ls.length, { message: 'lambdas must be distinct' }),
  divergence: divergenceField,
  top_k: topKField,
  assert_linearity_gte: z.number().default(0.85),
  assert_saturation_between: z.tuple([z.number(), z.number()]).default([0.3, 1.05]),
  assert_overshoot_gte: z.number().default(1.02),
});

export type AdapterAblationSpec = z.output<typeof AdapterAblationSpecSchema>;

export type SaturationReason = 'found' | 'non_monotonic' | 'flat_curve' | 'below_floor';

/** Below this the whole curve is numerically zero: no saturation point can be located. */
const CURVE_FLOOR = 1e-9;

/** sway's saturation search: the smallest λ with div ≥ 0.9·max, over the full range. */
export function saturation(
  lambdas: number[],
  divs: number[],
): { lambda: number | null; reason: SaturationReason } {
  const max = Math.max(...divs);
  if (!(max > 0)) return { lambda: null, reason: 'flat_curve' };
  if (max < CURVE_FLOOR) return { lambda: null, reason: 'below_floor' };
  const idx = divs.findIndex((d) => d >= 0.9 * max);
  let dips = false;
  for (let i = 1; i <= idx; i++) if (divs[i]! < divs[i - 1]!) dips = true;
  return { lambda: lambdas[idx]!, reason: dips ? 'non_monotonic' : 'found' };
}

/**
 * adapter_ablation (the signature probe): scale the adapter by λ and watch the divergence from the
 * λ_min view grow. A healthy adapter gives a near-linear curve that saturates inside [0.3, 1.05] and
 * keeps rising past λ=1 (overshoot). Needs a backend with scaled views (runtime LoRA); SKIPs otherwise.
 */
export const adapterAblation: ProbeDefinition<AdapterAblationSpec> = {
  kind: 'adapter_ablation',
  category: 'ablation',
  schema: AdapterAblationSpecSchema,
  async run(spec, ctx) {
    const backend = ctx.backend;
    if (!isScalable(backend)) {
      throw new ProbeSkip('backend has no scaled-adapter views (needs runtime LoRA: load base + adapter)');
    }
    const topK = spec.top_k ?? ctx.topK;
    const lambdas = [...spec.lambdas].sort((a, b) => a - b);
    const lMin = lambdas[0]!;
    const divs: number[] = [];
    const exact = new ExactCurve();
    for (let li = 0; li < lambdas.length; li++) {
      throwIfAborted(ctx);
      // The reference is requested again for each λ on purpose: the cache serves it (view scaled_<λmin>).
      const d = await promptDivergences(
        { base: backend.scaledView(lMin), ft: backend.scaledView(lambdas[li]!), info: backend.info },
        { prompts: spec.prompts, divergence: spec.divergence, method: 'topk' },
        topK,
      );
      divs.push(mean(d.perPrompt));
      exact.add(d.exact);
      ctx.onProgress({ done: li + 1, total: lambdas.length });
    }
    const lin = linearFit(lambdas, divs).r2;
    const sat = saturation(lambdas, divs);
    const i1 = lambdas.indexOf(1);
    const d1 = i1 === -1 ? 0 : divs[i1]!;
    const overshoot = i1 === -1 || d1 <= 0 ? 1 : divs[divs.length - 1]! / d1;
    const [lo, hi] = spec.assert_saturation_between;
    const satOk =
      (sat.reason === 'found' || sat.reason === 'non_monotonic') &&
      sat.lambda !== null &&
      sat.lambda >= lo &&
      sat.lambda <= hi;
    const pass = lin >= spec.assert_linearity_gte && satOk && overshoot >= spec.assert_overshoot_gte;
    const score =
      0.4 * clip(lin / spec.assert_linearity_gte) +
      0.3 * (satOk ? 1 : 0.3) +
      0.3 * clip((overshoot - 1) / 0.2);
    return makeResult(spec, pass ? 'pass' : 'fail', {
      raw: lin,
      score,
      message: `linearity ${pyFixed(lin, 3)}, saturation λ ${sat.lambda === null ? '—' : pyFixed(sat.lambda, 2)} (${sat.reason}), overshoot ${pyFixed(overshoot, 3)}`,
      evidence: {
        lambdas,
        mean_divergence_per_lambda: divs,
        linearity: lin,
        saturation_lambda: sat.lambda,
        saturation_reason: sat.reason,
        overshoot,
        ...exact.evidence('lambda'),
      },
    });
  },
  // The null-adapter proxy has no scaled view: ablation opts out of calibration (as in sway).
  calibrateSpec: () => null,
};
