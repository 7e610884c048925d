import { ProbeError } from './errors.ts';
import type { TokenDist } from './tokenDist.ts';

export type DivergenceKind = 'js' | 'kl';

/** Below this logprob spread a distribution is "effectively uniform" and carries no signal. */
const UNIFORM_SPREAD = 1e-9;
/** KL's floor for a zero (or negative) q; a positive q, however small, is used as it is. */
const KL_Q_FLOOR = 1e-12;
const LN2 = Math.LN2;

export interface AlignedProbs {
  /** The union of both supports, ascending (numpy's `union1d`). */
  tokenIds: number[];
  p: Float64Array;
  q: Float64Array;
}

function checkDist(d: TokenDist, side: string): void {
  let bad = 0;
  for (const v of d.logprobs) if (!Number.isFinite(v)) bad++;
  if (bad > 0) {
    throw new ProbeError(
      `${side} distribution contains ${bad} non-finite logprob(s): refusing to compute a divergence on a model that produces NaN/inf logits.`,
    );
  }
  if (d.logprobs.length < 2) return;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of d.logprobs) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (hi - lo < UNIFORM_SPREAD) {
    throw new ProbeError(
      `${side} distribution is effectively uniform (logprob spread < 1e-9): the model output carries no signal.`,
    );
  }
}

/**
 * sway's `aligned_probs`: both distributions over the ascending union of their top-k supports. Each
 * side's leftover mass `max(0, 1 − Σp_known)` (recomputed from the probabilities, not read from
 * `tailLogprob`) is shared equally by every slot that holds 0 — the ids the side lacks *and* the ids
 * whose `exp(logprob)` underflowed to 0 — when there is any; both sides are then renormalised.
 */
export function alignedProbs(base: TokenDist, ft: TokenDist): AlignedProbs {
  checkDist(base, 'base');
  checkDist(ft, 'ft');
  // Slots through a reused table indexed by token id (O(k) per call; only touched entries are reset).
  const maxId = Math.max(maxOf(base.tokenIds), maxOf(ft.tokenIds));
  if (slotOf.length <= maxId) {
    slotOf = new Int32Array(Math.max(maxId + 1, slotOf.length * 2));
    slotOf.fill(-1);
  }
  const union: number[] = [];
  for (const d of [base.tokenIds, ft.tokenIds]) {
    for (let i = 0; i < d.length; i++) {
      const id = d[i]!;
      if (slotOf[id] === -1) {
        slotOf[id] = 0;
        union.push(id);
      }
    }
  }
  const sorted = Int32Array.from(union).sort();
  for (let i = 0; i < sorted.length; i++) slotOf[sorted[i]!] = i;
  try {
    const p = toSupport(base, sorted.length);
    const q = toSupport(ft, sorted.length);
    normalise(p, 'base');
    normalise(q, 'ft');
    return { tokenIds: Array.from(sorted), p, q };
  } finally {
    for (const id of sorted) slotOf[id] = -1;
  }
}

let slotOf = new Int32Array(0);

function maxOf(ids: Int32Array): number {
  let m = -1;
  for (let i = 0; i < ids.length; i++) if (ids[i]! > m) m = ids[i]!;
  return m;
}

function toSupport(d: TokenDist, k: number): Float64Array {
  const out = new Float64Array(k);
  const probs = new Float64Array(d.tokenIds.length);
  for (let i = 0; i < probs.length; i++) {
    probs[i] = Math.exp(d.logprobs[i]!);
    out[slotOf[d.tokenIds[i]!]!] = probs[i]!;
  }
  // 1 − Σp cancels badly when the top k holds nearly all the mass: sum in numpy's order so the
  // leftover is the one sway computes.
  const tail = Math.max(0, 1 - pairwiseSum(probs, 0, probs.length));
  let zeros = 0;
  for (let i = 0; i < k; i++) if (out[i] === 0) zeros++;
  if (zeros > 0 && tail > 0) {
    const share = tail / zeros;
    for (let i = 0; i < k; i++) if (out[i] === 0) out[i] = share;
  }
  return out;
}

/**
 * numpy's float64 `sum`: pairwise summation with an 8-way unrolled base case of up to 128 elements,
 * so sums (and the leftover mass derived from them) round exactly as sway's do.
 */
export function pairwiseSum(a: ArrayLike<number>, start: number, n: number): number {
  if (n < 8) {
    let s = -0;
    for (let i = 0; i < n; i++) s += a[start + i]!;
    return s;
  }
  if (n <= 128) {
    let r0 = a[start]!;
    let r1 = a[start + 1]!;
    let r2 = a[start + 2]!;
    let r3 = a[start + 3]!;
    let r4 = a[start + 4]!;
    let r5 = a[start + 5]!;
    let r6 = a[start + 6]!;
    let r7 = a[start + 7]!;
    let i = 8;
    for (const end = n - (n % 8); i < end; i += 8) {
      const o = start + i;
      r0 += a[o]!;
      r1 += a[o + 1]!;
      r2 += a[o + 2]!;
      r3 += a[o + 3]!;
      r4 += a[o + 4]!;
      r5 += a[o + 5]!;
      r6 += a[o + 6]!;
      r7 += a[o + 7]!;
    }
    let s = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) s += a[start + i]!;
    return s;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

function normalise(v: Float64Array, side: string): void {
  const total = pairwiseSum(v, 0, v.length);
  if (!(Number.isFinite(total) && total > 0)) {
    throw new ProbeError(`${side} distribution sums to ${total} after support alignment.`);
  }
  for (let i = 0; i < v.length; i++) v[i]! /= total;
}

function checkFinite(name: string, xs: ArrayLike<number>): void {
  let bad = 0;
  for (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i]!)) bad++;
  if (bad > 0) {
    throw new ProbeError(`${name} contains ${bad} non-finite entries: refusing to compute a divergence.`);
  }
}

/**
 * KL(p‖q) in nats: Σ over p > 0 of p·(ln p − ln q), with q ≤ 0 floored to 1e-12 (a positive q is
 * never floored). Non-finite inputs or a non-finite result throw `ProbeError`.
 */
export function kl(p: ArrayLike<number>, q: ArrayLike<number>): number {
  checkFinite('p', p);
  checkFinite('q', q);
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!;
    if (pi > 0) {
      const qi = q[i]!;
      sum += pi * (Math.log(pi) - Math.log(qi > 0 ? qi : KL_Q_FLOOR));
    }
  }
  if (!Number.isFinite(sum)) throw new ProbeError(`KL computation produced a non-finite result (${sum}).`);
  return sum;
}

/** Jensen–Shannon divergence in nats, within [0, ln 2]; a value outside that (± 1e-9) is a bug, not data. */
export function js(p: ArrayLike<number>, q: ArrayLike<number>): number {
  checkFinite('p', p);
  checkFinite('q', q);
  const m = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) m[i] = 0.5 * (p[i]! + q[i]!);
  const value = 0.5 * kl(p, m) + 0.5 * kl(q, m);
  if (value < -1e-9 || value > LN2 + 1e-9) {
    throw new ProbeError(`JS divergence ${value} is outside [0, ln 2]: the inputs are not distributions.`);
  }
  return Math.max(0, value);
}

/** sway's `divergence(base, ft, kind)`: `js` (default) or `kl`, which means KL(ft ‖ base). */
export function divergence(base: TokenDist, ft: TokenDist, kind: DivergenceKind = 'js'): number {
  const { p, q } = alignedProbs(base, ft);
  return kind === 'js' ? js(p, q) : kl(q, p);
}
