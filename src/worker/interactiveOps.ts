import { viewByName, type DifferentialBackend } from '../backend/index.ts';
import { exactDivergence, topMass, type TokenDist } from '../core/index.ts';
import type {
  CompareResult,
  ContinuationResult,
  GenerateResult,
  HeatmapResult,
  TokenRow,
} from './workbenchApi.ts';

/**
 * Base's and another view's full next-token distributions (one lookup per view, `top_k` = vocabulary
 * size), the exact divergences between them, and the first `topK` rows of each for drawing. The
 * other view is `ft` unless `view` names another (`scaled_<λ>`, `null_<seed>`: `viewByName`). The
 * Compare panel and `deltascope probe` both call this, so they cannot show different numbers.
 */
export async function compare(
  b: DifferentialBackend,
  prompt: string,
  topK: number,
  view = 'ft',
): Promise<CompareResult> {
  const all = b.info.vocabSize;
  const other = viewByName(b, view);
  const [base, ft] = await Promise.all([
    b.base.nextTokenDist(prompt, { topK: all }),
    other.nextTokenDist(prompt, { topK: all }),
  ]);
  const k = Math.max(1, Math.min(topK, all));
  const [baseRows, ftRows] = await Promise.all([rows(b, base, k), rows(b, ft, k)]);
  return {
    prompt,
    view: other.id,
    topK: k,
    base: baseRows,
    ft: ftRows,
    divergence: exactDivergence(base, ft),
    baseMass: topMass(base, k),
    ftMass: topMass(ft, k),
  };
}

export async function scoreContinuation(
  b: DifferentialBackend,
  prompt: string,
  completion: string,
): Promise<ContinuationResult> {
  const [base, ft] = await Promise.all([
    b.base.logprobOf(prompt, completion),
    b.ft.logprobOf(prompt, completion),
  ]);
  const numTokens = (await b.base.tokenize(completion)).ids.length;
  return { base, ft, delta: ft - base, numTokens };
}

export async function heatmap(b: DifferentialBackend, text: string): Promise<HeatmapResult> {
  const [base, ft, tok] = await Promise.all([
    b.base.rollingLogprob(text),
    b.ft.rollingLogprob(text),
    b.base.tokenize(text),
  ]);
  return { tokens: tok.tokens, base, ft };
}

export async function generate(
  b: DifferentialBackend,
  prompt: string,
  maxNewTokens: number,
): Promise<GenerateResult> {
  // One after the other: both views share one inference lock in the browser anyway.
  const base = await b.base.generate(prompt, { maxNewTokens });
  const ft = await b.ft.generate(prompt, { maxNewTokens });
  return { prompt, base, ft };
}

/** The first `k` rows of a distribution (sorted by probability) with their token strings. */
async function rows(b: DifferentialBackend, d: TokenDist, k: number): Promise<TokenRow[]> {
  const ids = Array.from(d.tokenIds.subarray(0, k));
  const tokens = await b.base.tokenStrings(ids);
  return ids.map((id, i) => ({ id, token: tokens[i] ?? String(id), logprob: d.logprobs[i]! }));
}
