import { z } from 'zod';
import { clip, pyFixed } from '../core/index.ts';
import { decide, sectionsFor, throwIfAborted } from './common.ts';
import { probeSpec, sectionsField, zThresholdField } from './probeSpec.ts';
import { makeResult, safeFinalize } from './result.ts';
import { hasText, styleFingerprint } from './textFeatures.ts';
import { ProbeSkip, type ProbeDefinition } from './types.ts';

export const StyleFingerprintSpecSchema = probeSpec('style_fingerprint', {
  prompts: z.array(z.string()).min(1),
  /** The reference text whose style ft should move towards; empty uses `sections` / the document. */
  doc_reference: z.string().default(''),
  sections: sectionsField,
  max_new_tokens: z.int().min(1).default(128),
  assert_shift_gte: z.number().default(0.25),
  assert_z_gte: zThresholdField,
});

export type StyleFingerprintSpec = z.output<typeof StyleFingerprintSpecSchema>;

/** The fingerprint's evidence schema (sway's FINGERPRINT_SCHEMA_VERSION: 6-dim core fingerprint). */
const SCHEMA_VERSION = 2;

/** sway's sentinel prompts and reference paragraph for the null calibration of this probe. */
export const SENTINEL_PROMPTS = [
  'The capital of',
  'Once upon a time',
  'An interesting fact is',
  'The next step is to',
] as const;
export const SENTINEL_DOC =
  'This is a brief reference paragraph. It contains several short sentences. The vocabulary is ' +
  'plain and the punctuation density is moderate. A second paragraph follows the first.\n\n' +
  'Each clause is concise. Together they sample the fingerprint dimensions a probe needs to ' +
  'compute a meaningful style shift.';

const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
const sub = (a: number[], b: number[]) => a.map((v, i) => v - b[i]!);

/** sway's projection shift: (ft − base)·(doc − base)/‖doc − base‖², 0 when doc equals base. */
export function projectionShift(base: number[], ft: number[], doc: number[]): number {
  const axis = sub(doc, base);
  const nb2 = dot(axis, axis);
  return nb2 === 0 ? 0 : dot(sub(ft, base), axis) / nb2;
}

/**
 * style_fingerprint (calibration): did ft's writing move towards the document's style? Greedy samples
 * from both views (joined with "\n") give 6-dimensional fingerprints; shift = (ft − base)·(doc −
 * base)/‖doc − base‖², the share of the way from base's style to the document's. With null stats
 * the verdict is z ≥ 3, else shift ≥ 0.25; fallback score clip(shift). An ft view that produced only
 * blank text (or a zero fingerprint) is an ERROR, not a shift.
 */
export const styleFingerprintProbe: ProbeDefinition<StyleFingerprintSpec> = {
  kind: 'style_fingerprint',
  category: 'calibration',
  schema: StyleFingerprintSpecSchema,
  async run(spec, ctx) {
    const doc =
      spec.doc_reference !== ''
        ? spec.doc_reference
        : sectionsFor(spec, ctx)
            .map((s) => s.text)
            .join('\n\n');
    if (!hasText(doc))
      throw new ProbeSkip(
        'needs the document text (give `doc_reference`, `sections` or a dlm_source document)',
      );
    const baseSamples: string[] = [];
    const ftSamples: string[] = [];
    const opts = { maxNewTokens: spec.max_new_tokens, seed: ctx.seed };
    for (const [i, p] of spec.prompts.entries()) {
      throwIfAborted(ctx);
      baseSamples.push(await ctx.backend.base.generate(p, opts));
      ftSamples.push(await ctx.backend.ft.generate(p, opts));
      ctx.onProgress({ done: i + 1, total: spec.prompts.length });
    }
    return styleFingerprintResult(spec, ctx, baseSamples, ftSamples, doc);
  },
  calibrateSpec: (spec) => ({
    ...spec,
    name: '_calibration',
    prompts: [...SENTINEL_PROMPTS],
    doc_reference: SENTINEL_DOC,
    sections: null,
    max_new_tokens: 64,
  }),
};

/** The probe's verdict from the generated samples (what sway's run does after generating). */
export function styleFingerprintResult(
  spec: StyleFingerprintSpec,
  ctx: Parameters<typeof decide>[2],
  baseSamples: string[],
  ftSamples: string[],
  doc: string,
) {
  const fb = styleFingerprint(baseSamples.join('\n'));
  const ff = styleFingerprint(ftSamples.join('\n'));
  const fd = styleFingerprint(doc);
  const ftIsZero = ff.every((v) => Math.abs(v) <= 1e-8);
  const ftTextIsEmpty = ftSamples.every((s) => !hasText(s));
  if (ftIsZero || ftTextIsEmpty) {
    return safeFinalize(
      makeResult(spec, 'error', {
        message:
          'fine-tuned model produced empty / zero-fingerprint output — cannot measure style shift on a degenerate ft view',
        evidence: {
          base_fp: fb,
          ft_fp: ff,
          doc_fp: fd,
          ft_text_is_empty: ftTextIsEmpty,
          ft_fp_is_zero: ftIsZero,
          extended: false,
          schema_version: SCHEMA_VERSION,
        },
      }),
    );
  }
  const shift = projectionShift(fb, ff, fd);
  const d = decide(spec.kind, shift, ctx, {
    zThreshold: spec.assert_z_gte,
    fallbackPass: shift >= spec.assert_shift_gte,
    fallbackScore: clip(shift),
  });
  const signed = `${shift >= 0 ? '+' : ''}${pyFixed(shift, 2)}`;
  return safeFinalize(
    makeResult(spec, d.verdict, {
      raw: shift,
      zScore: d.z,
      score: d.score,
      message:
        d.z !== null
          ? `style_shift=${signed}, z=${d.z >= 0 ? '+' : ''}${pyFixed(d.z, 2)}σ vs null`
          : `style_shift=${signed} (${shift > 0 ? 'toward' : 'away from'} doc, threshold=${spec.assert_shift_gte}) (no calibration for style_fingerprint)`,
      evidence: {
        base_fp: fb,
        ft_fp: ff,
        doc_fp: fd,
        style_shift: shift,
        extended: false,
        schema_version: SCHEMA_VERSION,
      },
    }),
  );
}
