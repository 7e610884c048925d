import { z } from 'zod';
import { divergence, linearFit, mean } from '../core/index.ts';
import { throwIfAborted } from './common.ts';
import { divergenceField, probeSpec, topKField } from './probeSpec.ts';
import { makeResult } from './result.ts';
import type { ProbeDefinition } from './types.ts';

export const PromptCollapseSpecSchema = probeSpec('prompt_collapse', {
  prompts: z.array(z.string()).min(1),
  context_lengths: z.array(z.int().min(0)).min(2).default([0, 256, 512, 1024]),
  divergence: divergenceField,
  top_k: topKField,
  assert_half_life_tokens: z.number().gt(0).default(512),
});

export type PromptCollapseSpec = z.output<typeof PromptCollapseSpecSchema>;

// Neutral English filler, about four characters per token (sway's legacy filler rule).
const FILLER_SENTENCE = 'The weather report said the day would be calm and mild. ';

/** About `tokens` tokens of filler text, cut at a word boundary. */
export function filler(tokens: number): string {
  if (tokens <= 0) return '';
  const chars = tokens * 4;
  const text = FILLER_SENTENCE.repeat(Math.ceil(chars / FILLER_SENTENCE.length)).slice(0, chars);
  return `${text.slice(0, text.lastIndexOf(' ') + 1)}\n\n`;
}

/**
 * prompt_collapse (adherence): does the fine-tune's effect survive a long context? Prepends filler of
 * each length, takes the mean divergence, fits ln(div) against length and reports the half-life
 * ln2 · (−1/slope) in tokens. A curve that does not decay (slope ≥ 0) passes with no half-life.
 */
export const promptCollapse: ProbeDefinition<PromptCollapseSpec> = {
  kind: 'prompt_collapse',
  category: 'adherence',
  schema: PromptCollapseSpecSchema,
  async run(spec, ctx) {
    const topK = spec.top_k ?? ctx.topK;
    const lengths = [...spec.context_lengths].sort((a, b) => a - b);
    const divs: number[] = [];
    for (let li = 0; li < lengths.length; li++) {
      throwIfAborted(ctx);
      const prompts = spec.prompts.map((p) => filler(lengths[li]!) + p);
      const [b, f] = [
        await ctx.backend.base.nextTokenDistBatch(prompts, { topK }),
        await ctx.backend.ft.nextTokenDistBatch(prompts, { topK }),
      ];
      divs.push(mean(prompts.map((_, i) => divergence(b[i]!, f[i]!, spec.divergence))));
      ctx.onProgress({ done: li + 1, total: lengths.length });
    }
    const evidence = { context_lengths: lengths, mean_divergence: divs };
    if (divs.some((d) => d <= 0)) {
      return makeResult(spec, 'warn', {
        message: 'a divergence is zero: ft equals base at some length, no half-life to fit',
        evidence,
      });
    }
    const { slope } = linearFit(
      lengths,
      divs.map((d) => Math.log(d)),
    );
    if (slope >= 0) {
      return makeResult(spec, 'pass', {
        score: 1,
        message: `no decay over ${lengths[0]}–${lengths[lengths.length - 1]} tokens of context`,
        evidence: { ...evidence, slope, half_life_tokens: null },
      });
    }
    const halfLife = Math.LN2 * (-1 / slope);
    return makeResult(spec, halfLife >= spec.assert_half_life_tokens ? 'pass' : 'fail', {
      raw: halfLife,
      score: Math.min(1, halfLife / spec.assert_half_life_tokens),
      message: `half-life ${halfLife.toFixed(0)} tokens (threshold ${spec.assert_half_life_tokens})`,
      evidence: { ...evidence, slope, half_life_tokens: halfLife },
    });
  },
  calibrateSpec: () => null,
};
