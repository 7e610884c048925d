import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bootstrapCi, linearFit, pvariance, scoreFromZ, verdictFromZ, zScore } from '../../src/core/index.ts';

describe('z-scores (sway _zscore.py)', () => {
  it('computes (raw − mean)/std', () => {
    expect(zScore(0.5, { mean: 0.1, std: 0.2 })).toBeCloseTo(2, 12);
  });
  it('returns null on missing stats, non-finite values, degenerate nulls, tiny std', () => {
    expect(zScore(1, null)).toBeNull();
    expect(zScore(Number.NaN, { mean: 0, std: 1 })).toBeNull();
    expect(zScore(1, { mean: 0, std: 1, degenerate: 0.5 })).toBeNull();
    expect(zScore(1, { mean: 0, std: 5e-7 })).toBeNull();
    expect(zScore(1, { mean: 0, std: 1e-6 })).toBe(1e6);
  });
  it('verdict and score', () => {
    expect(verdictFromZ(3, 3)).toBe('pass');
    expect(verdictFromZ(2.99, 3)).toBe('fail');
    expect(verdictFromZ(null, 3)).toBeNull();
    expect(scoreFromZ(3)).toBeCloseTo(0.7310585786, 9); // not sway's docstring's 0.88
    expect(scoreFromZ(0)).toBe(0.5);
    expect(scoreFromZ(1e9)).toBeCloseTo(1, 12);
  });
});

describe('bootstrapCi', () => {
  it('handles the edge cases as sway', () => {
    expect(bootstrapCi([])).toBeNull();
    expect(bootstrapCi([1, Number.NaN])).toBeNull();
    expect(bootstrapCi([1, 2], { confidence: 1 })).toBeNull();
    expect(bootstrapCi([0.3, 0.3, 0.3])).toEqual([0.3, 0.3]);
  });
  it('is seeded, brackets the mean, and lies within the sample range', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 2, maxLength: 30 }),
        (xs) => {
          const a = bootstrapCi(xs, { seed: 3, nBootstrap: 200 });
          const b = bootstrapCi(xs, { seed: 3, nBootstrap: 200 });
          expect(a).toEqual(b);
          const [lo, hi] = a!;
          expect(lo).toBeLessThanOrEqual(hi);
          expect(lo).toBeGreaterThanOrEqual(Math.min(...xs) - 1e-9);
          expect(hi).toBeLessThanOrEqual(Math.max(...xs) + 1e-9);
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('linearFit and pvariance', () => {
  it('fits a line exactly and reports R² 1; constant y gives R² 1', () => {
    const f = linearFit([0, 1, 2], [1, 3, 5]);
    expect(f.slope).toBeCloseTo(2);
    expect(f.intercept).toBeCloseTo(1);
    expect(f.r2).toBeCloseTo(1);
    expect(linearFit([0, 1, 2], [4, 4, 4]).r2).toBe(1);
  });
  it('pvariance is the population variance', () => {
    expect(pvariance([1, 2, 3, 4])).toBeCloseTo(1.25);
  });
});
