import { z } from 'zod';
import { nullStatsOf } from '../core/statistics.ts';
import { isNullCalibrated, type NullCalibratedBackend } from '../backend/capabilities.ts';
import type { DifferentialBackend } from '../backend/index.ts';
import { nullStatsKey, throwIfAborted } from './common.ts';
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

/** sway's key of a rank multiplier's group: `rank_1.00`. */
const rankKey = (mult: number): string => `rank_${mult.toFixed(2)}`;

/**
 * null_adapter (baseline, weight 0): runs each later probe against `runs` random adapters of the
 * same structure and records sway's statistics of their raw values (mean, population std floored at
 * 1e-6); later probes turn their raw value into a z-score against these. Needs null-adapter views (runtime LoRA); SKIPs otherwise.
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
    const ranks = spec.rank_multipliers;
    const byRank: Record<string, Record<string, NullStats>> = {};
    const samplesByRank: Record<string, Record<string, number[]>> = {};
    const skippedByRank: Record<string, { kind: string; reason: string }[]> = {};
    let done = 0;
    const total = targets.length * spec.runs * ranks.length;
    // sway's order: each rank multiplier calibrates every target kind over `runs` seeds, and keeps
    // its own statistics; the 1.0× group (else the first) is what z-scores read.
    for (const rank of ranks) {
      const key = rankKey(rank);
      const stats: Record<string, NullStats> = {};
      const samples: Record<string, number[]> = {};
      const skipped: { kind: string; reason: string }[] = [];
      for (const target of targets) {
        const def = ctx.probes.get(target.kind);
        const calSpec = def?.calibrateSpec?.(target) ?? null;
        if (def === undefined || calSpec === null) {
          skipped.push({ kind: target.kind, reason: 'probe opted out (calibrate_spec returned None)' });
          continue;
        }
        const raws: number[] = [];
        for (let i = 0; i < spec.runs; i++) {
          throwIfAborted(ctx);
          const proxy = nullProxy(backend, spec.seed_base + i, spec.init_scale, rank);
          // Calibration runs see no null stats, so nothing recurses.
          const r = await def.run(calSpec, { ...ctx, backend: proxy, nullStats: {}, onProgress: () => {} });
          if (r.raw !== null && Number.isFinite(r.raw)) raws.push(r.raw);
          ctx.onProgress({ done: ++done, total });
        }
        const s = nullStatsOf(raws);
        if (s === null) skipped.push({ kind: target.kind, reason: 'no finite raws across all seeds' });
        else {
          stats[nullStatsKey(target)] = s;
          samples[nullStatsKey(target)] = raws;
        }
      }
      byRank[key] = stats;
      samplesByRank[key] = samples;
      skippedByRank[key] = skipped;
    }
    const primary = byRank[rankKey(1)] !== undefined ? rankKey(1) : rankKey(ranks[0]!);
    const stats = byRank[primary]!;
    const skipped = skippedByRank[primary]!;
    const n = Object.keys(stats).length;
    let message =
      ranks.length === 1
        ? `null calibration: ${n} kinds calibrated over ${spec.runs} seeds`
        : `null calibration: ${n} kinds × ${ranks.length} ranks [${ranks.map((m) => `${m}x`).join(', ')}] over ${spec.runs} seeds`;
    if (skipped.length > 0) message += ` (${skipped.length} opted out)`;
    return makeResult(spec, 'pass', {
      score: 1.0,
      message,
      evidence: {
        null_stats: stats,
        null_stats_by_rank: byRank,
        per_kind_raw_samples: samplesByRank[primary]!,
        skipped_kinds: skipped,
        calibrated_kinds: Object.keys(stats),
        runs: spec.runs,
        init_scale: spec.init_scale,
        seed_base: spec.seed_base,
        rank_multipliers: ranks,
        weight: spec.weight,
        from_cache: false,
      },
    });
  },
  calibrateSpec: () => null,
};
