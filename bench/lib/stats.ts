/** Median with min and max over repeats: the one summary every figure in RESULTS.md uses. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** How many repeats the summary covers. */
  n: number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length };
}

/**
 * Ratio of two summaries: median over median, and the range from the pessimistic to the optimistic
 * pairing of extremes, so a ratio's spread is never narrower than its inputs allow.
 */
export function ratio(num: Summary, den: Summary): Summary {
  return {
    median: num.median / den.median,
    min: num.min / den.max,
    max: num.max / den.min,
    n: Math.min(num.n, den.n),
  };
}

/** Runs `fn` `repeats` times after `warmup` unmeasured runs; returns each run's result. */
export async function repeat<T>(repeats: number, warmup: number, fn: () => Promise<T>): Promise<T[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: T[] = [];
  for (let i = 0; i < repeats; i++) out.push(await fn());
  return out;
}
