import { z } from 'zod';
import { mean, stdev } from '../core/index.ts';
import { isNullCalibrated, type NullCalibratedBackend } from '../backend/capabilities.ts';
import type { DifferentialBackend } from '../backend/index.ts';
import { throwIfAborted } from './common.ts';
import { probeSpec } from './probeSpec.ts';
import { makeResult } from './result.ts';
import { ProbeSkip, type NullStats, type ProbeDefinition } from './types.ts';

export const NullAdapterSpecSchema = probeSpec('null_adapter', {
  runs: z.int().min(1).max(10).default(3),
  init_scale: z.number().gt(0).default(0.02),
  seed_base: z.int().default(1000),
  calibrate_kinds: z.array(z.string()).default([]),
  rank_multipliers: z.array(z.number().gt(0)).min(1).default([1.0]),
  cache: z.boolean().default(true),
});

export type NullAdapterSpec = z.output<typeof NullAdapterSpecSchema>;

/** A backend whose ft view is a null adapter: what calibration runs the downstream probes against. */
function nullProxy(
  inner: NullCalibratedBackend,
  seed: number,
  initScale: number,
  rankScale: number,
): DifferentialBackend {
  const ft = inner.nullView(seed, { initScale, rankScale });
  return {
    base: inner.base,
    ft,
    instrumentation: inner.instrumentation,
    info: inner.info,
    view: (id) => (id === 'base' ? inner.base : ft),
    dispose: async () => undefined,
  };
}

/**
 * null_adapter (baseline, weight 0): runs each later probe against `runs` random adapters of the
 * same structure and records the mean and std of their raw values; later probes turn their raw value
 * into a z-score against these. Needs null-adapter views (runtime LoRA); SKIPs otherwise.
 */
export const nullAdapter: ProbeDefinition<NullAdapterSpec> = {
  kind: 'null_adapter',
  category: 'baseline',
  schema: NullAdapterSpecSchema,
  async run(spec, ctx) {
    const backend = ctx.backend;
    if (!isNullCalibrated(backend)) {
      throw new ProbeSkip('backend has no null-adapter views (needs runtime LoRA: load base + adapter)');
    }
    const targets = ctx.downstream.filter(
      (p) => p.enabled && (spec.calibrate_kinds.length === 0 || spec.calibrate_kinds.includes(p.kind)),
    );
    const stats: Record<string, NullStats> = {};
    const optedOut: string[] = [];
    let done = 0;
    const total = targets.length * spec.runs * spec.rank_multipliers.length;
    for (const target of targets) {
      const def = ctx.probes.get(target.kind);
      const calSpec = def?.calibrateSpec?.(target) ?? null;
      if (def === undefined || calSpec === null) {
        optedOut.push(target.kind);
        continue;
      }
      const raws: number[] = [];
      for (const rank of spec.rank_multipliers) {
        for (let i = 0; i < spec.runs; i++) {
          throwIfAborted(ctx);
          const proxy = nullProxy(backend, spec.seed_base + i, spec.init_scale, rank);
          // Calibration runs see no null stats, so nothing recurses.
          const r = await def.run(calSpec, { ...ctx, backend: proxy, nullStats: {}, onProgress: () => {} });
          if (r.raw !== null && Number.isFinite(r.raw)) raws.push(r.raw);
          ctx.onProgress({ done: ++done, total });
        }
      }
      if (raws.length === 0) continue;
      const allEqual = raws.every((v) => v === raws[0]);
      stats[target.kind] = {
        mean: mean(raws),
        std: stdev(raws),
        n: raws.length,
        degenerate: allEqual ? 1 : 0,
      };
    }
    return makeResult(spec, 'pass', {
      score: null,
      message: `calibrated ${Object.keys(stats).join(', ') || 'nothing'} over ${spec.runs} null adapter(s)`,
      evidence: { null_stats: stats, opted_out: optedOut, weight: 0 },
    });
  },
  calibrateSpec: () => null,
};
