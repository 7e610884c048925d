import { z } from 'zod';
import { mean, pvariance, quantileSorted, seededRng, type TokenDist, pyFixed } from '../core/index.ts';
import { decide, nullStatsKey } from './common.ts';
import { exactEvidence, methodField, promptDivergences } from './exactEvidence.ts';
import { divergenceField, probeSpec, topKField, zThresholdField } from './probeSpec.ts';
import { makeResult, safeFinalize } from './result.ts';
import { ProbeSkip, type ProbeDefinition } from './types.ts';

export const ClusterKlSpecSchema = probeSpec('cluster_kl', {
  prompts: z.array(z.string()).min(1),
  num_clusters: z.int().min(2).max(32).default(5),
  min_prompts: z.int().min(4).default(20),
  divergence: divergenceField,
  top_k: topKField,
  assert_specificity_gte: z.number().default(0.6),
  assert_z_gte: zThresholdField,
  /** `topk` (sway's formula, the default) or `exact` (full vocabulary; reported as its own method). */
  method: methodField,
});

export type ClusterKlSpec = z.output<typeof ClusterKlSpecSchema>;

/**
 * Embeds a prompt as its base next-token distribution (a sparse vector over the vocabulary, L2
 * normalised). sway embeds with a sentence-transformer, which cannot be downloaded here; this uses
 * only the loaded base model, and prompts about the same topic predict similar next tokens.
 */
function embed(d: TokenDist): Map<number, number> {
  const v = new Map<number, number>();
  let n = 0;
  d.tokenIds.forEach((id, i) => {
    const p = Math.exp(d.logprobs[i]!);
    v.set(id, p);
    n += p * p;
  });
  const norm = Math.sqrt(n) || 1;
  for (const [k, x] of v) v.set(k, x / norm);
  return v;
}

function dist2(a: Map<number, number>, b: Map<number, number>): number {
  let s = 0;
  for (const [k, x] of a) s += (x - (b.get(k) ?? 0)) ** 2;
  for (const [k, y] of b) if (!a.has(k)) s += y * y;
  return s;
}

function centroid(points: Map<number, number>[]): Map<number, number> {
  const c = new Map<number, number>();
  for (const p of points) for (const [k, x] of p) c.set(k, (c.get(k) ?? 0) + x / points.length);
  return c;
}

/** k-means with k-means++ seeding, best of `nInit` seeded restarts (sway: KMeans, n_init=10). */
export function kmeans(points: Map<number, number>[], k: number, seed: number, nInit = 10): number[] {
  let best: number[] = [];
  let bestInertia = Infinity;
  for (let run = 0; run < nInit; run++) {
    const rand = seededRng(seed * 1009 + run);
    const centers = [points[Math.floor(rand() * points.length)]!];
    while (centers.length < k) {
      const d = points.map((p) => Math.min(...centers.map((c) => dist2(p, c))));
      const total = d.reduce((a, b) => a + b, 0);
      let r = rand() * total;
      let idx = d.findIndex((x) => (r -= x) <= 0);
      if (idx === -1 || total === 0) idx = Math.floor(rand() * points.length);
      centers.push(points[idx]!);
    }
    let labels = points.map(() => 0);
    for (let iter = 0; iter < 50; iter++) {
      const next = points.map((p) => {
        let bi = 0;
        let bd = Infinity;
        centers.forEach((c, ci) => {
          const dd = dist2(p, c);
          if (dd < bd) {
            bd = dd;
            bi = ci;
          }
        });
        return bi;
      });
      const changed = next.some((l, i) => l !== labels[i]);
      labels = next;
      for (let c = 0; c < k; c++) {
        const members = points.filter((_, i) => labels[i] === c);
        if (members.length > 0) centers[c] = centroid(members);
      }
      if (!changed) break;
    }
    const inertia = points.reduce((s, p, i) => s + dist2(p, centers[labels[i]!]!), 0);
    if (inertia < bestInertia) {
      bestInertia = inertia;
      best = labels;
    }
  }
  return best;
}

/** Python's `math.fsum`: the correctly rounded sum (Shewchuk's partials, as CPython computes it). */
export function fsum(xs: readonly number[]): number {
  const partials: number[] = [];
  for (let x of xs) {
    let i = 0;
    for (let y of partials) {
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) partials[i++] = lo;
      x = hi;
    }
    partials.length = i;
    partials.push(x);
  }
  let n = partials.length;
  let hi = 0;
  if (n > 0) {
    hi = partials[--n]!;
    let lo = 0;
    while (n > 0) {
      const x = hi;
      const y = partials[--n]!;
      hi = x + y;
      lo = y - (hi - x);
      if (lo !== 0) break;
    }
    if (n > 0 && ((lo < 0 && partials[n - 1]! < 0) || (lo > 0 && partials[n - 1]! > 0))) {
      const y = lo * 2;
      const x = hi + y;
      if (y === x - hi) hi = x;
    }
  }
  return hi;
}

/** Python's `statistics.fmean`: fsum / n. */
export const fmean = (xs: readonly number[]): number => fsum(xs) / xs.length;

