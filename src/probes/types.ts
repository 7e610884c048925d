import type { DifferentialBackend } from '../backend/index.ts';
import type { CommonProbeSpec, DocSection, ProbeSpecSchema } from './probeSpec.ts';

export type { CommonProbeSpec, DocSection } from './probeSpec.ts';

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

/** Null-adapter statistics per probe kind, for z-scores (filled by `null_adapter`). */
export interface NullStats {
  mean: number;
  std: number;
  n: number;
  /** ≥ 0.5 when the null runs were degenerate (e.g. all equal). */
  degenerate?: number;
}

/**
 * Where `null_adapter` keeps its statistics between runs (a folder in the CLI, IndexedDB in the
 * workbench), keyed by a hash of the backend's `nullIdentity` and the calibration parameters. A
 * speed-up, never a correctness contract: a failing or malformed store reads as a miss.
 */
export interface NullStatsCache {
  /** Where entries live, for messages ("null stats from ~/.cache/deltascope/null-stats"). */
  readonly where: string;
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
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
  /** The null-stats cache, when the caller keeps one (`null_adapter`'s `cache: true` uses it). */
  nullCache?: NullStatsCache;
}

/** Thrown by a probe to SKIP with a reason (a missing capability, too little data). */
export class ProbeSkip extends Error {
  override readonly name = 'ProbeSkip';
}

export interface ProbeDefinition<S extends CommonProbeSpec = CommonProbeSpec> {
  kind: S['kind'];
  category: Category;
  /**
   * The entry's schema (`probeSpec(kind, fields)`): the common fields, `kind`, the probe's own
   * fields with their defaults, and any cross-field checks as refinements. `S` is inferred from it.
   */
  schema: ProbeSpecSchema<S>;
  run(spec: S, ctx: ProbeContext): Promise<ProbeResult>;
  /** The spec to run under null adapters for calibration, or null to opt out. */
  calibrateSpec?(spec: S): S | null;
}

/** The scoring ops a probe calls on a view (re-exported so probes need not reach into backend/). */
export type ScoringViewLike = DifferentialBackend['base'];
