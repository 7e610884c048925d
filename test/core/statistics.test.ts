import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  bootstrapCi,
  linearFit,
  pvariance,
  quantileSorted,
  scoreFromZ,
  seededRng,
  verdictFromZ,
  zScore,
} from '../../src/core/index.ts';

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

/** The piecewise-linear curve through (k / (n − 1), x_k), evaluated by finding q's segment. */
function referencePercentile(sorted: number[], q: number): number {
  const n = sorted.length;
  if (n === 1) return sorted[0]!;
  for (let k = 0; k < n - 1; k++) {
    const q0 = k / (n - 1);
    const q1 = (k + 1) / (n - 1);
    if (q <= q1) return sorted[k]! + ((q - q0) / (q1 - q0)) * (sorted[k + 1]! - sorted[k]!);
  }
  return sorted[n - 1]!;
}

const sortedArrays = fc
  .array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 })
  .map((xs) => xs.sort((a, b) => a - b));
const q = fc.double({ min: 0, max: 1, noNaN: true });

describe("quantileSorted: the one percentile (numpy's default, linear interpolation)", () => {
  it('matches numpy on small arrays', () => {
    // np.percentile([1, 2, 3, 4], [0, 50, 95, 99, 100]) and np.percentile([15, 20, 35, 40, 50], 40).
    const expected = [1, 2.5, 3.85, 3.97, 4];
    [0, 0.5, 0.95, 0.99, 1].forEach((p, i) =>
      expect(quantileSorted([1, 2, 3, 4], p)).toBeCloseTo(expected[i]!, 12),
    );
    expect(quantileSorted([15, 20, 35, 40, 50], 0.4)).toBeCloseTo(29, 12);
    expect(quantileSorted([7], 0.95)).toBe(7);
    expect(quantileSorted([], 0.5)).toBeNaN();
  });

  it('equals the minimum at 0 and the maximum at 1', () => {
    fc.assert(
      fc.property(sortedArrays, (xs) => {
        // === rather than Object.is: interpolating from −0 gives +0, as numpy's lerp does.
        expect(quantileSorted(xs, 0) === xs[0]).toBe(true);
        expect(quantileSorted(xs, 1) === xs[xs.length - 1]).toBe(true);
      }),
    );
  });

  it('is monotone in q and stays within [min, max]', () => {
    fc.assert(
      fc.property(sortedArrays, q, q, (xs, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const pLo = quantileSorted(xs, lo);
        const pHi = quantileSorted(xs, hi);
        expect(pLo).toBeLessThanOrEqual(pHi + 1e-9 * Math.max(1, Math.abs(pHi)));
        expect(pLo).toBeGreaterThanOrEqual(xs[0]! - 1e-9 * Math.max(1, Math.abs(xs[0]!)));
        expect(pHi).toBeLessThanOrEqual(
          xs[xs.length - 1]! + 1e-9 * Math.max(1, Math.abs(xs[xs.length - 1]!)),
        );
      }),
    );
  });

  it('agrees with the piecewise-linear reference and hits the data at q = k / (n − 1)', () => {
    fc.assert(
      fc.property(sortedArrays, q, (xs, p) => {
        const tol = 1e-9 * Math.max(1, ...xs.map(Math.abs));
        expect(Math.abs(quantileSorted(xs, p) - referencePercentile(xs, p))).toBeLessThanOrEqual(tol);
        const k = Math.floor(p * (xs.length - 1));
        if (xs.length > 1) expect(quantileSorted(xs, k / (xs.length - 1))).toBeCloseTo(xs[k]!, 6);
      }),
    );
  });
});

describe('seededRng (mulberry32, the one replayable PRNG)', () => {
  it('replays the same stream for the same seed, in [0, 1)', () => {
    const a = seededRng(42);
    const b = seededRng(42);
    for (let i = 0; i < 100; i++) {
      const x = a();
      expect(x).toBe(b());
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
    expect(seededRng(1)()).not.toBe(seededRng(2)());
  });
});
