import type { TokenDist } from '../../src/core/index.ts';

/** Jensen–Shannon divergence (nats) between two full-vocabulary distributions. Test helper only. */
export function jsFull(a: TokenDist, b: TokenDist): number {
  const pa = new Float64Array(a.vocabSize);
  const pb = new Float64Array(b.vocabSize);
  a.tokenIds.forEach((id, i) => (pa[id] = Math.exp(a.logprobs[i]!)));
  b.tokenIds.forEach((id, i) => (pb[id] = Math.exp(b.logprobs[i]!)));
  let js = 0;
  for (let i = 0; i < pa.length; i++) {
    const m = (pa[i]! + pb[i]!) / 2;
    if (pa[i]! > 0) js += 0.5 * pa[i]! * Math.log(pa[i]! / m);
    if (pb[i]! > 0) js += 0.5 * pb[i]! * Math.log(pb[i]! / m);
  }
  return js;
}

export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol = 1e-4,
  rtol = 1e-3,
): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const diff = Math.abs(actual[i]! - expected[i]!);
    if (diff > atol + rtol * Math.abs(expected[i]!)) {
      throw new Error(`index ${i}: ${actual[i]} vs ${expected[i]} (diff ${diff})`);
    }
  }
}
