import { ProbeError } from './errors.ts';
import type { TokenDist } from './tokenDist.ts';

export type DivergenceKind = 'js' | 'kl';

/** Below this logprob spread a distribution is "effectively uniform" and carries no signal. */
const UNIFORM_SPREAD = 1e-9;
const LN2 = Math.LN2;

export interface AlignedProbs {
  /** The union of both supports: base's ids first, then ft's new ones. */
  tokenIds: number[];
  p: Float64Array;
  q: Float64Array;
}

function checkDist(d: TokenDist, side: string): void {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of d.logprobs) {
    if (!Number.isFinite(v)) throw new ProbeError(`${side} distribution has a non-finite logprob (${v}).`);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (d.logprobs.length > 1 && hi - lo < UNIFORM_SPREAD) {
    throw new ProbeError(
      `${side} distribution is effectively uniform (logprob spread < 1e-9): the model output carries no signal.`,
    );
  }
}

/**
 * sway's `aligned_probs`: both distributions over the union of their top-k supports. A side's missing
 * slots share its leftover mass `max(0, 1 − Σp_known)` equally (recomputed from the probabilities,
 * not read from `tailLogprob`); both sides are then renormalised.
 */
export function alignedProbs(base: TokenDist, ft: TokenDist): AlignedProbs {
  checkDist(base, 'base');
  checkDist(ft, 'ft');
  // Slot of each token id in the union, in a reused table indexed by token id: O(k) per call, and
  // only the touched entries are reset afterwards.
  const maxId = Math.max(maxOf(base.tokenIds), maxOf(ft.tokenIds));
  if (slotOf.length <= maxId) {
    slotOf = new Int32Array(Math.max(maxId + 1, slotOf.length * 2));
    slotOf.fill(-1);
  }
  const ids: number[] = [];
  for (const id of base.tokenIds) if (slotOf[id] === -1) slotOf[id] = ids.push(id) - 1;
  for (const id of ft.tokenIds) if (slotOf[id] === -1) slotOf[id] = ids.push(id) - 1;
  const fill = (d: TokenDist): Float64Array => {
    const out = new Float64Array(ids.length);
    const known = new Uint8Array(ids.length);
    let mass = 0;
    for (let i = 0; i < d.tokenIds.length; i++) {
      const slot = slotOf[d.tokenIds[i]!]!;
      const pr = Math.exp(d.logprobs[i]!);
      out[slot] = pr;
      known[slot] = 1;
      mass += pr;
    }
    const unknown = ids.length - d.tokenIds.length;
    if (unknown > 0) {
      const share = Math.max(0, 1 - mass) / unknown;
      for (let i = 0; i < ids.length; i++) if (!known[i]) out[i] = share;
    }
    let total = 0;
    for (let i = 0; i < out.length; i++) total += out[i]!;
    if (total > 0) for (let i = 0; i < out.length; i++) out[i]! /= total;
    return out;
  };
  const result = { tokenIds: ids, p: fill(base), q: fill(ft) };
  for (const id of ids) slotOf[id] = -1;
  return result;
}

let slotOf = new Int32Array(0);

function maxOf(ids: Int32Array): number {
  let m = -1;
  for (let i = 0; i < ids.length; i++) if (ids[i]! > m) m = ids[i]!;
  return m;
}

/** KL(p‖q) in nats, Σ over p > 0 of p·(ln p − ln max(q, 1e-12)). */
export function kl(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!;
    if (pi > 0) sum += pi * (Math.log(pi) - Math.log(Math.max(q[i]!, 1e-12)));
  }
  return sum;
}

/** Jensen–Shannon divergence in nats, within [0, ln 2]; a value outside that (± 1e-9) is a bug, not data. */
export function js(p: ArrayLike<number>, q: ArrayLike<number>): number {
  const m = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) m[i] = (p[i]! + q[i]!) / 2;
  const value = 0.5 * kl(p, m) + 0.5 * kl(q, m);
  if (!(value >= -1e-9 && value <= LN2 + 1e-9)) {
    throw new ProbeError(`JS divergence ${value} is outside [0, ln 2]: the inputs are not distributions.`);
  }
  return Math.max(0, value);
}

/** sway's `divergence(base, ft, kind)`: `js` (default) or `kl`, which means KL(ft ‖ base). */
export function divergence(base: TokenDist, ft: TokenDist, kind: DivergenceKind = 'js'): number {
  const { p, q } = alignedProbs(base, ft);
  return kind === 'js' ? js(p, q) : kl(q, p);
}
