import { z } from 'zod';
import {
  clip,
  divergence,
  mean,
  pvariance,
  quantileSorted,
  seededRng,
  type TokenDist,
} from '../core/index.ts';
import { decide } from './common.ts';
import { probeSpec, topKField, zThresholdField } from './probeSpec.ts';
import { makeResult } from './result.ts';
import { ProbeSkip, type ProbeDefinition } from './types.ts';

export const ClusterKlSpecSchema = probeSpec('cluster_kl', {
  prompts: z.array(z.string()).min(1),
  num_clusters: z.int().min(2).max(32).default(5),
  min_prompts: z.int().min(4).default(20),
  top_k: topKField,
  assert_specificity_gte: z.number().default(0.6),
  assert_z_gte: zThresholdField,
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

/** between / (between + within) over per-prompt divergences grouped by cluster label. */
export function specificity(
  divs: number[],
  labels: number[],
): { between: number; within: number; value: number } {
  const groups = new Map<number, number[]>();
  labels.forEach((l, i) => groups.set(l, [...(groups.get(l) ?? []), divs[i]!]));
  const means = [...groups.values()].map((g) => mean(g));
  const between = pvariance(means);
  const within = mean([...groups.values()].map((g) => pvariance(g)));
  return { between, within, value: between + within === 0 ? 0.5 : between / (between + within) };
}

/**
 * cluster_kl (adherence, batched): is the fine-tune's effect specific to some topics? Clusters the
 * prompts, and measures how much of the variance of per-prompt JS lies between clusters.
 * specificity ≥ 0.6 passes; fallback score clip((specificity − 0.5)·2).
 */
export const clusterKl: ProbeDefinition<ClusterKlSpec> = {
  kind: 'cluster_kl',
  category: 'adherence',
  schema: ClusterKlSpecSchema,
  async run(spec, ctx) {
    const n = spec.prompts.length;
    if (n < spec.min_prompts) throw new ProbeSkip(`needs at least ${spec.min_prompts} prompts, got ${n}`);
    if (spec.num_clusters * 2 > n)
      throw new ProbeSkip(`${spec.num_clusters} clusters need at least ${spec.num_clusters * 2} prompts`);
    const topK = spec.top_k ?? ctx.topK;
    const base = await ctx.backend.base.nextTokenDistBatch(spec.prompts, { topK });
    ctx.onProgress({ done: 1, total: 2 });
    const ft = await ctx.backend.ft.nextTokenDistBatch(spec.prompts, { topK });
    ctx.onProgress({ done: 2, total: 2 });
    const divs = spec.prompts.map((_, i) => divergence(base[i]!, ft[i]!, 'js'));
    const labels = kmeans(base.map(embed), spec.num_clusters, ctx.seed);
    const spec0 = specificity(divs, labels);
    const evidence = {
      per_prompt: divs,
      labels,
      between: spec0.between,
      within: spec0.within,
      embedding: 'base next-token distribution (no sentence-transformer offline)',
    };
    if (spec0.between === 0 && spec0.within === 0) {
      return makeResult(spec, 'warn', {
        raw: 0.5,
        score: 0,
        message: 'all divergences equal: no specificity',
        evidence,
      });
    }
    const d = decide(spec.kind, spec0.value, ctx, {
      zThreshold: spec.assert_z_gte,
      fallbackPass: spec0.value >= spec.assert_specificity_gte,
      fallbackScore: clip((spec0.value - 0.5) * 2),
    });
    // CI by resampling (divergence, label) pairs; the statistic is recomputed on each resample.
    const rand = seededRng(ctx.seed);
    const resamples = new Float64Array(200);
    for (let b = 0; b < resamples.length; b++) {
      const idx = Array.from({ length: n }, () => Math.floor(rand() * n));
      resamples[b] = specificity(
        idx.map((i) => divs[i]!),
        idx.map((i) => labels[i]!),
      ).value;
    }
    resamples.sort();
    return makeResult(spec, d.verdict, {
      raw: spec0.value,
      zScore: d.z,
      score: d.score,
      ci95: [quantileSorted(resamples, 0.025), quantileSorted(resamples, 0.975)],
      message: `specificity ${spec0.value.toFixed(3)} over ${spec.num_clusters} clusters of ${n} prompts`,
      evidence,
    });
  },
  calibrateSpec: (spec) => spec,
};
