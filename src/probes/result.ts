import type { CommonProbeSpec, ProbeResult, Verdict } from './types.ts';

/** The scalar fields as sway names them (its evidence lists them by these names). */
export type ScalarField = 'score' | 'raw' | 'z_score' | 'base_value' | 'ft_value';
type Scalar = 'score' | 'raw' | 'zScore' | 'baseValue' | 'ftValue';
const SCALARS: readonly [ScalarField, Scalar][] = [
  ['score', 'score'],
  ['raw', 'raw'],
  ['z_score', 'zScore'],
  ['base_value', 'baseValue'],
  ['ft_value', 'ftValue'],
];

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

const nonFinite = (v: unknown): v is number => typeof v === 'number' && !Number.isFinite(v);

/**
 * sway's `safe_finalize`. A non-finite critical field (default `raw`) turns the result into ERROR with
 * every scalar and the CI nulled, every non-finite scalar's value kept in `evidence.non_finite_inputs`
 * (keyed by sway's field names) and the message "non-finite critical field(s): … — probe cannot
 * produce a meaningful result". Otherwise non-finite scalars become null and their names, sorted, are
 * appended to `evidence.defensively_nulled`. The CI (deltascope's addition) is nulled when a bound is
 * non-finite (listed as `ci_95`, sorted with the others) or when `raw` is null.
 */
export function safeFinalize(result: ProbeResult, critical: readonly ScalarField[] = ['raw']): ProbeResult {
  const bad: Partial<Record<ScalarField, number>> = {};
  for (const [name, field] of SCALARS) {
    const v = result[field];
    if (nonFinite(v)) bad[name] = v;
  }
  const badCritical = critical.filter((k) => k in bad).sort();
  if (badCritical.length > 0) {
    return {
      ...result,
      verdict: 'error',
      score: null,
      raw: null,
      zScore: null,
      baseValue: null,
      ftValue: null,
      ci95: null,
      message: `non-finite critical field(s): ${badCritical.join(', ')} — probe cannot produce a meaningful result`,
      evidence: { ...result.evidence, non_finite_inputs: bad },
    };
  }
  const nulled: string[] = Object.keys(bad);
  const out = { ...result };
  for (const [name, field] of SCALARS) if (name in bad) out[field] = null;
  if (out.ci95 !== null && (nonFinite(out.ci95[0]) || nonFinite(out.ci95[1]))) {
    out.ci95 = null;
    nulled.push('ci_95');
  }
  if (out.raw === null) out.ci95 = null;
  nulled.sort();
  if (nulled.length > 0) {
    const earlier = out.evidence.defensively_nulled;
    out.evidence = {
      ...out.evidence,
      defensively_nulled: [...(Array.isArray(earlier) ? (earlier as unknown[]) : []), ...nulled],
    };
  }
  return out;
}
