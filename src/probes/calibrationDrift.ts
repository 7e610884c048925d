import { z } from 'zod';
import { clip, mean, pyFixed } from '../core/index.ts';
import { ci, decide } from './common.ts';
import { CALIBRATION_PACK } from './data/calibrationPack.ts';
import { probeSpec, zThresholdField } from './probeSpec.ts';
import { makeResult } from './result.ts';
import { approxTokens } from './textFeatures.ts';
import type { ProbeDefinition } from './types.ts';

export const CalibrationDriftSpecSchema = probeSpec('calibration_drift', {
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
    const items = CALIBRATION_PACK.slice(0, spec.items_limit ?? CALIBRATION_PACK.length);
    const base = await ctx.backend.base.logprobOfBatch(items);
    ctx.onProgress({ done: items.length, total: items.length * 2 });
    const ft = await ctx.backend.ft.logprobOfBatch(items);
    ctx.onProgress({ done: items.length * 2, total: items.length * 2 });
    const deltas = items.map(([, gold], i) => (ft[i]! - base[i]!) / approxTokens(gold));
    const regressed = deltas.map((d) => (d < -spec.regression_nats ? 1 : 0));
    const frac = mean(regressed);
    const meanDelta = mean(deltas);
    const d = decide(spec.kind, frac, ctx, {
      zThreshold: spec.assert_z_gte,
      lowerIsBetter: true,
      fallbackPass: frac < spec.assert_fraction_regressed_lt && meanDelta >= spec.assert_mean_delta_gte,
      fallbackScore:
        0.6 * Math.max(0, 1 - frac / spec.assert_fraction_regressed_lt) + 0.4 * clip((meanDelta + 1) / 1.5),
    });
    return makeResult(spec, d.verdict, {
      raw: frac,
      zScore: d.z,
      score: d.score,
      ftValue: meanDelta,
      ci95: ci(regressed, ctx),
      message: `${pyFixed(frac * 100, 1)}% of ${items.length} items regressed by > ${spec.regression_nats} nat/token; mean δ ${pyFixed(meanDelta, 3)}`,
      evidence: { num_items: items.length, per_item_delta: deltas },
    });
  },
  calibrateSpec: (spec) => ({ ...spec, items_limit: 10 }),
};
