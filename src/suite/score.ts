import { CATEGORIES, type Category, type ProbeResult } from '../probes/types.ts';
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

/**
 * sway's composite score. SKIP, ERROR and unscored results drop out; a category's score is the
 * weight-averaged probe score (weights from `evidence.weight`); the overall is the category-weighted
 * mean over the categories that have a contributing probe (renormalised). Findings (≤ 5): the first
 * FAIL, categories below 0.3, and the error count.
 */
export function computeScore(
  results: readonly ProbeResult[],
  categoryOf: (kind: string) => Category | undefined,
  weightOverrides: Partial<Record<Category, number>> = {},
): CompositeScore {
  const weights = { ...DEFAULT_WEIGHTS, ...weightOverrides };
  const sums = new Map<Category, { ws: number; w: number }>();
  for (const r of results) {
    if (r.verdict === 'skip' || r.verdict === 'error' || r.score === null || !Number.isFinite(r.score))
      continue;
    const cat = categoryOf(r.kind);
    if (cat === undefined) continue;
    const w = typeof r.evidence.weight === 'number' ? r.evidence.weight : 1;
    const acc = sums.get(cat) ?? { ws: 0, w: 0 };
    acc.ws += w * r.score;
    acc.w += w;
    sums.set(cat, acc);
  }
  const components: Partial<Record<Category, number>> = {};
  let num = 0;
  let den = 0;
  for (const cat of CATEGORIES) {
    const acc = sums.get(cat);
    if (acc === undefined || acc.w <= 0) continue;
    const s = acc.ws / acc.w;
    components[cat] = s;
    num += weights[cat] * s;
    den += weights[cat];
  }
  const overall = den > 0 ? num / den : null;
  const findings: string[] = [];
  const firstFail = results.find((r) => r.verdict === 'fail');
  if (firstFail) findings.push(`${firstFail.name} (${firstFail.kind}) failed: ${firstFail.message}`.trim());
  for (const cat of CATEGORIES) {
    const s = components[cat];
    if (s !== undefined && s < 0.3 && weights[cat] > 0)
      findings.push(`${cat} is weak (${s.toFixed(2)} < 0.30)`);
  }
  const errors = results.filter((r) => r.verdict === 'error').length;
  if (errors > 0) findings.push(`${errors} probe${errors === 1 ? '' : 's'} errored`);
  return {
    overall,
    band: overall === null ? null : bandFor(overall),
    components,
    weights,
    findings: findings.slice(0, 5),
  };
}
