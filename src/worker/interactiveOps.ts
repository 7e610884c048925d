import type { DifferentialBackend } from '../backend/index.ts';
import { divergence, type TokenDist } from '../core/index.ts';
import type {
  CompareResult,
  ContinuationResult,
  GenerateResult,
  HeatmapResult,
  TokenRow,
} from './workbenchApi.ts';

/** The Probe panel's operations on a loaded pair: each a pure function of the pair and its inputs. */
export async function compare(b: DifferentialBackend, prompt: string, topK: number): Promise<CompareResult> {
  const [base, ft] = await Promise.all([
    b.base.nextTokenDist(prompt, { topK }),
    b.ft.nextTokenDist(prompt, { topK }),
  ]);
  const [baseRows, ftRows] = await Promise.all([rows(b, base), rows(b, ft)]);
  return {
    prompt,
    base: baseRows,
    ft: ftRows,
    js: divergence(base, ft, 'js'),
    klFtBase: divergence(base, ft, 'kl'),
    baseTail: base.tailLogprob,
    ftTail: ft.tailLogprob,
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

async function rows(b: DifferentialBackend, d: TokenDist): Promise<TokenRow[]> {
  const tokens = await b.base.tokenStrings(Array.from(d.tokenIds));
  return Array.from(d.tokenIds, (id, i) => ({ id, token: tokens[i] ?? String(id), logprob: d.logprobs[i]! }));
}
