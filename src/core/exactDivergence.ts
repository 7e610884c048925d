import { DeltascopeError } from './errors.ts';
import { tailLogprobOf, type TokenDist } from './tokenDist.ts';

/**
 * Divergences of two next-token distributions over the FULL vocabulary, in nats, accumulated in
 * float64. These are deltascope's own numbers (the Compare panel, `deltascope probe`, the `exact_*`
 * evidence of divergence probes): no top-k truncation, so no leftover mass spread over the ids one
 * side lacks, which is what makes sway's top-k formula read high when k is small.
 */
export interface ExactDivergence {
  /** Jensen–Shannon divergence (natural log; at most ln 2). */
  js: number;
  /** KL(ft ‖ base) = Σ p_ft · (log p_ft − log p_base). */
  klFtBase: number;
  /** KL(base ‖ ft). */
  klBaseFt: number;
  /** Entropy of each side, −Σ p log p. */
  entropyBase: number;
  entropyFt: number;
}

/**
 * The log-probabilities of a full distribution (`tailLogprob === null`, one entry per token id),
 * indexed by token id.
 */
export function fullLogprobs(d: TokenDist): Float64Array {
  if (d.tailLogprob !== null || d.tokenIds.length !== d.vocabSize) {
    throw new RangeError(
      `fullLogprobs: the distribution holds ${d.tokenIds.length} of ${d.vocabSize} tokens; ask for top_k = vocabulary size`,
    );
  }
  const out = new Float64Array(d.vocabSize).fill(-Infinity);
  for (let i = 0; i < d.tokenIds.length; i++) out[d.tokenIds[i]!] = d.logprobs[i]!;
  return out;
}

/**
 * Exact JS, both KLs and both entropies from two full-vocabulary log-probability vectors. Two `exp`
 * and one `log` per token: p and q once, then log m = log(p + q) − ln 2 (a token neither side can
 * produce adds nothing to any sum).
 */
export function exactDivergenceOf(base: ArrayLike<number>, ft: ArrayLike<number>): ExactDivergence {
  if (base.length !== ft.length) {
    throw new RangeError(`exactDivergence: vocabularies differ (${base.length} vs ${ft.length} tokens)`);
  }
  let klFtBase = 0;
  let klBaseFt = 0;
  let jsSum = 0;
  let entropyBase = 0;
  let entropyFt = 0;
  for (let i = 0; i < base.length; i++) {
    const lb = base[i]!;
    const lf = ft[i]!;
    const p = Math.exp(lb);
    const q = Math.exp(lf);
    if (p + q === 0) continue;
    const lm = Math.log(p + q) - Math.LN2;
    if (p > 0) {
      klBaseFt += p * (lb - lf);
      jsSum += p * (lb - lm);
      entropyBase -= p * lb;
    }
    if (q > 0) {
      klFtBase += q * (lf - lb);
      jsSum += q * (lf - lm);
      entropyFt -= q * lf;
    }
  }
  // JS is ≥ 0 mathematically; rounding can leave −1e-17.
  return { js: Math.max(0, 0.5 * jsSum), klFtBase, klBaseFt, entropyBase, entropyFt };
}

/** Exact divergences of two full `TokenDist`s (`top_k` = vocabulary size). */
export function exactDivergence(base: TokenDist, ft: TokenDist): ExactDivergence {
  return exactDivergenceOf(fullLogprobs(base), fullLogprobs(ft));
}

/** Probability mass of a distribution's first `k` rows (the rows a panel draws). */
export function topMass(d: TokenDist, k: number): number {
  let mass = 0;
  const n = Math.min(k, d.logprobs.length);
  for (let i = 0; i < n; i++) mass += Math.exp(d.logprobs[i]!);
  return mass;
}

/**
 * The top-k distribution a `top_k = k` lookup would return, cut from a full one: the same ids in
 * the same order (descending, ties by lower id), the same fp32 logprobs and the same tail rule, so
 * sway's top-k formulas give bit-identical values without a second forward pass.
 */
export function truncateDist(full: TokenDist, k: number): TokenDist {
  if (!Number.isInteger(k) || k < 1) {
    throw new DeltascopeError('input/invalid', `topK must be a positive integer, got ${String(k)}.`, {
      input: 'top_k',
    });
  }
  if (k >= full.tokenIds.length) return full;
  const logprobs = full.logprobs.slice(0, k);
  return {
    tokenIds: full.tokenIds.slice(0, k),
    logprobs,
    vocabSize: full.vocabSize,
    tailLogprob: tailLogprobOf(logprobs, full.vocabSize),
  };
}
