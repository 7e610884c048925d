/**
 * A next-token distribution, possibly cut to the top k (sway's `TokenDist`). Plain data, so it
 * crosses a worker boundary by structured clone.
 */
export interface TokenDist {
  /** Token ids sorted by descending probability. */
  tokenIds: Int32Array;
  /** fp32 log-probabilities, aligned with `tokenIds`. */
  logprobs: Float32Array;
  /** The full vocabulary size. */
  vocabSize: number;
  /**
   * log of the probability mass outside the top k. `null`: k equals the vocabulary; `0`: a tail exists
   * but is below 1e-12 (sway's convention); negative: a measurable tail.
   */
  tailLogprob: number | null;
}

/** Per-token scores for a whole text (sway's `RollingLogprob`), derived values precomputed. */
export interface RollingLogprob {
  tokenIds: Int32Array;
  /** log p(tᵢ | t<ᵢ) for i ≥ 1: length `numTokens - 1`. */
  logprobs: Float32Array;
  numTokens: number;
  totalLogprob: number;
  /** total / (N − 1), 0 when there is nothing to score. Nats. */
  meanLogprob: number;
  /** exp(−mean). */
  perplexity: number;
}

/** Log-softmax of one row of logits, accumulated in float64 and returned as fp32. */
export function logSoftmax(
  logits: ArrayLike<number>,
  offset = 0,
  length = logits.length - offset,
): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < length; i++) {
    const v = logits[offset + i]!;
    if (v > max) max = v;
  }
  let sum = 0;
  for (let i = 0; i < length; i++) sum += Math.exp(logits[offset + i]! - max);
  const logZ = max + Math.log(sum);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = logits[offset + i]! - logZ;
  return out;
}

/**
 * Indices of the k largest values, sorted descending (ties: lower index first). A bounded min-heap
 * keeps this O(V log k), which matters for 150k-token vocabularies.
 */
export function topKIndices(values: ArrayLike<number>, k: number): Int32Array {
  const n = values.length;
  const kk = Math.max(0, Math.min(k, n));
  if (kk === 0) return new Int32Array(0);
  // "a ranks below b": smaller value, or equal value and larger index.
  const below = (a: number, b: number): boolean => {
    const va = values[a]!;
    const vb = values[b]!;
    return va < vb || (va === vb && a > b);
  };
  const heap = new Int32Array(kk);
  let size = 0;
  const siftUp = (pos: number): void => {
    const item = heap[pos]!;
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      if (!below(item, heap[parent]!)) break;
      heap[pos] = heap[parent]!;
      pos = parent;
    }
    heap[pos] = item;
  };
  const siftDown = (pos: number): void => {
    const item = heap[pos]!;
    for (;;) {
      const l = 2 * pos + 1;
      if (l >= size) break;
      const r = l + 1;
      const child = r < size && below(heap[r]!, heap[l]!) ? r : l;
      if (!below(heap[child]!, item)) break;
      heap[pos] = heap[child]!;
      pos = child;
    }
    heap[pos] = item;
  };
  for (let i = 0; i < n; i++) {
    if (size < kk) {
      heap[size] = i;
      siftUp(size++);
    } else if (below(heap[0]!, i)) {
      heap[0] = i;
      siftDown(0);
    }
  }
  const out = Array.from(heap);
  out.sort((a, b) => (below(a, b) ? 1 : below(b, a) ? -1 : 0));
  return Int32Array.from(out);
}

/** The contract's tail rule: `log(1 − Σ exp(top))` if that mass > 1e-12, else 0; `null` when k = V. */
export function tailLogprobOf(topLogprobs: ArrayLike<number>, vocabSize: number): number | null {
  if (topLogprobs.length >= vocabSize) return null;
  let mass = 0;
  for (let i = 0; i < topLogprobs.length; i++) mass += Math.exp(topLogprobs[i]!);
  const tail = 1 - mass;
  return tail > 1e-12 ? Math.log(tail) : 0;
}

/** A `TokenDist` from one row of raw logits: fp32 log-softmax, then top-k with the tail rule. */
export function tokenDistFromLogits(
  logits: ArrayLike<number>,
  topK: number,
  offset = 0,
  vocabSize = logits.length - offset,
): TokenDist {
  const logprobsAll = logSoftmax(logits, offset, vocabSize);
  const ids = topKIndices(logprobsAll, topK);
  const logprobs = new Float32Array(ids.length);
  for (let i = 0; i < ids.length; i++) logprobs[i] = logprobsAll[ids[i]!]!;
  return { tokenIds: ids, logprobs, vocabSize, tailLogprob: tailLogprobOf(logprobs, vocabSize) };
}

/** Builds a `RollingLogprob` with its derived values. */
export function makeRollingLogprob(tokenIds: ArrayLike<number>, logprobs: Float32Array): RollingLogprob {
  let total = 0;
  for (let i = 0; i < logprobs.length; i++) total += logprobs[i]!;
  const mean = logprobs.length === 0 ? 0 : total / logprobs.length;
  return {
    tokenIds: Int32Array.from(tokenIds),
    logprobs,
    numTokens: tokenIds.length,
    totalLogprob: total,
    meanLogprob: mean,
    perplexity: Math.exp(-mean),
  };
}
