import { z } from 'zod';
import { clip } from '../core/index.ts';
import { sectionsFor, throwIfAborted } from './common.ts';
import { probeSpec, sectionsField } from './probeSpec.ts';
import { makeResult } from './result.ts';
import { styleFingerprint } from './textFeatures.ts';
import { ProbeSkip, type ProbeDefinition } from './types.ts';

export const StyleFingerprintSpecSchema = probeSpec('style_fingerprint', {
  prompts: z.array(z.string()).min(1),
  sections: sectionsField,
  max_new_tokens: z.int().min(1).default(128),
  assert_shift_gte: z.number().default(0.25),
});

export type StyleFingerprintSpec = z.output<typeof StyleFingerprintSpecSchema>;

const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
const sub = (a: number[], b: number[]) => a.map((v, i) => v - b[i]!);

/**
 * style_fingerprint (calibration): did ft's writing move towards the document's style? Greedy samples
 * from both views give 6-dimensional fingerprints; shift = (ft − base)·(doc − base)/‖doc − base‖², the
 * share of the way from base's style to the document's. PASS at ≥ 0.25; score clip(shift).
 */
export const styleFingerprintProbe: ProbeDefinition<StyleFingerprintSpec> = {
  kind: 'style_fingerprint',
  category: 'calibration',
  schema: StyleFingerprintSpecSchema,
  async run(spec, ctx) {
    const doc = sectionsFor(spec, ctx)
      .map((s) => s.text)
      .join('\n\n');
    if (doc.trim() === '')
      throw new ProbeSkip('needs the document text (give `sections` or a dlm_source document)');
    const sample = async (view: typeof ctx.backend.base) => {
      const parts: string[] = [];
      for (const p of spec.prompts) {
        throwIfAborted(ctx);
        parts.push(await view.generate(p, { maxNewTokens: spec.max_new_tokens, seed: ctx.seed }));
      }
      return parts.join('\n\n');
    };
    const baseText = await sample(ctx.backend.base);
    ctx.onProgress({ done: 1, total: 2 });
    const ftText = await sample(ctx.backend.ft);
    ctx.onProgress({ done: 2, total: 2 });
    const fb = styleFingerprint(baseText);
    const ff = styleFingerprint(ftText);
    const fd = styleFingerprint(doc);
    if (ff.every((v) => v === 0)) {
      return makeResult(spec, 'error', { message: 'ft produced no text to fingerprint (empty generations)' });
    }
    const axis = sub(fd, fb);
    const norm2 = dot(axis, axis);
    const shift = norm2 === 0 ? 0 : dot(sub(ff, fb), axis) / norm2;
    return makeResult(spec, shift >= spec.assert_shift_gte ? 'pass' : 'fail', {
      raw: shift,
      score: clip(shift),
      message: `style moved ${(shift * 100).toFixed(1)}% of the way from base towards the document`,
      evidence: { fingerprint_base: fb, fingerprint_ft: ff, fingerprint_doc: fd },
    });
  },
  calibrateSpec: () => null,
};
