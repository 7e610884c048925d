import { DeltascopeError } from '../../core/errors.ts';
import { BACKEND_STATS_KEYS, type BackendStatsDict } from '../../core/index.ts';
import { runMetricsFromJson } from '../../core/runMetrics.ts';
import { sortedJsonValue } from '../../core/sortedJson.ts';
import { hygieneFromJson, hygieneToJson } from '../promptHygiene.ts';
import { provenanceFromJson } from '../provenance.ts';
import { CATEGORIES, type Category, type ProbeResult, type Verdict } from '../../probes/types.ts';
import { DEFAULT_WEIGHTS, bandFor } from '../score.ts';
import type { Band, DeterminismClass, SuiteResult } from '../types.ts';

export const REPORT_SCHEMA_VERSION = 1;

/**
 * A JSON report that cannot be read back (code `input/invalid`; `input` is the report). The message
 * names the input, what is wrong with it and what to pass instead.
 */
export class ReportFormatError extends DeltascopeError {
  override name = 'ReportFormatError';
  constructor(message: string, input: string) {
    super('input/invalid', message, { input });
  }
}

function probeToJson(p: ProbeResult): Record<string, unknown> {
  return {
    name: p.name,
    kind: p.kind,
    verdict: p.verdict,
    score: p.score,
    raw: p.raw,
    z_score: p.zScore,
    base_value: p.baseValue,
    ft_value: p.ftValue,
    evidence: p.evidence,
    message: p.message,
    duration_s: p.durationS,
    ci_95: p.ci95,
  };
}

/** The report as a plain object with sway's snake_case keys (unsorted; see `toJsonReport`). */
export function reportToJsonObject(r: SuiteResult): Record<string, unknown> {
  return {
    schema_version: REPORT_SCHEMA_VERSION,
    sway_version: r.swayVersion,
    spec_path: r.specPath,
    base_model_id: r.baseModelId,
    adapter_id: r.adapterId,
    started_at: r.startedAt,
    finished_at: r.finishedAt,
    wall_seconds: r.wallSeconds,
    determinism: { class: r.determinism.class, seed: r.determinism.seed, notes: r.determinism.notes },
    backend_stats: r.backendStats,
    score: {
      overall: r.score.overall,
      band: r.score.band,
      components: r.score.components,
      weights: r.score.weights,
      findings: r.score.findings,
    },
    null_stats: r.nullStats,
    ...(r.hygiene !== undefined ? { prompt_hygiene: hygieneToJson(r.hygiene) } : {}),
    probes: r.probes.map(probeToJson),
    ...(r.metrics !== undefined ? { metrics: r.metrics } : {}),
    ...(r.provenance !== undefined ? { provenance: r.provenance } : {}),
  };
}

/** sway's JSON report: `schema_version: 1`, keys sorted at every level, two-space indent. */
export function toJsonReport(result: SuiteResult): string {
  return JSON.stringify(sortedJsonValue(reportToJsonObject(result)), null, 2) + '\n';
}

const VERDICTS: readonly Verdict[] = ['pass', 'fail', 'warn', 'skip', 'error'];
const BANDS: readonly Band[] = ['noise', 'partial', 'healthy', 'suspicious'];
const DET_CLASSES: readonly DeterminismClass[] = ['strict', 'best_effort', 'loose'];
const STATS_KEYS = BACKEND_STATS_KEYS;

