/**
 * The schema of a `sway.yaml` suite spec (zod): the top level, sway's `ModelSpec`, the defaults and
 * the probe entries (each against its kind's schema in the probe registry). The spec types in
 * `types.ts` are inferred from these schemas, so what is validated is what the code reads.
 */
import { z } from 'zod';
import { nonEmptyString } from '../probes/probeSpec.ts';
import { ProbeEntrySchema } from '../probes/registry.ts';
import type { Category } from '../probes/types.ts';
import { DEFAULT_WEIGHTS } from './score.ts';

/** sway's `ModelSpec`, field for field (a real `sway.yaml` must parse unchanged). */
export const ModelSpecSchema = z.strictObject({
  kind: z.enum(['hf', 'mlx', 'dummy', 'custom', 'api']).default('hf'),
  /** Hub id or local model folder. */
  base: nonEmptyString,
  /** PEFT adapter folder (runtime LoRA), optional. */
  adapter: nonEmptyString.nullable().default(null),
  dtype: z.enum(['auto', 'fp16', 'bf16', 'fp32']).default('auto'),
  device: nonEmptyString.default('auto'),
  trust_remote_code: z.boolean().default(false),
  entry_point: z.string().nullable().default(null),
  endpoint: z.string().nullable().default(null),
});

const weight = z.number().min(0).optional();

/** Per-category score weights as written; merged over sway's defaults (`DEFAULT_WEIGHTS`). */
const ScoreWeightsSchema = z
  .strictObject({
    adherence: weight,
    attribution: weight,
    calibration: weight,
    ablation: weight,
    baseline: weight,
  } satisfies Record<Category, typeof weight>)
  .transform((w): Partial<Record<Category, number>> => ({ ...DEFAULT_WEIGHTS, ...w }))
  .superRefine((w, ctx) => {
    if (!Object.values(w).some((v) => v > 0)) {
      ctx.addIssue({
        code: 'custom',
        message: `at least one category weight must be positive (merged weights: ${JSON.stringify(w)})`,
      });
    }
  });

export const SuiteDefaultsSchema = z.strictObject({
  seed: z.int().default(0),
  top_k: z.int().min(1).default(256),
  differential: z.boolean().default(true),
  coverage_threshold: z.number().min(0).max(1).default(0.6),
  score_weights: ScoreWeightsSchema.prefault({}),
  // Accepted for sway compatibility; probes run one after another either way.
  concurrent_probes: z.int().min(1).default(1),
});

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Probe names must be unique: reports and traces key probes by name. */
const ProbeListSchema = z.array(ProbeEntrySchema).superRefine(
  (entries: unknown, ctx) => {
    // With `when` below this sees the list as given, which may not be a list at all.
    if (!Array.isArray(entries)) return;
    const firstByName = new Map<string, number>();
    entries.forEach((entry: unknown, i) => {
      const name = isRecord(entry) ? entry.name : undefined;
      if (typeof name !== 'string') return;
      const first = firstByName.get(name);
      if (first === undefined) firstByName.set(name, i);
      else {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'name'],
          message: `duplicate probe name "${name}" (also suite[${first}]); names must be unique`,
        });
      }
    });
  },
  // Also when some entries are invalid: a duplicate is worth knowing in the same pass.
  { when: () => true },
);

/**
 * deltascope's prompt hygiene settings (not in sway's format; absent means none): `exclude` drops
 * every prompt a pattern matches (JavaScript regular expressions, `u` flag), counted in the report.
 */
export const HygieneSchema = z.strictObject({
  exclude: z
    .array(z.string())
    .default([])
    .superRefine((patterns, ctx) => {
      patterns.forEach((p, i) => {
        try {
          new RegExp(p, 'u');
        } catch (e) {
          ctx.addIssue({
            code: 'custom',
            path: [i],
            message: `not a regular expression: ${(e as Error).message}`,
          });
        }
      });
    }),
});

/** The top level of a spec. */
export const SuiteSpecSchema = z
  .strictObject(
    {
      version: z.int(),
      dlm_source: z.string().nullable().default(null),
      models: z.strictObject({ base: ModelSpecSchema, ft: ModelSpecSchema }),
      // Filled in when absent, so a spec without `defaults` gets every default.
      defaults: SuiteDefaultsSchema.prefault({}),
      suite: ProbeListSchema,
      hygiene: HygieneSchema.prefault({}),
    },
    {
      error: (iss) =>
        iss.code === 'invalid_type' && (iss.path ?? []).length === 0
          ? `expected a mapping with version, models, defaults and suite; got ${describeRoot(iss.input)}`
          : undefined,
    },
  )
  .superRefine(
    (spec: unknown, ctx) => {
      const version = isRecord(spec) ? spec.version : undefined;
      if (typeof version === 'number' && Number.isInteger(version) && version !== 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['version'],
          message: `unsupported spec version ${version}; deltascope reads version 1 (sway's format)`,
        });
      }
    },
    // Runs whatever else is wrong, after the field checks (so it lists after them).
    { when: () => true },
  );

function describeRoot(v: unknown): string {
  if (v === null || v === undefined) return 'an empty document';
  return Array.isArray(v) ? 'a list' : JSON.stringify(v);
}
