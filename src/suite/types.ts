import type { HygieneSummary } from './promptHygiene.ts';
import type { Provenance } from './provenance.ts';
import type { z } from 'zod';
import type { BackendStatsDict } from '../core/index.ts';
import type { RunMetrics } from '../core/runMetrics.ts';
import type { Category, ProbeResult } from '../probes/types.ts';
import type { ModelSpecSchema, SuiteDefaultsSchema, SuiteSpecSchema } from './specSchema.ts';

/** sway's `ModelSpec` (inferred from `ModelSpecSchema`). */
export type ModelSpec = z.output<typeof ModelSpecSchema>;

export type ModelKind = ModelSpec['kind'];

/** The suite's `defaults`, filled in; `score_weights` is merged over sway's category weights. */
export type SuiteDefaults = z.output<typeof SuiteDefaultsSchema>;

/** A validated `sway.yaml`. Probe entries keep their kind-specific fields. */
/** A parsed spec; `hygiene` is optional for specs built in code (the parser always fills it in). */
export type SuiteSpec = Omit<z.output<typeof SuiteSpecSchema>, 'hygiene'> &
  Partial<Pick<z.output<typeof SuiteSpecSchema>, 'hygiene'>>;

export type Band = 'noise' | 'partial' | 'healthy' | 'suspicious';

/** sway's `SwayScore`: with no scored probe the overall is 0 ("noise"); every category is listed. */
export interface CompositeScore {
  overall: number;
  band: Band;
  components: Record<Category, number>;
  weights: Record<Category, number>;
  findings: string[];
}

export type DeterminismClass = 'strict' | 'best_effort' | 'loose';

export interface SuiteResult {
  swayVersion: string;
  specPath: string;
  baseModelId: string;
  adapterId: string;
  startedAt: string;
  finishedAt: string;
  wallSeconds: number;
  determinism: { class: DeterminismClass; seed: number; notes: string[] };
  backendStats: BackendStatsDict | Record<string, never>;
  score: CompositeScore;
  nullStats: Record<string, unknown>;
  /** What prompt hygiene did before the suite ran (absent in reports from before it existed). */
  hygiene?: HygieneSummary;
  probes: ProbeResult[];
  /** The suite run's metrics (core/runMetrics.ts; absent where nobody tracked them, and in older reports). */
  metrics?: RunMetrics;
  /** What produced the run: models, file hashes, dtype, device, version, spec, seed (suite/provenance.ts). */
  provenance?: Provenance;
}
