import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  logSoftmax,
  makeRollingLogprob,
  tailLogprobOf,
  tokenDistFromLogits,
  topKIndices,
} from '../../src/core/index.ts';

describe('token distributions', () => {
  it('log-softmax normalises and keeps order', () => {
    const lp = logSoftmax([1, 2, 3]);
    const z = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    expect(lp[0]).toBeCloseTo(1 - z, 6);
    expect(lp[2]).toBeCloseTo(3 - z, 6);
    expect(lp).toBeInstanceOf(Float32Array);
  });

  it('is stable for huge logits', () => {
    const lp = logSoftmax([1000, 1000]);
    expect(lp[0]).toBeCloseTo(-Math.LN2, 6);
  });

  it('topKIndices equals a full sort (ties by index) for any input', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 0, maxLength: 60 }),
        fc.integer({ min: 0, max: 70 }),
        (vals, k) => {
          const expected = vals
            .map((v, i) => [v, i] as const)
            .sort((a, b) => b[0] - a[0] || a[1] - b[1])
            .slice(0, k)
            .map((p) => p[1]);
          expect(Array.from(topKIndices(vals, k))).toEqual(expected);
        },
      ),
    );
  });

  it('topKIndices on float32 values (the native-sort path) equals a full sort, ties and signs included', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.integer({ min: -3, max: 3 }).map((v) => v / 4),
            fc.float({ noNaN: true, noDefaultInfinity: false }),
            fc.constantFrom(0, -0, -1e-40, 1e-40),
          ),
          { minLength: 0, maxLength: 80 },
        ),
        fc.integer({ min: 0, max: 90 }),
        (raw, k) => {
          const vals = Float32Array.from(raw);
          const expected = Array.from(vals, (v, i) => [v, i] as const)
            .sort((a, b) => b[0] - a[0] || a[1] - b[1])
            .slice(0, k)
            .map((p) => p[1]);
          const got = Array.from(topKIndices(vals, k));
          expect(got).toEqual(expected);
        },
      ),
    );
  });

  it('topKIndices on large float32 inputs (the radix path, and the whole vocabulary) equals a full sort', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2048, max: 6000 }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.constantFrom('all', 'most', 'few'),
        (n, seed, kind) => {
          let s = seed;
          const next = () => (s = (s * 16807) % 2147483647) / 2147483647;
          // Many ties (a few distinct values), both zeros, tiny and huge magnitudes, infinities.
          const pool = [0, -0, 1e-40, -1e-40, 0.25, -0.25, -3.5, 7, Infinity, -Infinity, 1e30, -1e30];
          const vals = Float32Array.from({ length: n }, () =>
            next() < 0.5 ? pool[Math.floor(next() * pool.length)]! : (next() - 0.5) * 20,
          );
          const k = kind === 'all' ? n : kind === 'most' ? n - Math.floor(next() * 100) : 2048;
          const expected = Array.from(vals, (v, i) => [v, i] as const)
            .sort((a, b) => b[0] - a[0] || a[1] - b[1])
            .slice(0, k)
            .map((p) => p[1]);
          expect(Array.from(topKIndices(vals, k))).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('topKIndices terminates and returns k distinct indices when values contain NaN or infinities', () => {
    const vals = [1, Number.NaN, 3, -Infinity, Infinity, Number.NaN, 2];
    const out = Array.from(topKIndices(vals, 4));
    expect(out).toHaveLength(4);
    expect(new Set(out).size).toBe(4);
    expect(out[0]).toBe(4);
  });

  it('has the three tail states', () => {
    // k = V → null
    expect(tokenDistFromLogits([0, 1, 2], 3).tailLogprob).toBeNull();
    expect(tokenDistFromLogits([0, 1, 2], 99).tailLogprob).toBeNull();
    // a measurable tail → log(1 − Σp)
    const d = tokenDistFromLogits([0, 0, 0, 0], 2);
    expect(d.tailLogprob).toBeCloseTo(Math.log(0.5), 6);
    // a tail below 1e-12 → 0
    expect(tailLogprobOf([0], 5)).toBe(0);
  });

  it('sorts top-k by descending probability and reports the vocabulary', () => {
    const d = tokenDistFromLogits([0.5, 3, -1, 2], 3);
    expect(Array.from(d.tokenIds)).toEqual([1, 3, 0]);
    expect(d.vocabSize).toBe(4);
    expect(d.logprobs[0]!).toBeGreaterThan(d.logprobs[1]!);
  });

  it('reads a row at an offset', () => {
    const logits = [9, 9, 9, 0, 5, 1];
    const d = tokenDistFromLogits(logits, 1, 3, 3);
    expect(Array.from(d.tokenIds)).toEqual([1]);
  });

  it('rolling logprob derives mean and perplexity, and is empty-safe', () => {
    const r = makeRollingLogprob([5, 6, 7], Float32Array.from([-1, -3]));
    expect(r.numTokens).toBe(3);
    expect(r.totalLogprob).toBe(-4);
    expect(r.meanLogprob).toBe(-2);
    expect(r.perplexity).toBeCloseTo(Math.exp(2));
    const empty = makeRollingLogprob([5], new Float32Array(0));
    expect(empty.meanLogprob).toBe(0);
    expect(empty.perplexity).toBe(1);
  });
});
