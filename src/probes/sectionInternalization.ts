import { z } from 'zod';
import { mean } from '../core/index.ts';
import { ci, sectionsFor, throwIfAborted } from './common.ts';
import { probeSpec, sectionsField } from './probeSpec.ts';
import { makeResult } from './result.ts';
import { approxTokens } from './textFeatures.ts';
import { ProbeSkip, type DocSection, type ProbeDefinition, type ScoringViewLike } from './types.ts';

export const SectionInternalizationSpecSchema = probeSpec('section_internalization', {
  sections: sectionsField,
  assert_effective_gte: z.number().default(0.05),
  assert_passing_frac_gte: z.number().min(0).max(1).default(0.5),
});

export type SectionInternalizationSpec = z.output<typeof SectionInternalizationSpecSchema>;

/** NLL per token of a section under one view: rolling for prose, the gold answer for the others. */
async function nll(view: ScoringViewLike, s: DocSection): Promise<number> {
  if (s.kind === 'prose' || s.prompt === undefined) return -(await view.rollingLogprob(s.text)).meanLogprob;
  const answer = s.kind === 'preference' ? (s.chosen ?? s.gold ?? '') : (s.gold ?? '');
  return -(await view.logprobOf(s.prompt, answer)) / approxTokens(answer);
}

/**
 * section_internalization (attribution): did each section of the document get learned more than the
 * document's other sections "leak" into it? own = (m_base − m_ft)/m_base; effective = own − mean(own of
 * the others). A section passes at effective ≥ 0.05; the probe at ≥ half the sections passing.
 */
export const sectionInternalization: ProbeDefinition<SectionInternalizationSpec> = {
  kind: 'section_internalization',
  category: 'attribution',
  schema: SectionInternalizationSpecSchema,
  async run(spec, ctx) {
    const sections = sectionsFor(spec, ctx);
    if (sections.length < 2) {
      throw new ProbeSkip('needs at least 2 document sections (give `sections` or a dlm_source document)');
    }
    const own: number[] = [];
    for (let i = 0; i < sections.length; i++) {
      throwIfAborted(ctx);
      const mb = await nll(ctx.backend.base, sections[i]!);
      const mf = await nll(ctx.backend.ft, sections[i]!);
      own.push(mb === 0 ? 0 : (mb - mf) / mb);
      ctx.onProgress({ done: i + 1, total: sections.length });
    }
    const effective = own.map((o, i) => o - mean(own.filter((_, j) => j !== i)));
    const passing = effective.map((e) => e >= spec.assert_effective_gte);
    const frac = passing.filter(Boolean).length / passing.length;
    return makeResult(spec, frac >= spec.assert_passing_frac_gte ? 'pass' : 'fail', {
      raw: mean(effective),
      score: frac,
      ci95: ci(effective, ctx),
      message: `${passing.filter(Boolean).length}/${passing.length} sections internalised (effective ≥ ${spec.assert_effective_gte})`,
      evidence: {
        per_section: sections.map((s, i) => ({
          id: s.id,
          own: own[i],
          effective: effective[i],
          passed: passing[i],
        })),
        passing_frac: frac,
      },
    });
  },
  calibrateSpec: () => null,
};
