import { z } from 'zod';
import {
  exactDivergence,
  mean,
  truncateDist,
  type DivergenceKind,
  type ExactDivergence,
  type TokenDist,
} from '../core/index.ts';
import type { ScoringViewLike } from './types.ts';

/**
 * `method` of a divergence probe: `topk` is sway's top-k formula (the default, so reports stay
 * sway-compatible); `exact` uses the full-vocabulary divergence as the raw value and says so.
 */
export const methodField = z.enum(['topk', 'exact']).default('topk');
export type DivergenceMethod = z.output<typeof methodField>;

/**
 * Next-token distributions of `prompts` on two views, looked up once per prompt and view over the
 * full vocabulary: sway's top-k distributions are cut from them (bit-identical to a top-k lookup),
 * and the exact divergences come from the same forward passes.
 */
export async function fullDists(
  a: ScoringViewLike,
  b: ScoringViewLike,
  prompts: readonly string[],
  vocabSize: number,
): Promise<{ a: TokenDist[]; b: TokenDist[] }> {
  const [da, db] = await Promise.all([
    a.nextTokenDistBatch(prompts, { topK: vocabSize }),
    b.nextTokenDistBatch(prompts, { topK: vocabSize }),
  ]);
  return { a: da, b: db };
}

/** `full` cut to sway's top-k. */
export const topK = (full: readonly TokenDist[], k: number): TokenDist[] =>
  full.map((d) => truncateDist(d, k));

/** The exact value of `kind` (`js`, or `kl` = KL(second ‖ first) as sway's `divergence`). */
export const exactValue = (d: ExactDivergence, kind: DivergenceKind): number =>
  kind === 'js' ? d.js : d.klFtBase;

/** Per-pair exact divergences of two lists of full distributions. */
export const exactPerPair = (a: readonly TokenDist[], b: readonly TokenDist[]): ExactDivergence[] =>
  a.map((d, i) => exactDivergence(d, b[i]!));

/** The evidence every divergence probe carries: the exact full-vocabulary means beside sway's raw. */
export function exactEvidence(
  exact: readonly ExactDivergence[],
  method: DivergenceMethod,
): Record<string, unknown> {
  return {
    method,
    exact_js: mean(exact.map((d) => d.js)),
    exact_kl: mean(exact.map((d) => d.klFtBase)),
  };
}
