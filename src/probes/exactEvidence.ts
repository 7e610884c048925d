import { z } from 'zod';
import {
  divergence,
  exactDivergence,
  mean,
  truncateDist,
  type DivergenceKind,
  type ExactDivergence,
  type TokenDist,
} from '../core/index.ts';
import type { ScoringViewLike } from './types.ts';
import { ProbeError } from '../core/index.ts';

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
async function fullDists(
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
const topK = (full: readonly TokenDist[], k: number): TokenDist[] => full.map((d) => truncateDist(d, k));

/** The exact value of `kind` (`js`, or `kl` = KL(second ‖ first) as sway's `divergence`). */
export const exactValue = (d: ExactDivergence, kind: DivergenceKind): number =>
  kind === 'js' ? d.js : d.klFtBase;

const isFull = (d: TokenDist): boolean => d.tailLogprob === null && d.tokenIds.length === d.vocabSize;

/**
 * Per-pair exact divergences of two lists of full distributions; null when a backend answered with
 * less than the full vocabulary (a programmed test backend), so there is no exact value to report.
 */
function exactPerPair(a: readonly TokenDist[], b: readonly TokenDist[]): ExactDivergence[] | null {
  if (!a.every(isFull) || !b.every(isFull)) return null;
  return a.map((d, i) => exactDivergence(d, b[i]!));
}

/** The exact values `method: exact` needs, or a ProbeError saying why there are none. */
function requireExact(exact: ExactDivergence[] | null): ExactDivergence[] {
  if (exact === null) {
    throw new ProbeError(
      'method: exact needs full-vocabulary distributions, and this backend answered with top-k only; use method: topk.',
    );
  }
  return exact;
}

/** The evidence every divergence probe carries: the exact full-vocabulary means beside sway's raw. */
export function exactEvidence(
  exact: readonly ExactDivergence[] | null,
  method: DivergenceMethod,
): Record<string, unknown> {
  return {
    method,
    exact_js: exact === null ? null : mean(exact.map((d) => d.js)),
    exact_kl: exact === null ? null : mean(exact.map((d) => d.klFtBase)),
  };
}

/**
 * The exact divergences along a probe's curve (one point per context length, per λ): the mean exact
 * JS and KL of each point, reported as `exact_js_per_<axis>` / `exact_kl_per_<axis>`.
 */
export class ExactCurve {
  private readonly js: (number | null)[] = [];
  private readonly kl: (number | null)[] = [];

  add(exact: readonly ExactDivergence[] | null): void {
    this.js.push(exact === null ? null : mean(exact.map((d) => d.js)));
    this.kl.push(exact === null ? null : mean(exact.map((d) => d.klFtBase)));
  }

  evidence(axis: string): Record<string, (number | null)[]> {
    return { [`exact_js_per_${axis}`]: this.js, [`exact_kl_per_${axis}`]: this.kl };
  }
}

/** What a base-vs-ft divergence probe measures per prompt, from one full lookup per prompt and view. */
export interface PromptDivergences {
  /** The spec's divergence per prompt: sway's top-k formula, or the exact one with `method: exact`. */
  perPrompt: number[];
  /** Each view's distributions cut to the top-k (what sway's formula saw). */
  base: TokenDist[];
  ft: TokenDist[];
  /** Exact divergences per prompt; null from a backend that answers with top-k only. */
  exact: ExactDivergence[] | null;
}

export async function promptDivergences(
  backend: { base: ScoringViewLike; ft: ScoringViewLike; info: { vocabSize: number } },
  spec: { prompts: readonly string[]; divergence: DivergenceKind; method: DivergenceMethod },
  k: number,
): Promise<PromptDivergences> {
  const full = await fullDists(backend.base, backend.ft, spec.prompts, backend.info.vocabSize);
  const exact = exactPerPair(full.a, full.b);
  const [base, ft] = [topK(full.a, k), topK(full.b, k)];
  const perPrompt =
    spec.method === 'exact'
      ? requireExact(exact).map((d) => exactValue(d, spec.divergence))
      : base.map((b, i) => divergence(b, ft[i]!, spec.divergence));
  return { perPrompt, base, ft, exact };
}
