/** Statistics the probes and the scorer share (sway's `_zscore.py` and `bootstrap_ci`). */

const MIN_STD = 1e-6;

export interface NullStatsLike {
  mean: number;
  std: number;
  degenerate?: number;
}

/**
 * (raw − mean) / std, or null when there is nothing honest to report: no stats, a non-finite value,
 * degenerate null runs (`degenerate ≥ 0.5`), or std below 1e-6 (sway's guards against "+290,766σ").
 */
export function zScore(
  raw: number | null | undefined,
  stats: NullStatsLike | null | undefined,
): number | null {
  if (raw === null || raw === undefined || stats === null || stats === undefined) return null;
  if (!Number.isFinite(raw) || !Number.isFinite(stats.mean) || !Number.isFinite(stats.std)) return null;
  if ((stats.degenerate ?? 0) >= 0.5) return null;
  if (stats.std < MIN_STD) return null;
  return (raw - stats.mean) / stats.std;
}

/** PASS when z ≥ threshold, FAIL otherwise; null without a z. */
export function verdictFromZ(z: number | null, threshold: number): 'pass' | 'fail' | null {
  if (z === null) return null;
  return z >= threshold ? 'pass' : 'fail';
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** sway's `score_from_z`: sigmoid(clamp(z/3, −50, 50)). z = 3 gives 0.731. */
export function scoreFromZ(z: number): number {
  return sigmoid(Math.min(50, Math.max(-50, z / 3)));
}

export const clip = (x: number, lo = 0, hi = 1): number => Math.min(hi, Math.max(lo, x));

export function mean(xs: ArrayLike<number>): number {
  if (xs.length === 0) return Number.NaN;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}

/** Population variance (Python's `statistics.pvariance`). */
export function pvariance(xs: ArrayLike<number>): number {
  if (xs.length === 0) return Number.NaN;
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i]! - m) ** 2;
  return s / xs.length;
}

/** Neumaier-compensated sum: within an ulp or so of Python's `math.fsum`. */
export function fsum(xs: ArrayLike<number>): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    const t = s + x;
    c += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
    s = t;
  }
  return s + c;
}

/** Python's `statistics.fmean`: fsum / n; NaN for an empty array. */
export function fmean(xs: ArrayLike<number>): number {
  return xs.length === 0 ? Number.NaN : fsum(xs) / xs.length;
}

/** Population standard deviation (Python's `statistics.pstdev`); NaN for an empty array. */
export function pstdev(xs: ArrayLike<number>): number {
  if (xs.length === 0) return Number.NaN;
  const m = fmean(xs);
  const sq = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) sq[i] = (xs[i]! - m) ** 2;
  return Math.sqrt(fsum(sq) / xs.length);
}

/** What `null_adapter` publishes per probe kind, and what `zScore` reads. */
export interface NullRawStats {
  mean: number;
  /** Population std of the null raws, floored at 1e-6 (sway's C9 floor). */
  std: number;
  n: number;
  /** 1 when the nulls cannot calibrate (one run, or raws whose spread collapsed below 1e-6), else 0. */
  degenerate: number;
}

/**
 * sway's null statistics of a probe's finite raw values over the null adapters: `fmean`, and
 * `max(pstdev, 1e-6)` (0 before the floor for a single run). `degenerate` marks the stats z-scores must
 * not use (sway's `_zscore.z_score` returns None for them): one run, or a spread below the floor.
 * null when there is no raw at all.
 */
export function nullStatsOf(raws: readonly number[]): NullRawStats | null {
  if (raws.length === 0) return null;
  const sd = raws.length > 1 ? pstdev(raws) : 0;
  return {
    mean: fmean(raws),
    std: Math.max(sd, MIN_STD),
    n: raws.length,
    degenerate: raws.length < 2 || sd < MIN_STD ? 1 : 0,
  };
}

/** Sample standard deviation (n − 1). */
export function stdev(xs: ArrayLike<number>): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i]! - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

/** mulberry32: small, fast, seedable; the project's one PRNG for anything that must replay. */
export function seededRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The project's one percentile: linear interpolation between closest ranks (numpy's default
 * `np.percentile`, which sway's reports use), of an ascending array, q in [0, 1]. The live latency
 * charts, the bootstrap CIs and the reports all read p50/p95/p99 through it, so one run shows one
 * p95 everywhere. NaN for an empty array.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0 || Number.isNaN(q)) return Number.NaN;
  const pos = (n - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * Percentile bootstrap CI of the mean (sway's `bootstrap_ci`): `nBootstrap` resamples with a seeded
 * PRNG. null for empty or non-finite input, an invalid confidence or bounds that overflow; (v, v) when
 * all samples agree.
 * The PRNG differs from numpy's, so intervals match sway's in distribution, not bit for bit.
 */
export function bootstrapCi(
  samples: ArrayLike<number>,
  opts: { nBootstrap?: number; confidence?: number; seed?: number } = {},
): [number, number] | null {
  const n = samples.length;
  const confidence = opts.confidence ?? 0.95;
  if (n === 0 || !(confidence > 0 && confidence < 1)) return null;
  for (let i = 0; i < n; i++) if (!Number.isFinite(samples[i]!)) return null;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    min = Math.min(min, samples[i]!);
    max = Math.max(max, samples[i]!);
  }
  if (min === max) return [samples[0]!, samples[0]!];
  const nb = opts.nBootstrap ?? 1000;
  const rand = seededRng(opts.seed ?? 0);
  const means = new Float64Array(nb);
  for (let b = 0; b < nb; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += samples[Math.floor(rand() * n)]!;
    means[b] = s / n;
  }
  means.sort();
  const alpha = (1 - confidence) / 2;
  const lo = quantileSorted(means, alpha);
  const hi = quantileSorted(means, 1 - alpha);
  // Resampled means can overflow (samples near ±1.8e308): no interval rather than [Inf, NaN].
  return Number.isFinite(lo) && Number.isFinite(hi) ? [lo, hi] : null;
}

/** R² of the least-squares line through (x, y); 1 when y is constant (sway's linearity). */
export function linearFit(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
): { slope: number; intercept: number; r2: number } {
  const n = x.length;
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  const intercept = my - slope * mx;
  const r2 = syy === 0 ? 1 : sxx === 0 ? 0 : (sxy * sxy) / (sxx * syy);
  return { slope, intercept, r2 };
}
