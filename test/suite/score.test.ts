import { describe, expect, it } from 'vitest';
import { bandFor, computeScore, DEFAULT_WEIGHTS } from '../../src/suite/score.ts';
import type { Category, ProbeResult } from '../../src/probes/types.ts';

const r = (
  name: string,
  kind: string,
  verdict: ProbeResult['verdict'],
  score: number | null,
  weight = 1,
): ProbeResult => ({
  name,
  kind,
  verdict,
  score,
  raw: null,
  zScore: null,
  baseValue: null,
  ftValue: null,
  evidence: { weight },
  message: `${name} message`,
  durationS: 0,
  ci95: null,
});

const CATS: Record<string, Category> = {
  a1: 'adherence',
  a2: 'adherence',
  t1: 'attribution',
  c1: 'calibration',
  b1: 'baseline',
};

describe('composite score (sway suite/score.compute)', () => {
  it('weights within and across categories, renormalised over present categories', () => {
    const results = [
      r('x', 'a1', 'pass', 0.8, 1),
      r('y', 'a2', 'fail', 0.2, 3),
      r('z', 't1', 'pass', 0.9),
      r('s', 'c1', 'skip', null),
      r('e', 'c1', 'error', null),
      r('n', 'b1', 'pass', 0.1),
    ];
    const s = computeScore(results, (k) => CATS[k]);
    // adherence = (0.8·1 + 0.2·3)/4 = 0.35; attribution 0.9; baseline 0.1 (weight 0)
    expect(s.components.adherence).toBeCloseTo(0.35, 12);
    expect(s.components.attribution).toBeCloseTo(0.9, 12);
    expect(s.components.calibration).toBe(0);
    expect(s.components.ablation).toBe(0);
    // overall = (0.30·0.35 + 0.35·0.9 + 0·0.1)/(0.30 + 0.35 + 0)
    expect(s.overall!).toBeCloseTo((0.3 * 0.35 + 0.35 * 0.9) / 0.65, 12);
    expect(s.band).toBe('healthy');
    expect(s.findings[0]).toMatch(/^y \(a2\) failed/);
    expect(s.findings).toContain('1 probe(s) errored — see full report for details');
    // baseline's 0.10 is a finding too (sway lists every category below 0.3 but not exactly 0)
    expect(s.findings).toContain('baseline score is 0.10 — below the noise threshold');
    expect(s.weights).toEqual(DEFAULT_WEIGHTS);
  });

  it('weight overrides and empty results', () => {
    const s = computeScore([r('x', 'a1', 'pass', 0.5)], (k) => CATS[k], { adherence: 2 });
    expect(s.weights.adherence).toBe(2);
    expect(s.overall).toBe(0.5);
    expect(computeScore([], () => undefined)).toMatchObject({ overall: 0, band: 'noise' });
  });

  it('a category whose probes all weigh 0 stays active and scores 0; unknown kinds are adherence', () => {
    const s = computeScore(
      [r('x', 'a1', 'pass', 0.9, 0), r('z', 't1', 'pass', 0.6), r('u', 'zz', 'pass', 0.3, 0)],
      (k) => CATS[k],
    );
    expect(s.components.adherence).toBe(0);
    expect(s.overall).toBeCloseTo((0.35 * 0.6) / 0.65, 12);
    expect(s.findings).toEqual([]);
  });

  it('bands at sway’s cut points', () => {
    expect(bandFor(0.29)).toBe('noise');
    expect(bandFor(0.3)).toBe('partial');
    expect(bandFor(0.6)).toBe('healthy');
    expect(bandFor(0.85)).toBe('healthy');
    expect(bandFor(0.851)).toBe('suspicious');
  });
});