/** A finite double as an exact ratio m · 2^e with an integer m. */
function exact(x: number): [bigint, number] {
  if (x === 0) return [0n, 0];
  let e = 0;
  let m = x;
  while (!Number.isInteger(m)) {
    m *= 2;
    e--;
  }
  return [BigInt(m), e];
}

/**
 * Python's `statistics.pvariance` for finite doubles: the population variance computed exactly
 * (rational arithmetic) and rounded once, so equal values give exactly 0 and nearly equal ones a tiny
 * positive variance, as sway sees them.
 */
export function exactPvariance(xs: readonly number[]): number {
  const n = xs.length;
  if (n === 0) return Number.NaN;
  if (xs.some((x) => !Number.isFinite(x))) return pvariance(xs);
  const parts = xs.map(exact);
  const emin = Math.min(...parts.map(([, e]) => e));
  const ints = parts.map(([m, e]) => m << BigInt(e - emin));
  let s1 = 0n;
  let s2 = 0n;
  for (const v of ints) {
    s1 += v;
    s2 += v * v;
  }
  const N = BigInt(n);
  const num = N * s2 - s1 * s1; // variance = num / n² · 2^(2·emin)
  if (num === 0n) return 0;
  const den = N * N;
  // 64 significant bits of num/den, then one rounding to a double, then the power of two.
  const shift = Math.max(0, 64 - (num.toString(2).length - den.toString(2).length));
  const q = Number((num << BigInt(shift)) / den);
  let out = q;
  let k = 2 * emin - shift;
  while (k < -1000) {
    out *= 2 ** -1000;
    k += 1000;
  }
  while (k > 1000) {
    out *= 2 ** 1000;
    k -= 1000;
  }
  return out * 2 ** k;
}

export interface Specificity {
  between: number;
  within: number;
  /** between / (between + within); 0.5 when both are 0. */
  value: number;
  /** Both variances are 0: no per-prompt spread to attribute. */
  degenerate: boolean;
  /** Prompts per cluster label 0 … k−1. */
  perClusterSize: number[];
  /** Mean divergence per cluster; null for an empty cluster (sway writes NaN). */
  perClusterMean: (number | null)[];
}

/**
 * sway's cluster aggregation: `between` is the population variance of the non-empty clusters'
 * mean divergences (0 with fewer than two), `within` the mean of the population variances of the
 * clusters with at least two prompts (singletons are left out; 0 when none), specificity =
 * between / (between + within), or 0.5 when that is 0.
 */
export function specificity(divs: readonly number[], labels: readonly number[], k: number): Specificity {
  const buckets: number[][] = Array.from({ length: k }, () => []);
  labels.forEach((l, i) => buckets[l]!.push(divs[i]!));
  const means: number[] = [];
  const withins: number[] = [];
  const perClusterMean: (number | null)[] = [];
  for (const vals of buckets) {
    if (vals.length === 0) {
      perClusterMean.push(null);
      continue;
    }
    const m = fmean(vals);
    means.push(m);
    perClusterMean.push(m);
    if (vals.length > 1) withins.push(exactPvariance(vals));
  }
  const between = means.length >= 2 ? exactPvariance(means) : 0;
  const within = withins.length > 0 ? fmean(withins) : 0;
  const denom = between + within;
  const degenerate = denom <= 0;
  return {
    between,
    within,
    value: degenerate ? 0.5 : between / denom,
    degenerate,
    perClusterSize: buckets.map((b) => b.length),
    perClusterMean,
  };
}

/**
 * sway's bootstrap of the specificity: resample (divergence, label) pairs `n` times, recompute the
 * ratio (a resample with fewer than two clusters counts 0.5), take the 2.5 / 97.5 percentiles. null
 * below 4 prompts. The PRNG is the project's, not numpy's.
 */
export function bootstrapSpecificity(
  divs: readonly number[],
  labels: readonly number[],
  k: number,
  seed: number,
  nBootstrap = 1000,
): [number, number] | null {
  const n = divs.length;
  if (n < 4) return null;
  const rand = seededRng(seed);
  const ratios = new Float64Array(nBootstrap);
  for (let b = 0; b < nBootstrap; b++) {
    const sums = new Float64Array(k);
    const counts = new Int32Array(k);
    const picks: number[] = [];
    for (let j = 0; j < n; j++) {
      const i = Math.floor(rand() * n);
      picks.push(i);
      sums[labels[i]!]! += divs[i]!;
      counts[labels[i]!]! += 1;
    }
    const means: number[] = [];
    const sq = new Float64Array(k);
    for (const i of picks) sq[labels[i]!]! += (divs[i]! - sums[labels[i]!]! / counts[labels[i]!]!) ** 2;
    const withins: number[] = [];
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) continue;
      means.push(sums[c]! / counts[c]!);
      if (counts[c]! > 1) withins.push(sq[c]! / counts[c]!);
    }
    if (means.length < 2) {
      ratios[b] = 0.5;
      continue;
    }
    const between = pvariance(means);
    const within = withins.length > 0 ? mean(withins) : 0;
    ratios[b] = between + within > 0 ? between / (between + within) : 0.5;
  }
  ratios.sort();
  return [quantileSorted(ratios, 0.025), quantileSorted(ratios, 0.975)];
}

