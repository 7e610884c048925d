import type { CommonProbeSpec, ProbeResult, Verdict } from './types.ts';

type Scalars = 'score' | 'raw' | 'zScore' | 'baseValue' | 'ftValue';
const SCALARS: Scalars[] = ['score', 'raw', 'zScore', 'baseValue', 'ftValue'];

/** A result with every field present; the probe fills what it knows. */
export function makeResult(
  spec: CommonProbeSpec,
  verdict: Verdict,
  fields: Partial<Omit<ProbeResult, 'name' | 'kind' | 'verdict'>> = {},
): ProbeResult {
  return {
    name: spec.name,
    kind: spec.kind,
    verdict,
    score: null,
    raw: null,
    zScore: null,
    baseValue: null,
    ftValue: null,
    evidence: { weight: spec.weight },
    message: '',
    durationS: 0,
    ci95: null,
    ...fields,
    ...(fields.evidence ? { evidence: { weight: spec.weight, ...fields.evidence } } : {}),
  };
}

const bad = (v: unknown): boolean => typeof v === 'number' && !Number.isFinite(v);

/**
 * sway's `safe_finalize`: a non-finite critical field (default `raw`) turns the result into ERROR with
 * every scalar nulled and the bad inputs listed in `evidence.non_finite_inputs`, instead of a false
 * PASS; other non-finite scalars become null and are listed in `evidence.defensively_nulled`. The CI
 * is nulled whenever `raw` is.
 */
export function safeFinalize(result: ProbeResult, critical: Scalars[] = ['raw']): ProbeResult {
  const badCritical = critical.filter((k) => bad(result[k]));
  if (badCritical.length > 0) {
    const nonFinite: Record<string, string> = {};
    for (const k of SCALARS) if (bad(result[k])) nonFinite[k] = String(result[k]);
    return {
      ...result,
      verdict: 'error',
      score: null,
      raw: null,
      zScore: null,
      baseValue: null,
      ftValue: null,
      ci95: null,
      message: `non-finite ${badCritical.join(', ')}: the model produced NaN/Inf; ${result.message}`.trim(),
      evidence: { ...result.evidence, non_finite_inputs: nonFinite },
    };
  }
  const nulled: string[] = [];
  const out = { ...result };
  for (const k of SCALARS) {
    if (bad(out[k])) {
      out[k] = null;
      nulled.push(k);
    }
  }
  if (out.ci95 !== null && (bad(out.ci95[0]) || bad(out.ci95[1]))) {
    out.ci95 = null;
    nulled.push('ci95');
  }
  if (out.raw === null) out.ci95 = null;
  if (nulled.length > 0) out.evidence = { ...out.evidence, defensively_nulled: nulled };
  return out;
}
