import { viewByName, type DifferentialBackend, type ScoringView } from '../backend/index.ts';
import { exactDivergence, exactDivergenceOf, fullLogprobs, topMass, type TokenDist } from '../core/index.ts';
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

/**
 * `compare` for several views at once, one result per name in order (`base` may be among them: it
 * is then compared with itself, JS 0). Base's full distribution is looked up, scattered by token id
 * and cut to rows once for all of them; each view's distribution is one lookup (all in flight
 * together, so a runtime-LoRA pair can batch them), and no path sorts the vocabulary again. Every
 * name is resolved (`viewByName`) before any forward pass, so a bad name costs nothing. The
 * numbers are `compare`'s to the bit: the same lookups, `exactDivergence`'s formula and `topMass`.
 */
export async function compareViews(
  b: DifferentialBackend,
  prompt: string,
  topK: number,
  views: readonly string[],
): Promise<CompareResult[]> {
  const all = b.info.vocabSize;
  const others = views.map((name) => viewByName(b, name));
  const distinct = new Map<string, ScoringView>([[b.base.id, b.base]]);
  for (const v of others) distinct.set(v.id, v);
  const looked = await Promise.all(
    [...distinct.values()].map(async (v) => [v.id, await v.nextTokenDist(prompt, { topK: all })] as const),
  );
  const dists = new Map(looked);
  const base = dists.get(b.base.id)!;
  const baseFull = fullLogprobs(base);
  const k = Math.max(1, Math.min(topK, all));
  const baseRows = await rows(b, base, k);
  const baseMass = topMass(base, k);
  return Promise.all(
    others.map(async (v): Promise<CompareResult> => {
      const d = dists.get(v.id)!;
      return {
        prompt,
        view: v.id,
        topK: k,
        base: baseRows,
        ft: d === base ? baseRows : await rows(b, d, k),
        divergence: exactDivergenceOf(baseFull, d === base ? baseFull : fullLogprobs(d)),
        baseMass,
        ftMass: d === base ? baseMass : topMass(d, k),
      };
    }),
  );
}

/** log p(completion | prompt) under base and another view (`ft` unless `view` names one). */
export async function scoreContinuation(
  b: DifferentialBackend,
  prompt: string,
  completion: string,
  view = 'ft',
): Promise<ContinuationResult> {
  const other = viewByName(b, view);
  const [base, ft] = await Promise.all([
    b.base.logprobOf(prompt, completion),
    other.logprobOf(prompt, completion),
  ]);
  const numTokens = (await b.base.tokenize(completion)).ids.length;
  return { view: other.id, base, ft, delta: ft - base, numTokens };
}

/** Per-token log-probs of `text` under base and another view (`ft` unless `view` names one). */
export async function heatmap(b: DifferentialBackend, text: string, view = 'ft'): Promise<HeatmapResult> {
  const other = viewByName(b, view);
  const [base, ft, tok] = await Promise.all([
    b.base.rollingLogprob(text),
    other.rollingLogprob(text),
    b.base.tokenize(text),
  ]);
  return { view: other.id, tokens: tok.tokens, base, ft };
}

/** Greedy continuations from base and another view (`ft` unless `view` names one). */
export async function generate(
  b: DifferentialBackend,
  prompt: string,
  maxNewTokens: number,
  view = 'ft',
): Promise<GenerateResult> {
  const other = viewByName(b, view);
  // One after the other: both views share one inference lock in the browser anyway.
  const base = await b.base.generate(prompt, { maxNewTokens });
  const ft = await other.generate(prompt, { maxNewTokens });
  return { view: other.id, prompt, base, ft };
}

/** The first `k` rows of a distribution (sorted by probability) with their token strings. */
async function rows(b: DifferentialBackend, d: TokenDist, k: number): Promise<TokenRow[]> {
  const ids = Array.from(d.tokenIds.subarray(0, k));
  const tokens = await b.base.tokenStrings(ids);
  return ids.map((id, i) => ({ id, token: tokens[i] ?? String(id), logprob: d.logprobs[i]! }));
}
