/** Shared helpers for the zoo tests: the zoo built once into a cache folder, and reference top-k rows. */
import { join, resolve } from 'node:path';
import { PreTrainedTokenizer } from '@huggingface/transformers';
import type { TokenDist } from '../../src/core/index.ts';
import { logSoftmax, referenceForward } from '../../scripts/demoModel/referenceForward.ts';
import { benchTokenizerFiles } from '../../scripts/demoModel/zoo/benchTokenizer.ts';
import type { ZooDtype } from '../../scripts/demoModel/zoo/optimumLlama.ts';
import {
  buildZooModels,
  ZOO_DIMS,
  zooReferenceWeights,
  type ZooEntry,
} from '../../scripts/demoModel/zoo/zooModels.ts';

/** Git-ignored; the stamp makes a second build a no-op. */
export const ZOO_CACHE = resolve(import.meta.dirname, '..', '..', '.cache', 'zoo');

let built: Promise<unknown> | undefined;
export function ensureZoo(): Promise<unknown> {
  built ??= buildZooModels(ZOO_CACHE);
  return built;
}

export const zooDir = (name: string): string => join(ZOO_CACHE, name);

let tokenizer: PreTrainedTokenizer | undefined;
function zooTokenizer(): PreTrainedTokenizer {
  const files = benchTokenizerFiles(ZOO_DIMS.vocabSize, ZOO_DIMS.maxPositions);
  tokenizer ??= new PreTrainedTokenizer(files.tokenizer, files.config);
  return tokenizer;
}

export interface TopK {
  ids: number[];
  logprobs: number[];
}

/** The float64 reference forward's top-k next tokens for `prompt` (BOS first, as the backend encodes). */
export function referenceTopK(entry: ZooEntry, dtype: ZooDtype, prompt: string, k: number): TopK {
  const ids = zooTokenizer().encode(prompt, { add_special_tokens: true });
  const out = referenceForward(ZOO_DIMS, zooReferenceWeights(entry, dtype), {
    inputIds: [ids],
    attentionMask: [ids.map(() => 1)],
  });
  const row = logSoftmax(out.logits[0]?.at(-1) ?? new Float64Array());
  const order = [...row.keys()].sort((a, b) => (row[b] ?? 0) - (row[a] ?? 0)).slice(0, k);
  return { ids: order, logprobs: order.map((i) => row[i] ?? 0) };
}

export function topKOf(dist: TokenDist, k: number): TopK {
  return { ids: [...dist.tokenIds].slice(0, k), logprobs: [...dist.logprobs].slice(0, k) };
}

/**
 * Largest |Δ logprob| between two top-k rows, matching tokens by id (a token
 * missing from `actual` counts as infinitely far), and whether the order agrees
 * wherever the reference's neighbouring logprobs are more than 2·tol apart.
 */
export function compareTopK(
  actual: TopK,
  reference: TopK,
  tol: number,
): { maxDiff: number; orderOk: boolean } {
  let maxDiff = 0;
  reference.ids.forEach((id, i) => {
    const j = actual.ids.indexOf(id);
    const diff = j < 0 ? Infinity : Math.abs((actual.logprobs[j] ?? 0) - (reference.logprobs[i] ?? 0));
    maxDiff = Math.max(maxDiff, diff);
  });
  let orderOk = true;
  for (let i = 0; i + 1 < reference.ids.length; i++) {
    const gap = (reference.logprobs[i] ?? 0) - (reference.logprobs[i + 1] ?? 0);
    if (gap > 2 * tol && actual.ids[i] !== reference.ids[i]) orderOk = false;
  }
  return { maxDiff, orderOk };
}
