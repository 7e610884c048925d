import type { FieldSchema } from '../core/index.ts';
import { CATEGORIES } from '../probes/types.ts';

/** sway's `ModelSpec`, field for field (a real `sway.yaml` must parse unchanged). */
export const MODEL_FIELDS: FieldSchema = {
  kind: { type: 'enum', values: ['hf', 'mlx', 'dummy', 'custom', 'api'], default: 'hf' },
  base: { type: 'string', nonEmpty: true, description: 'hub id or local model folder' },
  adapter: { type: 'string', nonEmpty: true, nullable: true, default: null },
  dtype: { type: 'enum', values: ['auto', 'fp16', 'bf16', 'fp32'], default: 'auto' },
  device: { type: 'string', nonEmpty: true, default: 'auto' },
  trust_remote_code: { type: 'boolean', default: false },
  entry_point: { type: 'string', nullable: true, default: null },
  endpoint: { type: 'string', nullable: true, default: null },
};

const WEIGHT_FIELDS: FieldSchema = Object.fromEntries(
  CATEGORIES.map((c) => [c, { type: 'number', min: 0, optional: true }]),
);

export const DEFAULTS_FIELDS: FieldSchema = {
  seed: { type: 'int', default: 0 },
  top_k: { type: 'int', min: 1, default: 256 },
  differential: { type: 'boolean', default: true },
  coverage_threshold: { type: 'number', min: 0, max: 1, default: 0.6 },
  score_weights: { type: 'object', fields: WEIGHT_FIELDS, default: {} },
  // Accepted for sway compatibility; probes run one after another either way.
  concurrent_probes: { type: 'int', min: 1, default: 1 },
};

/** The top level of a spec. */
export const SPEC_FIELDS: FieldSchema = {
  version: { type: 'int' },
  dlm_source: { type: 'string', nullable: true, default: null },
  models: {
    type: 'object',
    fields: {
      base: { type: 'object', fields: MODEL_FIELDS },
      ft: { type: 'object', fields: MODEL_FIELDS },
    },
  },
  // Checked on their own (DEFAULTS_FIELDS, the probe registry) so an absent `defaults` still gets
  // every default filled in, and each probe entry is checked against its own kind.
  defaults: { type: 'any', default: {} },
  suite: { type: 'list', of: { type: 'any' } },
};
