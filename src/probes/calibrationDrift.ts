import { z } from 'zod';
import { clip, pyFixed } from '../core/index.ts';
import { fmean } from '../core/statistics.ts';
import { decide } from './common.ts';
import { CALIBRATION_PACK } from './data/calibrationPack.ts';
import { probeSpec, zThresholdField } from './probeSpec.ts';
import { makeResult } from './result.ts';
import { approxTokens } from './textFeatures.ts';
import type { ProbeDefinition } from './types.ts';

export const CalibrationDriftSpecSchema = probeSpec('calibration_drift', {
  /** Source of items: the built-in pack (sway's only value). */
  pack: z.literal('builtin').default('builtin'),
  /** Inline (prompt, gold) items that replace the pack, as sway's `items`. */
  items: z.array(z.tuple([z.string(), z.string()])).default([]),
  items_limit: z.int().min(1).nullable().default(null),
  regression_nats: z.number().gt(0).default(1.0),
  assert_fraction_regressed_lt: z.number().min(0).max(1).default(0.15),
  assert_mean_delta_gte: z.number().default(-0.5),
  assert_z_gte: zThresholdField,
});

export type CalibrationDriftSpec = z.output<typeof CalibrationDriftSpecSchema>;

/**
 * calibration_drift (calibration, lower is better): did the fine-tune make ordinary facts less likely?
 * Per built-in item δ = (lp_ft − lp_base)/tokens(gold); an item regresses at δ < −1 nat. raw = the
 * fraction regressed; PASS when < 0.15 and mean δ ≥ −0.5.
 */
export const calibrationDrift: ProbeDefinition<CalibrationDriftSpec> = {
  kind: 'calibration_drift',
  category: 'calibration',
  schema: CalibrationDriftSpecSchema,
  async run(spec, ctx) {
    const pack = spec.items.length > 0 ? spec.items : CALIBRATION_PACK;
    const items = pack.slice(0, spec.items_limit ?? pack.length);
    if (items.length === 0) return makeResult(spec, 'error', { message: 'no calibration items' });
    const base = await ctx.backend.base.logprobOfBatch(items);
    ctx.onProgress({ done: items.length, total: items.length * 2 });
    const ft = await ctx.backend.ft.logprobOfBatch(items);
    ctx.onProgress({ done: items.length * 2, total: items.length * 2 });
    const deltas = items.map(([, gold], i) => (ft[i]! - base[i]!) / approxTokens(gold));
    const regressedCount = deltas.filter((d) => d < -spec.regression_nats).length;
    const frac = regressedCount / items.length;
    const meanDelta = fmean(deltas);
    // Up to five worst regressions, most negative first (sway's `worst_offenders`).
    const worst = items
      .map(([prompt, gold], i) => ({ prompt, gold, delta: deltas[i]! }))
      .filter((w) => w.delta < -spec.regression_nats)
      .sort((a, b) => a.delta - b.delta)
      .slice(0, 5);
    const d = decide(spec.kind, frac, ctx, {
      zThreshold: spec.assert_z_gte,
      lowerIsBetter: true,
      fallbackPass: frac < spec.assert_fraction_regressed_lt && meanDelta >= spec.assert_mean_delta_gte,
      fallbackScore:
        0.6 * Math.max(0, 1 - frac / Math.max(spec.assert_fraction_regressed_lt, 1e-6)) +
        0.4 * clip((meanDelta + 1) / 1.5),
    });
    return makeResult(spec, d.verdict, {
      raw: frac,
      zScore: d.z,
      score: d.score,
      ftValue: meanDelta,
      message:
        `${regressedCount}/${items.length} items regressed >${pyFixed(spec.regression_nats, 1)} nats ` +
        `(frac=${pyFixed(frac * 100, 1)}%), mean_delta=${meanDelta >= 0 ? '+' : ''}${pyFixed(meanDelta, 3)} nats/tok`,
      evidence: {
        fraction_regressed: frac,
        mean_delta_nats: meanDelta,
        regressed_count: regressedCount,
        total_items: items.length,
        worst_offenders: worst,
        regression_nats_threshold: spec.regression_nats,
        per_item_delta: deltas,
      },
    });
  },
  calibrateSpec: (spec) => ({ ...spec, items_limit: 10 }),
};
