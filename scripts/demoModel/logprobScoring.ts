/**
 * Mean per-token log-probability of sentences under a set of weights, using
 * the reference forward. The builder reports these figures in the README; the
 * tests measure the same quantity through onnxruntime.
 */
import { BOS_ID, type LlamaDims, type LlamaWeights } from './demoModelConfig.ts';
import { logSoftmax, referenceForward } from './referenceForward.ts';

export interface SentenceScores {
  /** Pooled over all predicted tokens of all sentences. */
  meanPerToken: number;
  perSentence: number[];
}

/** Each sentence is scored as <s> + tokens; every token after <s> is predicted. */
export function scoreSentences(d: LlamaDims, w: LlamaWeights, tokenized: number[][]): SentenceScores {
  let total = 0;
  let count = 0;
  const perSentence: number[] = [];
  for (const tokens of tokenized) {
    const ids = [BOS_ID, ...tokens];
    const { logits } = referenceForward(d, w, { inputIds: [ids], attentionMask: [ids.map(() => 1)] });
    let sum = 0;
    for (let t = 0; t + 1 < ids.length; t++)
      sum += logSoftmax(logits[0]?.[t] ?? [])[ids[t + 1] as number] as number;
    total += sum;
    count += ids.length - 1;
    perSentence.push(sum / (ids.length - 1));
  }
  return { meanPerToken: total / count, perSentence };
}
