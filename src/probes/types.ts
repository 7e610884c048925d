import type { DifferentialBackend } from '../backend/index.ts';
import type { FieldSchema } from '../core/index.ts';

export type Verdict = 'pass' | 'fail' | 'warn' | 'skip' | 'error';

export const CATEGORIES = ['adherence', 'attribution', 'calibration', 'ablation', 'baseline'] as const;
export type Category = (typeof CATEGORIES)[number];

/** One probe's outcome, sway's `ProbeResult` (serialised with sway's snake_case keys in reports). */
export interface ProbeResult {
  name: string;
  kind: string;
  verdict: Verdict;
  score: number | null;
  raw: number | null;
  zScore: number | null;
  baseValue: number | null;
  ftValue: number | null;
  evidence: Record<string, unknown>;
  message: string;
  durationS: number;
  ci95: [number, number] | null;
}

/** Fields every probe entry accepts (sway's common spec fields). */
export interface CommonProbeSpec {
  name: string;
  kind: string;
  enabled: boolean;
  /** Weight within the probe's category. */
  weight: number;
}

/** Null-adapter statistics per probe kind, for z-scores (filled by `null_adapter`). */
export interface NullStats {
  mean: number;
  std: number;
  n: number;
  /** ≥ 0.5 when the null runs were degenerate (e.g. all equal). */
  degenerate?: number;
}

/** A prose section of the document the fine-tune learned (for section-based probes). */
export interface DocSection {
  id: string;
  kind: 'prose' | 'instruction' | 'preference';
  text: string;
  prompt?: string;
  gold?: string;
  chosen?: string;
  rejected?: string;
}

export interface ProbeProgress {
  done: number;
  total: number;
}

export interface ProbeContext {
  backend: DifferentialBackend;
  seed: number;
  /** Suite default for next-token top-k (256). */
  topK: number;
  /** Null statistics by probe kind; empty when uncalibrated. */
  nullStats: Readonly<Record<string, NullStats>>;
  /** The probe registry, for probes that run other probes (`null_adapter` calibrates later ones). */
  probes: ReadonlyMap<string, ProbeDefinition<CommonProbeSpec>>;
  /** Probe entries declared after this one in the suite (what `null_adapter` calibrates). */
  downstream: readonly CommonProbeSpec[];
  /** The document text and its sections, when the spec names them. */
  sections: readonly DocSection[];
  signal: AbortSignal;
  onProgress(p: ProbeProgress): void;
}

/** Thrown by a probe to SKIP with a reason (a missing capability, too little data). */
export class ProbeSkip extends Error {
  override readonly name = 'ProbeSkip';
}

export interface ProbeDefinition<S extends CommonProbeSpec = CommonProbeSpec> {
  kind: string;
  category: Category;
  /** Uses the batched ops (one batch per view). */
  batchScore: boolean;
  needsBackend: boolean;
  /** The probe's own fields (the common ones are added by the registry). */
  fields: FieldSchema;
  /** Cross-field checks after the schema passed; returns messages keyed by field. */
  check?(spec: S): { field: string; message: string }[];
  run(spec: S, ctx: ProbeContext): Promise<ProbeResult>;
  /** The spec to run under null adapters for calibration, or null to opt out. */
  calibrateSpec?(spec: S): S | null;
}

/** The scoring ops a probe calls on a view (re-exported so probes need not reach into backend/). */
export type ScoringViewLike = DifferentialBackend['base'];
