import type { BackendStatsDict } from '../core/index.ts';
import type { Category, CommonProbeSpec, ProbeResult } from '../probes/types.ts';

export type ModelKind = 'hf' | 'mlx' | 'dummy' | 'custom' | 'api';

/** sway's `ModelSpec`. */
export interface ModelSpec {
  kind: ModelKind;
  /** Hub id or local model folder. */
  base: string;
  /** PEFT adapter folder (runtime LoRA), optional. */
  adapter: string | null;
  dtype: 'auto' | 'fp16' | 'bf16' | 'fp32';
  device: string;
  trust_remote_code: boolean;
  entry_point: string | null;
  endpoint: string | null;
}

export interface SuiteDefaults {
  seed: number;
  top_k: number;
  differential: boolean;
  coverage_threshold: number;
  score_weights: Partial<Record<Category, number>>;
  concurrent_probes: number;
}

/** A validated `sway.yaml`. Probe entries keep their kind-specific fields. */
export interface SuiteSpec {
  version: 1;
  dlm_source: string | null;
  models: { base: ModelSpec; ft: ModelSpec };
  defaults: SuiteDefaults;
  suite: (CommonProbeSpec & Record<string, unknown>)[];
}

export type Band = 'noise' | 'partial' | 'healthy' | 'suspicious';

export interface CompositeScore {
  overall: number | null;
  band: Band | null;
  components: Partial<Record<Category, number>>;
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
  probes: ProbeResult[];
}