const rec = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : d);
const num = (v: unknown, d = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const oneOf = <T extends string>(v: unknown, values: readonly T[], d: T): T =>
  values.includes(v as T) ? (v as T) : d;

function categoryNumbers(v: unknown): Partial<Record<Category, number>> {
  const out: Partial<Record<Category, number>> = {};
  const r = rec(v);
  for (const c of CATEGORIES) if (typeof r[c] === 'number') out[c] = r[c];
  return out;
}

const ZERO_COMPONENTS = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;

function statsFromJson(r: Record<string, unknown>): BackendStatsDict {
  const out = {} as BackendStatsDict;
  for (const k of STATS_KEYS) out[k] = num(r[k]);
  return out;
}

function probeFromJson(v: unknown): ProbeResult {
  const p = rec(v);
  const ci = p.ci_95;
  return {
    name: str(p.name),
    kind: str(p.kind),
    verdict: oneOf(p.verdict, VERDICTS, 'error'),
    score: numOrNull(p.score),
    raw: numOrNull(p.raw),
    zScore: numOrNull(p.z_score),
    baseValue: numOrNull(p.base_value),
    ftValue: numOrNull(p.ft_value),
    evidence: rec(p.evidence),
    message: str(p.message),
    durationS: num(p.duration_s),
    ci95:
      Array.isArray(ci) && ci.length === 2 && typeof ci[0] === 'number' && typeof ci[1] === 'number'
        ? [ci[0], ci[1]]
        : null,
  };
}

/**
 * Reads a JSON report (ours or sway's) back into a `SuiteResult`. Missing or mistyped fields take
 * neutral defaults (empty strings, nulls, zero counts), as sway's `from_json` does; only text that
 * is not a JSON object, or a newer schema_version, is refused.
 */
export function fromJsonReport(text: string, source = 'JSON report'): SuiteResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ReportFormatError(
      `${source} is not valid JSON (${(e as Error).message}); pass a file written by \`deltascope run --json\` or \`sway run --json\`.`,
      source,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ReportFormatError(
      `${source} is not a report: expected a JSON object at the top level.`,
      source,
    );
  }
  const r = parsed as Record<string, unknown>;
  const version = r.schema_version;
  if (typeof version === 'number' && version > REPORT_SCHEMA_VERSION) {
    throw new ReportFormatError(
      `${source} has schema_version ${version}; this deltascope reads up to ${REPORT_SCHEMA_VERSION}. Upgrade deltascope to read it.`,
      source,
    );
  }
  const det = rec(r.determinism);
  const score = rec(r.score);
  const statsIn = rec(r.backend_stats);
  const hasStats = STATS_KEYS.some((k) => typeof statsIn[k] === 'number');
  // sway's score always has an overall (0.0 with no scored probe); older reports may carry null.
  const overall = num(score.overall);
  const hygiene = hygieneFromJson(r.prompt_hygiene);
  // Reports from before metrics existed (and sway's) have none; a malformed value is dropped.
  const metrics = runMetricsFromJson(r.metrics);
  const provenance = provenanceFromJson(r.provenance);
  return {
    swayVersion: str(r.sway_version),
    specPath: str(r.spec_path),
    baseModelId: str(r.base_model_id),
    adapterId: str(r.adapter_id),
    startedAt: str(r.started_at),
    finishedAt: str(r.finished_at),
    wallSeconds: num(r.wall_seconds),
    determinism: {
      class: oneOf(det.class, DET_CLASSES, 'best_effort'),
      seed: num(det.seed),
      notes: Array.isArray(det.notes) ? det.notes.filter((n): n is string => typeof n === 'string') : [],
    },
    backendStats: hasStats ? statsFromJson(statsIn) : {},
    score: {
      overall,
      band: oneOf(score.band, BANDS, bandFor(overall)),
      components: { ...ZERO_COMPONENTS, ...categoryNumbers(score.components) },
      weights: { ...DEFAULT_WEIGHTS, ...categoryNumbers(score.weights) },
      findings: Array.isArray(score.findings)
        ? score.findings.filter((f): f is string => typeof f === 'string')
        : [],
    },
    nullStats: rec(r.null_stats),
    ...(hygiene !== undefined ? { hygiene } : {}),
    probes: Array.isArray(r.probes) ? r.probes.map(probeFromJson) : [],
    ...(metrics !== null ? { metrics } : {}),
    ...(provenance !== undefined ? { provenance } : {}),
  };
}
