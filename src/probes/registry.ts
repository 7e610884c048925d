import type { FieldSchema } from '../core/index.ts';
import { adapterAblation } from './adapterAblation.ts';
import { calibrationDrift } from './calibrationDrift.ts';
import { clusterKl } from './clusterKl.ts';
import { deltaKl } from './deltaKl.ts';
import { externalPerplexity } from './externalPerplexity.ts';
import { leakage } from './leakage.ts';
import { nullAdapter } from './nullAdapter.ts';
import { paraphraseInvariance } from './paraphraseInvariance.ts';
import { preferenceFlip } from './preferenceFlip.ts';
import { promptCollapse } from './promptCollapse.ts';
import { sectionInternalization } from './sectionInternalization.ts';
import { styleFingerprintProbe } from './styleFingerprint.ts';
import type { CommonProbeSpec, ProbeDefinition } from './types.ts';

/** Fields every probe entry has, whatever its kind. */
export const COMMON_FIELDS: FieldSchema = {
  name: { type: 'string', nonEmpty: true },
  kind: { type: 'string', nonEmpty: true },
  enabled: { type: 'boolean', default: true },
  weight: { type: 'number', min: 0, default: 1.0 },
};

// Each definition is typed for its own spec; the registry stores them under the common shape.
const ALL = [
  nullAdapter,
  deltaKl,
  clusterKl,
  promptCollapse,
  sectionInternalization,
  paraphraseInvariance,
  preferenceFlip,
  calibrationDrift,
  leakage,
  styleFingerprintProbe,
  externalPerplexity,
  adapterAblation,
] as unknown as ProbeDefinition<CommonProbeSpec>[];

/** kind → probe definition, in the order sway documents them. */
export const probeRegistry: ReadonlyMap<string, ProbeDefinition<CommonProbeSpec>> = new Map(
  ALL.map((p) => [p.kind, p]),
);

/** The full schema of one probe entry: common fields plus the kind's own. */
export function probeSchema(def: ProbeDefinition<CommonProbeSpec>): FieldSchema {
  return { ...COMMON_FIELDS, ...def.fields };
}
