// Exact full-vocabulary divergences: the definitions, checked against a direct float64 computation on
// probabilities, plus the properties every divergence must keep.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  exactDivergence,
  exactDivergenceOf,
  tokenDistFromLogits,
  topMass,
  truncateDist,
} from '../../src/core/index.ts';

/** Normalised log-probabilities from arbitrary logits, in float64. */
function logSoftmax64(logits: number[]): number[] {
  const m = Math.max(...logits);
  const z = m + Math.log(logits.reduce((s, v) => s + Math.exp(v - m), 0));
  return logits.map((v) => v - z);
}

/** The textbook formulas on probabilities (0·log 0 = 0). */
function reference(lb: number[], lf: number[]) {
  const p = lb.map(Math.exp);
  const q = lf.map(Math.exp);
  const kl = (a: number[], b: number[]) =>
    a.reduce((s, ai, i) => (ai > 0 ? s + ai * Math.log(ai / b[i]!) : s), 0);
  const m = p.map((pi, i) => (pi + q[i]!) / 2);
  const h = (a: number[]) => -a.reduce((s, ai) => (ai > 0 ? s + ai * Math.log(ai) : s), 0);
  return {
    js: 0.5 * kl(p, m) + 0.5 * kl(q, m),
    klFtBase: kl(q, p),
    klBaseFt: kl(p, q),
    entropyBase: h(p),
    entropyFt: h(q),
  };
}

const logitRows = fc
  .integer({ min: 2, max: 64 })
  .chain((n) =>
    fc.tuple(
      fc.array(fc.double({ min: -30, max: 30, noNaN: true }), { minLength: n, maxLength: n }),
      fc.array(fc.double({ min: -30, max: 30, noNaN: true }), { minLength: n, maxLength: n }),
    ),
  );

describe('exactDivergenceOf', () => {
  it('equals the textbook formulas on probabilities (1e-9 relative)', () => {
    fc.assert(
      fc.property(logitRows, ([a, b]) => {
        const lb = logSoftmax64(a);
        const lf = logSoftmax64(b);
        const got = exactDivergenceOf(lb, lf);
        const want = reference(lb, lf);
        for (const k of Object.keys(want) as (keyof typeof want)[]) {
          expect(got[k]).toBeCloseTo(want[k], 9);
        }
      }),
    );
  });

  it('JS is symmetric and within [0, ln 2]; KLs are ≥ 0; identical distributions give 0', () => {
    fc.assert(
      fc.property(logitRows, ([a, b]) => {
        const lb = logSoftmax64(a);
        const lf = logSoftmax64(b);
        const d = exactDivergenceOf(lb, lf);
        const r = exactDivergenceOf(lf, lb);
        expect(d.js).toBeCloseTo(r.js, 12);
        expect(d.js).toBeGreaterThanOrEqual(0);
        expect(d.js).toBeLessThanOrEqual(Math.LN2 + 1e-12);
        expect(d.klFtBase).toBeGreaterThanOrEqual(-1e-12);
        expect(d.klBaseFt).toBeCloseTo(r.klFtBase, 12);
        const same = exactDivergenceOf(lb, lb);
        expect(same.js).toBeCloseTo(0, 12);
        expect(same.klFtBase).toBeCloseTo(0, 12);
      }),
    );
  });

  it('a token only one side can produce: KL towards the side without it is infinite, JS stays finite', () => {
    const base = [Math.log(0.5), Math.log(0.5), -Infinity];
    const ft = [Math.log(0.25), Math.log(0.25), Math.log(0.5)];
    const d = exactDivergenceOf(base, ft);
    expect(d.klFtBase).toBe(Infinity);
    expect(d.klBaseFt).toBeCloseTo(Math.log(2), 12);
    expect(d.js).toBeGreaterThan(0);
    expect(d.js).toBeLessThan(Math.LN2);
    expect(d.entropyBase).toBeCloseTo(Math.log(2), 12);
  });
});

describe('exactDivergence on TokenDists', () => {
  it('needs full distributions and agrees with the vector form; topMass sums the drawn rows', () => {
    const a = Float32Array.from([2, 1, 0.5, -1, 3]);
    const b = Float32Array.from([1, 2, 0.5, 0, -2]);
    const full = (x: Float32Array) => tokenDistFromLogits(x, x.length);
    const d = exactDivergence(full(a), full(b));
    const want = reference(logSoftmax64([...a]), logSoftmax64([...b]));
    expect(d.js).toBeCloseTo(want.js, 6);
    expect(() => exactDivergence(tokenDistFromLogits(a, 2), full(b))).toThrow(/top_k = vocabulary/);
    const fa = full(a);
    expect(topMass(fa, fa.vocabSize)).toBeCloseTo(1, 6);
    expect(topMass(fa, 1)).toBeCloseTo(Math.exp(fa.logprobs[0]!), 12);
  });
});

describe('truncateDist', () => {
  it('cuts a full distribution to exactly what a top-k lookup returns (ties included)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -8, max: 8 }), { minLength: 2, maxLength: 40 }),
        fc.integer({ min: 1, max: 45 }),
        (ints, k) => {
          // Integer logits make ties common: the order must still match the direct lookup's.
          const logits = Float32Array.from(ints, (v) => v / 2);
          const full = tokenDistFromLogits(logits, logits.length);
          const direct = tokenDistFromLogits(logits, k);
          const cut = truncateDist(full, k);
          expect(Array.from(cut.tokenIds)).toEqual(Array.from(direct.tokenIds));
          expect(Array.from(cut.logprobs)).toEqual(Array.from(direct.logprobs));
          expect(cut.tailLogprob).toBe(direct.tailLogprob);
        },
      ),
    );
  });
});
