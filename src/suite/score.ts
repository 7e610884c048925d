import { CATEGORIES, type Category, type ProbeResult } from '../probes/types.ts';
import { pyFixed } from './reports/format.ts';
import type { Band, CompositeScore } from './types.ts';

export const DEFAULT_WEIGHTS: Record<Category, number> = {
  adherence: 0.3,
  attribution: 0.35,
  calibration: 0.2,
  ablation: 0.15,
  baseline: 0.0,
};

export function bandFor(overall: number): Band {
  if (overall < 0.3) return 'noise';
  if (overall < 0.6) return 'partial';
  if (overall <= 0.85) return 'healthy';
  return 'suspicious';
}

/** A probe's weight inside its category: `evidence.weight` when it is a number, else 1. */
function probeWeight(r: ProbeResult): number {
  const w = r.evidence.weight;
  return typeof w === 'number' ? w : 1;
}

/**
 * sway's composite score (`suite/score.compute`). SKIP, ERROR and unscored results drop out; a probe
 * of unknown kind counts as adherence. A category's score is Σ max(w, 0)·s / Σ max(w, 0) over its
 * probes (Σ taken as 1 when it is 0, so a category whose probes all weigh 0 scores 0); a category
 * without probes scores 0. The overall is the category-weighted mean over the categories that have
 * a probe (Σ weights taken as 1 when it is 0), so with no scored probe it is 0 ("noise"). Findings
 * (≤ 5, in sway's words): the first FAIL, every category below 0.3 but not exactly 0, the error count.
 */
export function computeScore(
  results: readonly ProbeResult[],
  categoryOf: (kind: string) => Category | undefined,
  weightOverrides: Partial<Record<Category, number>> = {},
): CompositeScore {
  const weights = { ...DEFAULT_WEIGHTS, ...weightOverrides };
  const buckets = new Map<Category, ProbeResult[]>(CATEGORIES.map((c) => [c, []]));
  for (const r of results) {
    if (r.verdict === 'skip' || r.verdict === 'error' || r.score === null) continue;
    buckets.get(categoryOf(r.kind) ?? 'adherence')!.push(r);
  }
  const components = {} as Record<Category, number>;
  let num = 0;
  let den = 0;
  for (const cat of CATEGORIES) {
    const probes = buckets.get(cat)!;
    if (probes.length === 0) {
      components[cat] = 0;
      continue;
    }
    let totalW = 0;
    let weighted = 0;
    for (const p of probes) {
      const w = Math.max(probeWeight(p), 0);
      totalW += w;
      weighted += w * (p.score ?? 0);
    }
    components[cat] = weighted / (totalW || 1);
    num += weights[cat] * components[cat];
    den += weights[cat];
  }
  const overall = num / (den || 1);
  return { overall, band: bandFor(overall), components, weights, findings: findingsOf(results, components) };
}

function findingsOf(results: readonly ProbeResult[], components: Record<Category, number>): string[] {
  const notes: string[] = [];
  const failed = results.find((r) => r.verdict === 'fail');
  if (failed)
    notes.push(`${failed.name} (${failed.kind}) failed${failed.message ? `: ${failed.message}` : ''}`);
  for (const cat of CATEGORIES) {
    const s = components[cat];
    if (s < 0.3 && s !== 0) notes.push(`${cat} score is ${pyFixed(s, 2)} — below the noise threshold`);
  }
  const errors = results.filter((r) => r.verdict === 'error').length;
  if (errors > 0) notes.push(`${errors} probe(s) errored — see full report for details`);
  return notes.slice(0, 5);
}
