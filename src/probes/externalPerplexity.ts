import { z } from 'zod';
import { clip, mean, pyFixed } from '../core/index.ts';
import { ci } from './common.ts';
import { EXTERNAL_CORPUS } from './data/externalCorpus.ts';
import { probeSpec } from './probeSpec.ts';
import { makeResult } from './result.ts';
import type { ProbeDefinition } from './types.ts';

export const ExternalPerplexitySpecSchema = probeSpec('external_perplexity', {
  chunk_chars: z.int().min(64).default(2048),
  max_chunks: z.int().min(1).default(16),
  assert_mean_delta_gte: z.number().default(-0.1),
});

export type ExternalPerplexitySpec = z.output<typeof ExternalPerplexitySpecSchema>;

/** Chunks of about `size` characters, cut at paragraph or sentence ends where possible. */
export function chunkText(text: string, size: number, max: number): string[] {
  const out: string[] = [];
  let rest = text.trim();
  while (rest.length > 0 && out.length < max) {
    if (rest.length <= size) {
      out.push(rest);
      break;
    }
    const window = rest.slice(0, size);
    const cut = Math.max(window.lastIndexOf('\n\n'), window.lastIndexOf('. ') + 1);
    const end = cut > size / 2 ? cut : size;
    out.push(rest.slice(0, end).trim());
    rest = rest.slice(end).trim();
  }
  return out;
}

/**
 * external_perplexity (calibration): ordinary text the fine-tune never saw should not get less
 * likely. δ = ft − base mean log-prob per token per chunk; PASS when mean δ ≥ −0.1; score clip(0.5 + δ).
 */
export const externalPerplexity: ProbeDefinition<ExternalPerplexitySpec> = {
  kind: 'external_perplexity',
  category: 'calibration',
  schema: ExternalPerplexitySpecSchema,
  async run(spec, ctx) {
    const chunks = chunkText(EXTERNAL_CORPUS, spec.chunk_chars, spec.max_chunks);
    const base = await ctx.backend.base.rollingLogprobBatch(chunks);
    ctx.onProgress({ done: 1, total: 2 });
    const ft = await ctx.backend.ft.rollingLogprobBatch(chunks);
    ctx.onProgress({ done: 2, total: 2 });
    const deltas = chunks.map((_, i) => ft[i]!.meanLogprob - base[i]!.meanLogprob);
    const m = mean(deltas);
    return makeResult(spec, m >= spec.assert_mean_delta_gte ? 'pass' : 'fail', {
      raw: m,
      score: clip(0.5 + m),
      baseValue: mean(base.map((r) => r.perplexity)),
      ftValue: mean(ft.map((r) => r.perplexity)),
      ci95: ci(deltas, ctx),
      message: `mean δ log-prob ${pyFixed(m, 3)} nats/token over ${chunks.length} chunks (threshold ${spec.assert_mean_delta_gte})`,
      evidence: { per_chunk_delta: deltas, num_chunks: chunks.length },
    });
  },
  calibrateSpec: (spec) => spec,
};
