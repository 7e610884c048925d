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
 * PRNG. null for empty or non-finite input or an invalid confidence; (v, v) when all samples agree.
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
  let allEqual = true;
  for (let i = 1; i < n; i++) if (samples[i] !== samples[0]) allEqual = false;
  if (allEqual) return [samples[0]!, samples[0]!];
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
  return [quantileSorted(means, alpha), quantileSorted(means, 1 - alpha)];
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
