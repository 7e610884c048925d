import { bootstrapCi, scoreFromZ, verdictFromZ, zScore } from '../core/index.ts';
import { ProbeSkip, type DocSection, type ProbeContext, type Verdict } from './types.ts';

/** The spec's own sections, else the suite's (from `dlm_source`). */
export function sectionsFor(
  spec: { sections?: DocSection[] | null },
  ctx: ProbeContext,
): readonly DocSection[] {
  return spec.sections ?? ctx.sections;
}

/**
 * Splits a markdown document into prose sections: one per paragraph under its nearest heading, so
 * `section_internalization` and `leakage` can run from a document alone.
 */
export function sectionsFromMarkdown(markdown: string): DocSection[] {
  const out: DocSection[] = [];
  let heading = 'section';
  for (const block of markdown.split(/\n\s*\n/)) {
    const text = block.trim();
    if (text === '') continue;
    const h = /^#+\s+(.*)$/.exec(text);
    if (h !== null && !text.includes('\n')) {
      heading = h[1]!.trim();
      continue;
    }
    out.push({ id: `${heading} ¶${out.length + 1}`, kind: 'prose', text });
  }
  return out;
}

/**
 * Where a probe's null statistics live: its kind, as sway keys them, or `<kind>@exact` for a probe
 * run with `method: exact`, so an exact raw is never scored against nulls of sway's top-k formula.
 */
export function nullStatsKey(spec: { kind: string; method?: unknown }): string {
  return spec.method === 'exact' ? `${spec.kind}@exact` : spec.kind;
}

/**
 * The z / fallback decision every calibrated probe makes: with null stats, verdict from z (sign
 * flipped for lower-is-better probes) and score sigmoid(z/3); without, the probe's fallback rule.
 */
export function decide(
  kind: string,
  raw: number,
  ctx: ProbeContext,
  opts: { zThreshold: number; lowerIsBetter?: boolean; fallbackPass: boolean; fallbackScore: number },
): { z: number | null; verdict: Verdict; score: number } {
  const z0 = zScore(raw, ctx.nullStats[kind]);
  const z = z0 === null ? null : opts.lowerIsBetter ? -z0 : z0;
  const fromZ = verdictFromZ(z, opts.zThreshold);
  if (z !== null && fromZ !== null) return { z, verdict: fromZ, score: scoreFromZ(z) };
  return { z: null, verdict: opts.fallbackPass ? 'pass' : 'fail', score: opts.fallbackScore };
}

export const ci = (samples: number[], ctx: ProbeContext): [number, number] | null =>
  bootstrapCi(samples, { seed: ctx.seed });

export function throwIfAborted(ctx: ProbeContext): void {
  if (ctx.signal.aborted) throw new ProbeSkip('cancelled by user');
}
