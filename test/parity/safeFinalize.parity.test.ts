import { describe, expect, it } from 'vitest';
import { safeFinalize, type ScalarField } from '../../src/probes/result.ts';
import type { ProbeResult } from '../../src/probes/types.ts';
import { loadParity } from './swayParity.ts';

type Fields = Partial<Record<ScalarField, number | null>>;
interface SfCase {
  fields: Fields;
  critical: ScalarField[];
  evidence: Record<string, unknown>;
  message: string;
  expected: {
    verdict: string;
    score: number | null;
    raw: number | null;
    z_score: number | null;
    base_value: number | null;
    ft_value: number | null;
    evidence: Record<string, unknown>;
    message: string;
    duration_s: number;
  };
}

const fixture = loadParity<SfCase>('safe_finalize');

function candidate(c: SfCase): ProbeResult {
  return {
    name: 'p',
    kind: 'delta_kl',
    verdict: 'pass',
    score: c.fields.score ?? null,
    raw: c.fields.raw ?? null,
    zScore: c.fields.z_score ?? null,
    baseValue: c.fields.base_value ?? null,
    ftValue: c.fields.ft_value ?? null,
    evidence: structuredClone(c.evidence),
    message: c.message,
    durationS: 1.5,
    ci95: null,
  };
}

describe('sway parity: safe_finalize', () => {
  it('matches every vector: verdict, scalars, evidence (snake_case keys, sorted lists), message', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(200);
    for (const [i, c] of fixture.cases.entries()) {
      const r = safeFinalize(candidate(c), c.critical);
      const e = c.expected;
      const what = `#${i} ${JSON.stringify(c.fields)} critical=${c.critical.join(',')}`;
      expect(r.verdict, what).toBe(e.verdict);
      expect(
        { score: r.score, raw: r.raw, z_score: r.zScore, base_value: r.baseValue, ft_value: r.ftValue },
        what,
      ).toEqual({
        score: e.score,
        raw: e.raw,
        z_score: e.z_score,
        base_value: e.base_value,
        ft_value: e.ft_value,
      });
      expect(r.evidence, what).toEqual(e.evidence);
      expect(r.message, what).toBe(e.message);
      expect(r.durationS, what).toBe(e.duration_s);
    }
  });

  it("says what sway's own test asserts", () => {
    const c = fixture.cases.find((x) => x.critical.length === 1 && Number.isNaN(x.fields.raw))!;
    const r = safeFinalize(candidate(c), c.critical);
    expect(r.message).toContain('non-finite critical');
    expect(r.message).toContain('raw');
    expect(Number.isNaN((r.evidence.non_finite_inputs as Record<string, number>).raw)).toBe(true);
  });

  it('nulls a non-finite CI bound and lists it as ci_95, sorted with the scalars', () => {
    const base: ProbeResult = {
      ...candidate(fixture.cases[0]!),
      score: 0.5,
      raw: 0.1,
      zScore: 2,
      baseValue: 0,
      ftValue: 0,
    };
    const r = safeFinalize({ ...base, zScore: Number.NaN, ci95: [0.1, Number.POSITIVE_INFINITY] });
    expect(r.ci95).toBeNull();
    expect(r.verdict).toBe('pass');
    expect(r.evidence.defensively_nulled).toEqual(['ci_95', 'z_score']);
  });
});
