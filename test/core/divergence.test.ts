import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { alignedProbs, divergence, js, kl, ProbeError, type TokenDist } from '../../src/core/index.ts';

const dist = (ids: number[], probs: number[], vocab = 10): TokenDist => ({
  tokenIds: Int32Array.from(ids),
  logprobs: Float32Array.from(probs.map(Math.log)),
  vocabSize: vocab,
  tailLogprob: null,
});

describe('divergence (contract §3.1)', () => {
  it('aligns over the union support and fills each side’s leftover mass equally', () => {
    const a = alignedProbs(dist([1, 2], [0.5, 0.3]), dist([2, 3], [0.6, 0.2]));
    expect(a.tokenIds).toEqual([1, 2, 3]);
    // base: 0.5, 0.3, leftover 0.2 → token 3 gets 0.2; sums to 1.
    expect(Array.from(a.p).map((v) => +v.toFixed(6))).toEqual([0.5, 0.3, 0.2]);
    // ft: token 1 gets the leftover 0.2; sums to 1.
    expect(Array.from(a.q).map((v) => +v.toFixed(6))).toEqual([0.2, 0.6, 0.2]);
  });

  it('hand-computed KL and JS', () => {
    const p = [0.5, 0.5];
    const q = [0.9, 0.1];
    expect(kl(p, q)).toBeCloseTo(0.5 * Math.log(0.5 / 0.9) + 0.5 * Math.log(0.5 / 0.1), 12);
    const m = [0.7, 0.3];
    expect(js(p, q)).toBeCloseTo(0.5 * kl(p, m) + 0.5 * kl(q, m), 12);
    expect(js([1, 0], [0, 1])).toBeCloseTo(Math.LN2, 12);
  });

  it('kind "kl" is KL(ft ‖ base)', () => {
    const base = dist([0, 1], [0.8, 0.2]);
    const ft = dist([0, 1], [0.4, 0.6]);
    expect(divergence(base, ft, 'kl')).toBeCloseTo(kl([0.4, 0.6], [0.8, 0.2]), 6);
    expect(divergence(base, ft, 'kl')).not.toBeCloseTo(kl([0.8, 0.2], [0.4, 0.6]), 6);
  });

  it('rejects non-finite and effectively uniform distributions', () => {
    const ok = dist([0, 1], [0.7, 0.3]);
    const nan: TokenDist = { ...ok, logprobs: Float32Array.from([Number.NaN, -1]) };
    expect(() => divergence(nan, ok)).toThrow(ProbeError);
    const uniform = dist([0, 1, 2], [0.25, 0.25, 0.25]);
    expect(() => divergence(ok, uniform)).toThrow(/effectively uniform/);
  });

  it('properties: JS in [0, ln 2], symmetric, zero on itself; KL ≥ 0', () => {
    const probsArb = fc
      .array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: 2, maxLength: 12 })
      .map((xs) => {
        const s = xs.reduce((a, b) => a + b, 0);
        return xs.map((x) => x / s);
      });
    fc.assert(
      fc.property(probsArb, probsArb, (a, b) => {
        const n = Math.min(a.length, b.length);
        const p = a.slice(0, n);
        const q = b.slice(0, n);
        const sp = p.reduce((x, y) => x + y, 0);
        const sq = q.reduce((x, y) => x + y, 0);
        const pn = p.map((x) => x / sp);
        const qn = q.map((x) => x / sq);
        const v = js(pn, qn);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(Math.LN2 + 1e-12);
        expect(js(qn, pn)).toBeCloseTo(v, 12);
        expect(js(pn, pn)).toBeCloseTo(0, 12);
        expect(kl(pn, qn)).toBeGreaterThanOrEqual(-1e-12);
      }),
    );
  });
});
