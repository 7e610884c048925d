import { z } from 'zod';
import { mean } from '../core/index.ts';
import { throwIfAborted } from './common.ts';
import { divergenceField, probeSpec, topKField, zThresholdField } from './probeSpec.ts';
import { ExactCurve, promptDivergences } from './exactEvidence.ts';
import { makeResult, safeFinalize } from './result.ts';
import type { ProbeDefinition, ProbeResult, ScoringViewLike } from './types.ts';

export const PromptCollapseSpecSchema = probeSpec('prompt_collapse', {
  prompts: z.array(z.string()).min(1),
  context_lengths: z.array(z.int().min(0)).min(2).default([0, 256, 512, 1024]),
  divergence: divergenceField,
  top_k: topKField,
  assert_half_life_tokens: z.number().gt(0).default(512),
  /** Accepted as sway's; the probe opts out of null calibration, so it never applies. */
  assert_z_gte: zThresholdField,
  /** true: sway's English filler instead of filler derived from the tokenizer's pad/unk/EOS token. */
  legacy_stuffing: z.boolean().default(false),
});

export type PromptCollapseSpec = z.output<typeof PromptCollapseSpecSchema>;

/** sway's neutral stuffing text (its English filler, about four characters per token). */
const STUFFING =
  'The following log lines are archived for historical record and have no bearing on the question ' +
  'that follows. They are retained for audit purposes only and should be ignored when forming an answer. ';

/** About `tokens` tokens of filler: sway's stuffing repeated, cut at 4·tokens characters, then "\n\n". */
export function filler(tokens: number): string {
  if (tokens <= 0) return '';
  const chars = tokens * 4;
  const reps = Math.floor(chars / STUFFING.length) + 1;
  return `${STUFFING.repeat(reps).slice(0, chars)}\n\n`;
}

/**
 * sway's `_stuffing`: filler derived from the (ft) view's tokenizer — its pad / unk / EOS token
 * repeated and cut to exactly `tokens` tokens — so the prefix carries nothing but its length in any
 * language; the English filler where the view has no tokenizer (the fake) or the spec asks for it.
 */
export async function stuffing(tokens: number, view: ScoringViewLike | undefined): Promise<string> {
  if (tokens <= 0) return '';
  const derived = view?.padStuffing === undefined ? null : await view.padStuffing(tokens);
  return derived ?? filler(tokens);
}

/**
 * sway's `_fit_half_life`: least-squares slope of ln(div) against the context length, half-life
 * ln2 · (−1/slope). Null when a divergence is ≤ 0, every length is the same, or the slope is ≥ 0 (no
 * decay to express as a half-life).
 */
export function fitHalfLife(lengths: readonly number[], divs: readonly number[]): number | null {
  if (divs.some((d) => d <= 0)) return null;
  const logY = divs.map((d) => Math.log(d));
  const xMean = mean(lengths as number[]);
  const yMean = mean(logY);
  let denom = 0;
  let num = 0;
  for (let i = 0; i < lengths.length; i++) denom += (lengths[i]! - xMean) ** 2;
  if (denom === 0) return null;
  for (let i = 0; i < lengths.length; i++) num += (lengths[i]! - xMean) * (logY[i]! - yMean);
  const slope = num / denom;
  if (slope >= 0) return null;
  return Math.LN2 * (-1 / slope);
}

/** Python's `f"{x:.0f}"`: round half to even, every digit written out (no exponent). */
export function pyFixed0(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : x < 0 ? '-inf' : 'nan';
  let r = Math.round(x);
  if (Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0) r -= 1;
  const s = Math.abs(r) >= 1e21 ? BigInt(r).toString() : r.toFixed(0);
  return Object.is(r, -0) || (r === 0 && x < 0) ? `-${s}` : s;
}

/** The verdict, score and evidence sway derives from the mean divergence at each length. */
export function promptCollapseResult(
  spec: PromptCollapseSpec,
  meanDivs: number[],
  /** Exact full-vocabulary means per length (`exact_js_per_length`, `exact_kl_per_length`), when run on a pair. */
  exactExtra: Record<string, unknown> = {},
): ProbeResult {
  const halfLife = fitHalfLife(spec.context_lengths, meanDivs);
  const target = spec.assert_half_life_tokens;
  const pass = halfLife !== null && halfLife >= target;
  return safeFinalize(
    makeResult(spec, pass ? 'pass' : 'fail', {
      raw: halfLife,
      score: halfLife === null ? 0 : Math.min(1, halfLife / Math.max(target, 1)),
      message:
        halfLife !== null
          ? `half-life=${pyFixed0(halfLife)} tokens (no calibration for prompt_collapse)`
          : 'could not fit exponential decay (too flat or non-monotonic)',
      evidence: {
        context_lengths: spec.context_lengths,
        mean_divergence_per_length: meanDivs,
        divergence_kind: spec.divergence,
        ...exactExtra,
      },
    }),
  );
}

/**
 * prompt_collapse (adherence): does the fine-tune's effect survive a long context? Prepends filler (from the tokenizer, see `stuffing`) of
 * each length (in the spec's order), takes the mean divergence, fits ln(div) against length and
 * reports the half-life ln2 · (−1/slope) in tokens. PASS at ≥ 512 tokens, score min(1, hl/512). A
 * curve that does not decay, or any divergence ≤ 0, has no half-life: FAIL with score 0, as in sway.
 * Opts out of null calibration (noise has nothing to decay).
 */
export const promptCollapse: ProbeDefinition<PromptCollapseSpec> = {
  kind: 'prompt_collapse',
  category: 'adherence',
  schema: PromptCollapseSpecSchema,
  async run(spec, ctx) {
    const topK = spec.top_k ?? ctx.topK;
    const lengths = spec.context_lengths;
    const divs: number[] = [];
    const exact = new ExactCurve();
    for (let li = 0; li < lengths.length; li++) {
      throwIfAborted(ctx);
      const prefix = await stuffing(lengths[li]!, spec.legacy_stuffing ? undefined : ctx.backend.ft);
      const prompts = spec.prompts.map((p) => prefix + p);
      const d = await promptDivergences(
        ctx.backend,
        { prompts, divergence: spec.divergence, method: 'topk' },
        topK,
      );
      divs.push(mean(d.perPrompt));
      exact.add(d.exact);
      ctx.onProgress({ done: li + 1, total: lengths.length });
    }
    return promptCollapseResult(spec, divs, exact.evidence('length'));
  },
  calibrateSpec: () => null,
};
