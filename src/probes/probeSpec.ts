/**
 * The building blocks of probe spec schemas (zod). Each probe declares its entry as one schema —
 * the common fields, its `kind`, its own fields with their defaults — and its spec type is inferred
 * from it, so the schema the spec loader checks and the type the probe reads cannot drift apart.
 */
import { z } from 'zod';
import type { $ZodTypeDiscriminable } from 'zod/v4/core';

/** A string with something other than whitespace in it. */
export const nonEmptyString = z.string().refine((s) => s.trim() !== '', { message: 'must not be empty' });

/** Fields every probe entry accepts, whatever its kind (sway's common spec fields). */
export const CommonProbeSpecSchema = z.strictObject({
  name: nonEmptyString,
  kind: nonEmptyString,
  enabled: z.boolean().default(true),
  /** Weight within the probe's category. */
  weight: z.number().min(0).default(1.0),
});

export type CommonProbeSpec = z.output<typeof CommonProbeSpecSchema>;

/**
 * One probe kind's entry schema: the common fields with `kind` fixed to this probe's, plus its own
 * fields. Unknown keys are rejected (a misspelt field must not silently fall back to its default).
 */
export function probeSpec<const K extends string, Shape extends z.ZodRawShape>(kind: K, shape: Shape) {
  return CommonProbeSpecSchema.extend({ kind: z.literal(kind), ...shape });
}

/** A probe's entry schema as the registry holds it: parses to `S`, discriminable by `kind`. */
export type ProbeSpecSchema<S extends CommonProbeSpec = CommonProbeSpec> = z.ZodType<S> &
  $ZodTypeDiscriminable;

/** A prose section of the document the fine-tune learned (for section-based probes). */
export const DocSectionSchema = z.strictObject({
  id: nonEmptyString,
  kind: z.enum(['prose', 'instruction', 'preference']).default('prose'),
  text: z.string().default(''),
  prompt: z.string().optional(),
  gold: z.string().optional(),
  chosen: z.string().optional(),
  rejected: z.string().optional(),
});

export type DocSection = z.output<typeof DocSectionSchema>;

/** The `sections` field: the probe's own sections, or null to use the suite's (from `dlm_source`). */
export const sectionsField = z.array(DocSectionSchema).nullable().default(null);

/** A per-probe next-token top-k; null uses the suite's `defaults.top_k`. */
export const topKField = z.int().min(1).nullable().default(null);

/** The divergence a probe measures between two next-token distributions. */
export const divergenceField = z.enum(['js', 'kl']).default('js');

/** A z-score threshold (used once null-adapter calibration ran). */
export const zThresholdField = z.number().default(3.0);
