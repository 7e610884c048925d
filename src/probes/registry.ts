import { z } from 'zod';
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
] as unknown as [ProbeDefinition<CommonProbeSpec>, ...ProbeDefinition<CommonProbeSpec>[]];

/** kind → probe definition, in the order sway documents them. */
export const probeRegistry: ReadonlyMap<string, ProbeDefinition<CommonProbeSpec>> = new Map(
  ALL.map((p) => [p.kind, p]),
);

/** A validated probe entry: the common fields plus its kind's own (with their defaults filled in). */
export type ProbeEntry = CommonProbeSpec & Record<string, unknown>;

const knownKinds = ALL.map((p) => p.kind).join(', ');

/**
 * One entry of a suite's `suite:` list, checked against its kind's schema. An entry that is not a
 * mapping, has no `kind` or an unknown one is named as such, with the known kinds listed. (The
 * registry types its schemas by the common shape; each still outputs its kind's own fields.)
 */
export const ProbeEntrySchema = z.discriminatedUnion(
  'kind',
  ALL.map((p) => p.schema) as [ProbeDefinition['schema'], ...ProbeDefinition['schema'][]],
  {
    // Typed for union issues, but the union also raises `invalid_type` for an entry that is no mapping.
    error: (iss: z.core.$ZodRawIssue) => {
      if (iss.code === 'invalid_type') {
        return `expected a probe entry (a mapping with name, kind, …); known kinds: ${knownKinds}`;
      }
      if (iss.code !== 'invalid_union') return undefined;
      const kind = (iss.input as { kind?: unknown } | undefined)?.kind;
      return kind === undefined
        ? `required key "kind" is missing; known kinds: ${knownKinds}`
        : `unknown probe kind ${JSON.stringify(kind)}; known kinds: ${knownKinds}`;
    },
  },
) as z.ZodType<ProbeEntry>;
