import { describe, expect, it } from 'vitest';
import { alignedProbs, divergence, js, kl, ProbeError, type TokenDist } from '../../src/core/index.ts';
import { expectClose, loadParity } from './swayParity.ts';

interface DistJson {
  token_ids: number[];
  logprobs: number[];
  vocab_size: number;
  tail_logprob: number | null;
}
interface AlignedCase {
  label: string;
  base: DistJson;
  ft: DistJson;
  error?: boolean;
  union_ids?: number[];
  p?: number[];
  q?: number[];
  js?: number | 'error';
  kl?: number | 'error';
}
interface ArrayCase {
  p: number[];
  q: number[];
  kl: number | 'error';
  js: number | 'error';
}

const toDist = (d: DistJson): TokenDist => ({
  tokenIds: Int32Array.from(d.token_ids),
  logprobs: Float32Array.from(d.logprobs),
  vocabSize: d.vocab_size,
  tailLogprob: d.tail_logprob,
});

/**
 * The leftover mass 1 − Σexp(logprob) cancels when the top k holds nearly all of it, and V8's
 * `Math.exp` and numpy's `exp` differ by an ulp on some inputs, so every aligned probability carries
 * an absolute error up to ~(k + 2)·2⁻⁵² that no port can remove. Values are compared at 1e-9
 * relative plus that much, and the divergences at 1e-9 relative plus its first-order effect.
 */
const ulpBudget = (c: AlignedCase): number =>
  (Math.max(c.base.token_ids.length, c.ft.token_ids.length) + 2) * 2.3e-16;

function closeWithin(actual: number, expected: number, abs: number, what: string): void {
  const err = Math.abs(actual - expected);
  expect(
    err <= 1e-9 * Math.abs(expected) + abs,
    `${what}: ${actual} vs ${expected} (err ${err}, abs ${abs})`,
  ).toBe(true);
}

/**
 * First-order bound of KL(a‖b)'s error when every entry of a and b may be off by δ. An entry of b
 * that is 0 counts at sway's floor (1e-12), so the bound stays finite: a b-slot that is exactly 0 in
 * sway and a few ulps above 0 here would blow past it and fail.
 */
function klBound(a: number[], b: number[], d: number): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i]! <= 0) continue;
    const bi = b[i]! > 0 ? b[i]! : 1e-12;
    s += (Math.abs(Math.log(a[i]! / bi)) + 1) * d + (a[i]! / bi) * d;
  }
  return s;
}

const aligned = loadParity<AlignedCase>('aligned_probs');
const arrays = loadParity<ArrayCase>('divergence');

describe('sway parity: aligned_probs, js, kl on token distributions', () => {
  it('has at least 200 vectors, with underflow, k = vocab and both tail states', () => {
    expect(aligned.cases.length).toBeGreaterThanOrEqual(200);
    const lps = aligned.cases.flatMap((c) => [...c.base.logprobs, ...c.ft.logprobs]);
    expect(lps.some((v) => Number.isFinite(v) && Math.exp(v) === 0)).toBe(true);
    expect(aligned.cases.some((c) => c.base.token_ids.length === c.base.vocab_size)).toBe(true);
    expect(aligned.cases.some((c) => c.base.tail_logprob === null)).toBe(true);
    expect(aligned.cases.some((c) => c.base.tail_logprob !== null)).toBe(true);
  });

  it('matches every vector', () => {
    for (const [i, c] of aligned.cases.entries()) {
      const what = `#${i} ${c.label}`;
      const base = toDist(c.base);
      const ft = toDist(c.ft);
      if (c.error) {
        expect(() => alignedProbs(base, ft), what).toThrow(ProbeError);
        continue;
      }
      const a = alignedProbs(base, ft);
      expect(a.tokenIds, what).toEqual(c.union_ids);
      const d = ulpBudget(c);
      a.p.forEach((v, j) => closeWithin(v, c.p![j]!, d, `${what} p[${j}]`));
      a.q.forEach((v, j) => closeWithin(v, c.q![j]!, d, `${what} q[${j}]`));
      const m = c.p!.map((v, j) => 0.5 * (v + c.q![j]!));
      const bounds = { js: 0.5 * (klBound(c.p!, m, d) + klBound(c.q!, m, d)), kl: klBound(c.q!, c.p!, d) };
      for (const kind of ['js', 'kl'] as const) {
        const want = c[kind]!;
        if (want === 'error') expect(() => divergence(base, ft, kind), what).toThrow(ProbeError);
        else closeWithin(divergence(base, ft, kind), want, bounds[kind], `${what} ${kind}`);
      }
    }
  });
});

describe('sway parity: kl and js on probability vectors', () => {
  it('has at least 200 vectors, with zeros and q below 1e-12', () => {
    expect(arrays.cases.length).toBeGreaterThanOrEqual(200);
    expect(arrays.cases.some((c) => c.q.some((v) => v > 0 && v < 1e-12))).toBe(true);
  });

  it('matches every vector (KL floors only q ≤ 0)', () => {
    for (const [i, c] of arrays.cases.entries()) {
      for (const [name, fn] of [
        ['kl', kl],
        ['js', js],
      ] as const) {
        const want = c[name];
        if (want === 'error') expect(() => fn(c.p, c.q), `#${i} ${name}`).toThrow(ProbeError);
        else expectClose(fn(c.p, c.q), want, `#${i} ${name}`);
      }
    }
  });
});