/** sway's 8 mixed-topic sentinel prompts for the null calibration of this probe (k = 2). */
export const CLUSTER_SENTINEL_PROMPTS = [
  'The cat chased the mouse.',
  'Write a Python decorator that logs calls.',
  'Dogs are loyal companions.',
  'Implement binary search in Rust.',
  'Horses gallop across the plains.',
  'Debug a segfault in C++ pointer arithmetic.',
  'Elephants never forget a face.',
  'Explain ownership in Rust.',
] as const;

/**
 * cluster_kl (adherence, batched): is the fine-tune's effect specific to some topics? Clusters the
 * prompts, and measures how much of the variance of per-prompt divergence lies between clusters
 * (singleton clusters add their mean to "between" but no variance to "within", as in sway).
 * specificity ≥ 0.6 passes; fallback score clip((specificity − 0.5)·2). No spread at all is WARN
 * with score 0.
 */
export const clusterKl: ProbeDefinition<ClusterKlSpec> = {
  kind: 'cluster_kl',
  category: 'adherence',
  schema: ClusterKlSpecSchema,
  async run(spec, ctx) {
    const n = spec.prompts.length;
    if (n < spec.min_prompts)
      throw new ProbeSkip(`need ≥${spec.min_prompts} prompts for stable clustering; got ${n}`);
    if (spec.num_clusters * 2 > n)
      throw new ProbeSkip(
        `num_clusters=${spec.num_clusters} with only ${n} prompts: per-cluster mean isn't well-resolved. Reduce num_clusters or add prompts.`,
      );
    const topK = spec.top_k ?? ctx.topK;
    ctx.onProgress({ done: 0, total: 1 });
    const { perPrompt: divs, base, exact } = await promptDivergences(ctx.backend, spec, topK);
    ctx.onProgress({ done: 1, total: 1 });
    const labels = kmeans(base.map(embed), spec.num_clusters, ctx.seed);
    return clusterKlResult(spec, ctx, divs, labels, exactEvidence(exact, spec.method));
  },
  calibrateSpec: (spec) => ({
    ...spec,
    name: '_calibration',
    prompts: [...CLUSTER_SENTINEL_PROMPTS],
    num_clusters: 2,
    min_prompts: 8,
  }),
};

/** sway's verdict from the per-prompt divergences and cluster labels. */
export function clusterKlResult(
  spec: ClusterKlSpec,
  ctx: Parameters<typeof decide>[2],
  divs: number[],
  labels: number[],
  /** The exact full-vocabulary evidence (`method`, `exact_js`, `exact_kl`), when the probe ran on a pair. */
  exactExtra: Record<string, unknown> = {},
) {
  const k = spec.num_clusters;
  const s = specificity(divs, labels, k);
  const meanKl = fmean(divs);
  const ci95 = bootstrapSpecificity(divs, labels, k, ctx.seed);
  const exemplars = Array.from({ length: k }, (_, c) =>
    labels
      .flatMap((l, j) => (l === c ? [j] : []))
      .slice(0, 2)
      .map((j) => spec.prompts[j]!.slice(0, 120)),
  );
  // sway's evidence keys first; the probe's own (labels, per-prompt divergences, embedder) after.
  const evidence: Record<string, unknown> = {
    num_clusters: k,
    num_prompts: spec.prompts.length,
    divergence_kind: spec.divergence,
    mean_kl: meanKl,
    within_cluster_variance: s.within,
    between_cluster_variance: s.between,
    per_cluster_size: s.perClusterSize,
    per_cluster_mean_kl: s.perClusterMean,
    cluster_exemplars: exemplars,
    raw_ci_95: ci95,
    per_prompt: divs,
    labels,
    embedding: 'base next-token distribution (no sentence-transformer offline)',
    ...exactExtra,
  };
  if (s.degenerate) {
    return safeFinalize(
      makeResult(spec, 'warn', {
        raw: s.value,
        score: 0,
        ci95,
        message: `specificity=0.50 (k=${k}) — degenerate: zero within/between variance (no per-prompt spread)`,
        evidence: { ...evidence, degenerate_zero_variance: true },
      }),
    );
  }
  const d = decide(nullStatsKey(spec), s.value, ctx, {
    zThreshold: spec.assert_z_gte,
    fallbackPass: s.value >= spec.assert_specificity_gte,
    fallbackScore: Math.max(0, Math.min(1, (s.value - 0.5) * 2)),
  });
  const head = `specificity=${pyFixed(s.value, 2)} (k=${k}), mean_kl=${pyFixed(meanKl, 3)}`;
  return safeFinalize(
    makeResult(spec, d.verdict, {
      raw: s.value,
      zScore: d.z,
      score: d.score,
      ci95,
      message:
        d.z !== null
          ? `${head}, z=${d.z >= 0 ? '+' : ''}${pyFixed(d.z, 2)}σ vs null`
          : `${head} (no calibration for cluster_kl)`,
      evidence,
    }),
  );
}
