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
 * Indices of the k largest values, sorted descending (ties: lower index first). A quickselect on a
 * scratch copy finds the k-th largest value in O(V), then only the k winners are sorted: for a
 * 150k-token vocabulary this beats both a full sort and a comparator-driven heap.
 */
export function topKIndices(values: ArrayLike<number>, k: number): Int32Array {
  const n = values.length;
  const kk = Math.max(0, Math.min(k, n));
  if (kk === 0) return new Int32Array(0);
  if (kk === n && values instanceof Float32Array && n <= INDEX_SPAN) {
    // The whole vocabulary (what exact divergences ask for): every index wins, so no selection.
    const all = new Int32Array(n);
    for (let i = 0; i < n; i++) all[i] = i;
    return sortByFloat32Keys(values, all);
  }
  const threshold = kthLargest(values, kk);
  const out = new Int32Array(kk);
  let m = 0;
  for (let i = 0; i < n && m < kk; i++) if (values[i]! > threshold) out[m++] = i;
  // Ties at the threshold fill the remaining places in index order.
  for (let i = 0; i < n && m < kk; i++) if (values[i] === threshold) out[m++] = i;
  if (m < kk) {
    // Only with NaN among the values (which compare false both ways): take the rest in index order.
    const taken = new Uint8Array(n);
    for (let j = 0; j < m; j++) taken[out[j]!] = 1;
    for (let i = 0; i < n && m < kk; i++) if (!taken[i]) out[m++] = i;
  }
  if (values instanceof Float32Array && n <= INDEX_SPAN) return sortByFloat32Keys(values, out);
  const sorted = Array.from(out).sort((a, b) => values[b]! - values[a]! || a - b);
  return Int32Array.from(sorted);
}

const INDEX_SPAN = 2 ** 21;
const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/**
 * Sorts the winners descending by value, ties by lower index, without a comparator: each becomes
 * one exact float64 key (the float32's order-preserving 32 bits · 2²¹ + the reversed index), and a
 * native typed-array sort does the rest — several times faster than `Array.sort` with a comparator
 * when k is the whole vocabulary. NaN keys sort as the largest values; the comparator path leaves
 * their order undefined.
 */
function sortByFloat32Keys(values: Float32Array, ids: Int32Array): Int32Array {
  if (ids.length >= RADIX_MIN) return radixSortByFloat32Keys(values, ids);
  const keys = new Float64Array(ids.length);
  for (let j = 0; j < ids.length; j++) {
    const i = ids[j]!;
    // +0 for −0: they compare equal, so their order falls to the index, as in the comparator path.
    const v = values[i]!;
    f32[0] = v === 0 ? 0 : v;
    const bits = f32Bits[0]!;
    // Negative floats: flip every bit; positive: set the sign bit. Unsigned order then equals float order.
    const ordered = bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
    keys[j] = ordered * INDEX_SPAN + (INDEX_SPAN - 1 - i);
  }
  keys.sort();
  const out = new Int32Array(ids.length);
  for (let j = 0; j < ids.length; j++) {
    const key = keys[ids.length - 1 - j]!;
    out[j] = INDEX_SPAN - 1 - (key % INDEX_SPAN);
  }
  return out;
}

/** From this many winners on, a radix sort beats the native sort of float64 keys (49k: ~3×). */
const RADIX_MIN = 2048;

/** A float32's 32 bits mapped so that unsigned order equals float order (−0 taken as +0). */
function orderedBits(v: number): number {
  f32[0] = v === 0 ? 0 : v;
  const bits = f32Bits[0]!;
  return bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
}

/**
 * The same order as the float64-key sort — descending by value, ties by lower index, NaN by its bits —
 * by a stable LSD radix sort (three passes of 11 bits) over the complemented ordered bits. Stability
 * keeps ties in their order in `ids`, which lists equal values by increasing index (`topKIndices`
 * collects each group of equal values in index order).
 */
function radixSortByFloat32Keys(values: Float32Array, ids: Int32Array): Int32Array {
  const n = ids.length;
  let keys = new Uint32Array(n);
  for (let j = 0; j < n; j++) keys[j] = ~orderedBits(values[ids[j]!]!) >>> 0;
  let src = Int32Array.from(ids);
  let dst = new Int32Array(n);
  let keysDst = new Uint32Array(n);
  const count = new Uint32Array(2048);
  for (let shift = 0; shift < 32; shift += 11) {
    count.fill(0);
    for (let j = 0; j < n; j++) count[(keys[j]! >>> shift) & 0x7ff]!++;
    let sum = 0;
    for (let d = 0; d < 2048; d++) {
      const c = count[d]!;
      count[d] = sum;
      sum += c;
    }
    for (let j = 0; j < n; j++) {
      const key = keys[j]!;
      const at = count[(key >>> shift) & 0x7ff]!++;
      dst[at] = src[j]!;
      keysDst[at] = key;
    }
    [src, dst] = [dst, src];
    [keys, keysDst] = [keysDst, keys];
  }
  return src;
}

let scratch = new Float64Array(0);

/** The k-th largest value (1-based), by an in-place quickselect on a reused scratch buffer. */
function kthLargest(values: ArrayLike<number>, k: number): number {
  const n = values.length;
  if (scratch.length < n) scratch = new Float64Array(n);
  const a = scratch;
  for (let i = 0; i < n; i++) a[i] = values[i]!;
  // The k-th largest is the (n − k)-th smallest (0-based).
  const target = n - k;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    // Median of three as the pivot keeps sorted and reversed inputs linear.
    const mid = (lo + hi) >>> 1;
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target]!;
  }
  return a[target]!;
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
