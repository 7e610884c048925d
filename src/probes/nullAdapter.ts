import { z } from 'zod';
import { sha1Hex } from '../core/promptHash.ts';
import { sortedJsonValue } from '../core/sortedJson.ts';
import { nullStatsOf } from '../core/statistics.ts';
import { isNullCalibrated, type NullCalibratedBackend } from '../backend/capabilities.ts';
import type { DifferentialBackend } from '../backend/index.ts';
import { nullStatsKey, throwIfAborted } from './common.ts';
import { probeSpec } from './probeSpec.ts';
import { makeResult } from './result.ts';
import { ProbeSkip, type NullStats, type ProbeContext, type ProbeDefinition } from './types.ts';

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

/** What the cache holds per key: everything the result reports, so a hit reports the same. */
interface CachedCalibration {
  format: typeof CACHE_FORMAT;
  byRank: Record<string, Record<string, NullStats>>;
  samplesByRank: Record<string, Record<string, number[]>>;
  skippedByRank: Record<string, { kind: string; reason: string }[]>;
}

/** Bumped when what calibration computes changes, so older entries read as misses. */
const CACHE_FORMAT = 'deltascope-null-stats/1';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A cached entry, or null when it is missing or not of this format (read as a miss, recomputed). */
function readCached(v: unknown, ranks: readonly string[]): CachedCalibration | null {
  if (!isRecord(v) || v.format !== CACHE_FORMAT) return null;
  const { byRank, samplesByRank, skippedByRank } = v;
  if (!isRecord(byRank) || !isRecord(samplesByRank) || !isRecord(skippedByRank)) return null;
  for (const r of ranks) {
    const stats = byRank[r];
    const samples = samplesByRank[r];
    if (!isRecord(stats) || !isRecord(samples) || !Array.isArray(skippedByRank[r])) return null;
    for (const [kind, s] of Object.entries(stats)) {
      const raws = samples[kind];
      if (!isRecord(s) || !Array.isArray(raws) || !raws.every((x) => typeof x === 'number')) return null;
      if (![s.mean, s.std, s.n].every((x) => typeof x === 'number' && Number.isFinite(x))) return null;
    }
  }
  return v as unknown as CachedCalibration;
}

/**
 * The cache key (sway's `compute_key`: a hash of the backend's identity and every parameter that
 * decides the statistics): the backend's `nullIdentity`, the null adapters' parameters and each
 * calibrated probe's calibration spec (its prompts included), so changing any of them misses.
 */
function cacheKey(
  identity: string,
  spec: NullAdapterSpec,
  calibrated: readonly { kind: string; key: string; spec: unknown }[],
): string {
  const payload = {
    backend: identity,
    format: CACHE_FORMAT,
    params: {
      runs: spec.runs,
      init_scale: spec.init_scale,
      seed_base: spec.seed_base,
      rank_multipliers: spec.rank_multipliers,
      targets: calibrated,
    },
  };
  return sha1Hex(new TextEncoder().encode(JSON.stringify(sortedJsonValue(payload))));
}

/**
 * null_adapter (baseline, weight 0): runs each later probe against `runs` random adapters of the
 * same structure and records sway's statistics of their raw values (mean, population std floored at
 * 1e-6); later probes turn their raw value into a z-score against these. Needs null-adapter views
 * (runtime LoRA); SKIPs otherwise. With `cache: true` (the default) and a caller's cache
 * (`ctx.nullCache`), the statistics are kept under a key of the backend's identity and every
 * calibration parameter, and a later run with the same key reads them instead of calibrating.
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
    const rankKeys = ranks.map(rankKey);
    // Each target's calibration spec (null: the probe opts out), decided once for every rank.
    const plans = targets.map((target) => {
      const def = ctx.probes.get(target.kind);
      return { target, def, calSpec: def?.calibrateSpec?.(target) ?? null };
    });
    const cache = spec.cache && backend.nullIdentity !== undefined ? ctx.nullCache : undefined;
    const key =
      cache === undefined
        ? null
        : cacheKey(
            backend.nullIdentity!,
            spec,
            plans.map((p) => ({ kind: p.target.kind, key: nullStatsKey(p.target), spec: p.calSpec })),
          );
    let cached: CachedCalibration | null = null;
    if (cache !== undefined && key !== null) {
      cached = readCached(await cache.get(key).catch(() => null), rankKeys);
    }
    const fromCache = cached !== null;
    const calibration = cached ?? (await calibrate(spec, ctx, backend, plans));
    if (!fromCache && cache !== undefined && key !== null) await cache.put(key, calibration).catch(() => {});
    const { byRank, samplesByRank, skippedByRank } = calibration;
    const primary = byRank[rankKey(1)] !== undefined ? rankKey(1) : rankKeys[0]!;
    const stats = byRank[primary]!;
    const skipped = skippedByRank[primary]!;
    const n = Object.keys(stats).length;
    let message =
      ranks.length === 1
        ? `null calibration: ${n} kinds calibrated over ${spec.runs} seeds`
        : `null calibration: ${n} kinds × ${ranks.length} ranks [${ranks.map((m) => `${m}x`).join(', ')}] over ${spec.runs} seeds`;
    if (skipped.length > 0) message += ` (${skipped.length} opted out)`;
    if (fromCache) message += ` (from cache: ${cache!.where})`;
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
        from_cache: fromCache,
        ...(key !== null ? { cache_key: key } : {}),
      },
    });
  },
  calibrateSpec: () => null,
};

interface CalibrationPlan {
  target: ProbeContext['downstream'][number];
  def: ProbeDefinition | undefined;
  calSpec: ProbeContext['downstream'][number] | null;
}

/**
 * sway's order: each rank multiplier calibrates every target kind over `runs` seeds and keeps its
 * own statistics; the 1.0× group (else the first) is what z-scores read.
 */
async function calibrate(
  spec: NullAdapterSpec,
  ctx: ProbeContext,
  backend: NullCalibratedBackend,
  plans: readonly CalibrationPlan[],
): Promise<CachedCalibration> {
  const byRank: Record<string, Record<string, NullStats>> = {};
  const samplesByRank: Record<string, Record<string, number[]>> = {};
  const skippedByRank: Record<string, { kind: string; reason: string }[]> = {};
  let done = 0;
  const total = plans.length * spec.runs * spec.rank_multipliers.length;
  for (const rank of spec.rank_multipliers) {
    const key = rankKey(rank);
    const stats: Record<string, NullStats> = {};
    const samples: Record<string, number[]> = {};
    const skipped: { kind: string; reason: string }[] = [];
    for (const { target, def, calSpec } of plans) {
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
  return { format: CACHE_FORMAT, byRank, samplesByRank, skippedByRank };
}
