/**
 * Smoothed bigram statistics: the targets the demo model's output layer is fit
 * to. Rows are next-token log-probabilities given the current token, centred
 * (softmax ignores a constant per row, so the fit need not spend effort on it).
 */
export interface BigramCounts {
  vocabSize: number;
  /** pair[x * V + y] = weighted count of y following x. */
  pair: Float64Array;
  /** from[x] = weighted count of x having a successor. */
  from: Float64Array;
  /** unigram[y] = weighted count of y as a successor. */
  unigram: Float64Array;
}

export function emptyBigramCounts(vocabSize: number): BigramCounts {
  return {
    vocabSize,
    pair: new Float64Array(vocabSize * vocabSize),
    from: new Float64Array(vocabSize),
    unigram: new Float64Array(vocabSize),
  };
}

export function addBigramCounts(counts: BigramCounts, sequences: number[][], weight: number): void {
  const V = counts.vocabSize;
  for (const seq of sequences) {
    for (let t = 0; t + 1 < seq.length; t++) {
      const x = seq[t] as number;
      const y = seq[t + 1] as number;
      counts.pair[x * V + y] = (counts.pair[x * V + y] as number) + weight;
      counts.from[x] = (counts.from[x] as number) + weight;
      counts.unigram[y] = (counts.unigram[y] as number) + weight;
    }
  }
}

export interface SmoothingOptions {
  /** Pseudo-count of the unigram back-off mixed into every row. */
  backoff: number;
  /** Add-constant for the unigram, so unseen tokens keep a finite log-probability. */
  unigramPrior: number;
}

/**
 * log P(y | x) = log((c(x,y) + backoff·P(y)) / (c(x) + backoff)), each row centred.
 * Rows of tokens never seen as a predecessor fall back to the unigram.
 */
export function centredLogProbTable(counts: BigramCounts, opts: SmoothingOptions): Float64Array {
  const V = counts.vocabSize;
  let total = 0;
  for (const u of counts.unigram) total += u;
  const pUni = new Float64Array(V);
  for (let y = 0; y < V; y++)
    pUni[y] = ((counts.unigram[y] as number) + opts.unigramPrior) / (total + opts.unigramPrior * V);
  const table = new Float64Array(V * V);
  for (let x = 0; x < V; x++) {
    const denom = (counts.from[x] as number) + opts.backoff;
    let mean = 0;
    for (let y = 0; y < V; y++) {
      const lp = Math.log(((counts.pair[x * V + y] as number) + opts.backoff * (pUni[y] as number)) / denom);
      table[x * V + y] = lp;
      mean += lp;
    }
    mean /= V;
    for (let y = 0; y < V; y++) table[x * V + y] = (table[x * V + y] as number) - mean;
  }
  return table;
}
