/**
 * A sweep: one suite run on each of many adapters over one base (every checkpoint of a training run),
 * split into shards that run on as many machines as a scheduler has, and merged back into one report.
 *
 *  - Order: adapters keep the spec's order, a glob's matches in natural order (`naturalCompare`); an
 *    adapter's `index` (0-based) is its place in that list, the same on every machine.
 *  - Shards: shard i of n (1-based) runs the adapters whose index ≡ i − 1 (mod n) — round robin,
 *    so checkpoints of one run (which cost about the same) spread evenly and shard sizes differ by
 *    at most one. `shardIndices` is the one definition.
 *  - Identity: a hash of everything that decides the numbers — base, dtype, seed, the suite (its
 *    probes, defaults and hygiene, not its file name) and the adapter list as written (labels and
 *    paths relative to the spec, so the same spec checked out anywhere has the same identity).
 *    `merge` joins only shards of one identity.
 *  - Reports: a shard's report carries the sweep (identity and every adapter's label, so a merge can
 *    name what is missing), one `runs` entry (which shard, when, how each adapter was loaded) and
 *    per adapter its full suite report (`reportToJsonObject`). A merged report has the same shape
 *    with every shard's run; its `results` are ordered by index and equal an unsharded run's, timing
 *    and timestamps aside.
 *  - Failures: an adapter that cannot be loaded or run is listed in its run's `failed` (index,
 *    label, error code and message) and has no result; the shard goes on with the next one and
 *    its report is written all the same. `merge` names it with its shard and error.
 *  - Same bytes, same code: the identity hashes the base as written, so `merge` also compares the
 *    SHA-256 of the base's files in each result's provenance, and the deltascope version of each
 *    run, and refuses shards that differ (see `checkSameModelAndVersion`).
 */
import { DeltascopeError } from '../core/errors.ts';
import { sortedJsonValue } from '../core/sortedJson.ts';
import { ReportFormatError, fromJsonReport, reportToJsonObject } from './reports/json.ts';
import { shardOf, type Shard, type SweepAdapter, type SweepPlan } from './sweepPlan.ts';
import type { SuiteResult } from './types.ts';

export * from './sweepPlan.ts';

export const SWEEP_SCHEMA = 'deltascope.sweep';
export const SWEEP_SCHEMA_VERSION = 1;

// ---------------------------------------------------------------------------------------------------
// Reports

/** How an adapter got onto the base on its machine. */
export type AdapterLoad = 'loaded' | 'swapped' | 'reloaded';

export interface SweepRun {
  shard: Shard;
  /** The indices this shard was assigned. */
  adapters: number[];
  started_at: string;
  finished_at: string;
  deltascope_version: string;
  device: string | null;
  /** Per adapter, how it was put on the base and how long that took (ms). */
  loads: { index: number; how: AdapterLoad; ms: number }[];
  /**
   * The adapters of this shard that failed (their folder unreadable or half written, a load or
   * suite error): no result for them; a merge names them with their error. Absent when none did.
   */
  failed?: SweepFailure[];
}

/** An adapter that gave no result on its shard, and why. */
export interface SweepFailure {
  index: number;
  label: string;
  /** The error's code (`model-load/…`, `internal`, …) and message. */
  code: string;
  message: string;
}

export interface SweepResultEntry {
  index: number;
  label: string;
  ref: string;
  /** The adapter's suite report, as `deltascope run --json` writes it (keys sorted). */
  report: Record<string, unknown>;
}

/** A sweep report (one shard's, or merged). */
export interface SweepReport {
  schema: typeof SWEEP_SCHEMA;
  schema_version: number;
  sweep: {
    spec_path: string;
    identity: string;
    base: string;
    base_revision: string | null;
    dtype: string;
    seed: number;
    suite_path: string | null;
    /**
     * SHA-256 of the suite file's text as read (null for an inline suite, whose text is the sweep
     * spec's). Each result's provenance carries the sweep spec's hash; this one pins the suite it
     * points to. Absent in reports written before it was added.
     */
    suite_sha256?: string | null;
    /** Every adapter of the sweep (not only this shard's), in order. */
    adapters: { index: number; label: string; ref: string }[];
  };
  runs: SweepRun[];
  /** By index; a shard's holds its adapters only. */
  results: SweepResultEntry[];
}

/** The sweep section of a report for `plan`; `suiteSha256`: the suite file's hash (null inline). */
export function sweepHeader(plan: SweepPlan, suiteSha256: string | null = null): SweepReport['sweep'] {
  return {
    spec_path: plan.specPath,
    identity: plan.identity,
    base: plan.base,
    base_revision: plan.baseRevision,
    dtype: plan.dtype,
    seed: plan.seed,
    suite_path: plan.suitePath,
    suite_sha256: suiteSha256,
    adapters: plan.adapters.map((a) => ({ index: a.index, label: a.label, ref: a.ref })),
  };
}

/** One adapter's result entry (its suite report as the JSON report writes it). */
export function resultEntry(adapter: SweepAdapter, result: SuiteResult): SweepResultEntry {
  return {
    index: adapter.index,
    label: adapter.label,
    ref: adapter.ref,
    report: sortedJsonValue(reportToJsonObject(result)) as Record<string, unknown>,
  };
}

export function toSweepJson(report: SweepReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a sweep report back, checking what a merge relies on (schema, identity, the adapter list,
 * each result's index and label); a suite report's own fields are read leniently later.
 */
export function readSweepReport(text: string, source: string): SweepReport {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ReportFormatError(
      `${source} is not valid JSON (${(e as Error).message}); pass files written by \`deltascope sweep --json\`.`,
      source,
    );
  }
  const bad = (what: string): never => {
    throw new ReportFormatError(
      `${source} is not a sweep report (${what}); pass files written by \`deltascope sweep --json\` or \`deltascope merge\`.`,
      source,
    );
  };
  if (!isRecord(parsed) || parsed.schema !== SWEEP_SCHEMA) return bad(`no "schema": "${SWEEP_SCHEMA}"`);
  const version = parsed.schema_version;
  if (typeof version !== 'number' || version > SWEEP_SCHEMA_VERSION)
    throw new ReportFormatError(
      `${source} has sweep schema_version ${String(version)}; this deltascope reads up to ${SWEEP_SCHEMA_VERSION}. Upgrade deltascope to read it.`,
      source,
    );
  const sweep = parsed.sweep;
  if (!isRecord(sweep) || typeof sweep.identity !== 'string' || !Array.isArray(sweep.adapters))
    return bad('no sweep identity or adapter list');
  const adapters = sweep.adapters as unknown[];
  adapters.forEach((a, i) => {
    if (!isRecord(a) || a.index !== i || typeof a.label !== 'string')
      bad(`sweep.adapters[${i}] is malformed`);
  });
  if (!Array.isArray(parsed.runs) || !Array.isArray(parsed.results)) return bad('no runs or results');
  const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;
  const isIndex = (v: unknown): boolean =>
    typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < adapters.length;
  (parsed.runs as unknown[]).forEach((r, i) => {
    if (!isRecord(r)) return bad(`runs[${i}] is not an object`);
    const shard = r.shard;
    if (!isRecord(shard) || !isCount(shard.index) || !isCount(shard.count) || shard.index > shard.count)
      return bad(`runs[${i}].shard is not {index, count} with 1 ≤ index ≤ count`);
    if (r.device !== null && typeof r.device !== 'string')
      return bad(`runs[${i}].device is not a string or null`);
    if (typeof r.deltascope_version !== 'string') return bad(`runs[${i}].deltascope_version is not a string`);
    if (!Array.isArray(r.adapters) || !r.adapters.every(isIndex))
      return bad(`runs[${i}].adapters is not a list of adapter indices`);
    if (!Array.isArray(r.loads)) return bad(`runs[${i}].loads is not a list`);
    if (r.failed !== undefined) {
      if (!Array.isArray(r.failed)) return bad(`runs[${i}].failed is not a list`);
      (r.failed as unknown[]).forEach((f, j) => {
        if (
          !isRecord(f) ||
          !isIndex(f.index) ||
          typeof f.label !== 'string' ||
          typeof f.code !== 'string' ||
          typeof f.message !== 'string'
        )
          bad(`runs[${i}].failed[${j}] has no valid index, label, code and message`);
      });
    }
    return undefined;
  });
  (parsed.results as unknown[]).forEach((r, i) => {
    if (
      !isRecord(r) ||
      typeof r.index !== 'number' ||
      !Number.isInteger(r.index) ||
      r.index < 0 ||
      r.index >= adapters.length ||
      typeof r.label !== 'string' ||
      !isRecord(r.report)
    )
      bad(`results[${i}] has no valid index, label or report`);
  });
  return parsed as unknown as SweepReport;
}

/** A sweep report file to merge: its text and the name errors should use. */
export interface SweepFile {
  source: string;
  report: SweepReport;
}

/** A result's base model files as its provenance lists them: path → SHA-256 (empty if none). */
function baseFileHashes(entry: SweepResultEntry): Map<string, string> {
  const prov = entry.report.provenance;
  const files = isRecord(prov) && Array.isArray(prov.files) ? (prov.files as unknown[]) : [];
  const out = new Map<string, string>();
  for (const f of files)
    if (isRecord(f) && f.role === 'base' && typeof f.path === 'string' && typeof f.sha256 === 'string')
      out.set(f.path, f.sha256);
  return out;
}

/**
 * Refuses shards that cannot add up to one run: another deltascope version (scoring may differ
 * between versions, so the merged numbers would not be an unsharded run's), or another base model
 * (the identity hashes the base as written — a path or hub id —, not its bytes: a base retrained
 * in place, or a different copy on one machine, shows in the SHA-256 of its files in each result's
 * provenance). Files hashed in one result and not in another are not compared.
 */
function checkSameModelAndVersion(files: readonly SweepFile[]): void {
  let version: { source: string; version: string } | null = null;
  for (const f of files)
    for (const run of f.report.runs) {
      if (version === null) version = { source: f.source, version: run.deltascope_version };
      else if (run.deltascope_version !== version.version)
        throw new DeltascopeError(
          'input/invalid',
          `${f.source} was written by deltascope ${run.deltascope_version} and ${version.source} by ${version.version}; ` +
            'scores may differ between versions, so shards of one sweep must run the same deltascope (rerun the older shards).',
          { input: f.source },
        );
    }
  const seen = new Map<string, { source: string; label: string; sha256: string }>();
  for (const f of files)
    for (const r of f.report.results)
      for (const [path, sha256] of baseFileHashes(r)) {
        const held = seen.get(path);
        if (held === undefined) seen.set(path, { source: f.source, label: r.label, sha256 });
        else if (held.sha256 !== sha256)
          throw new DeltascopeError(
            'input/invalid',
            `${held.source} and ${f.source} ran on different base models: the base's ${path} has SHA-256 ` +
              `${held.sha256.slice(0, 12)}… for "${held.label}" and ${sha256.slice(0, 12)}… for "${r.label}"; ` +
              'rerun the shards on one copy of the base.',
            { input: f.source, details: { file: path } },
          );
      }
}

/**
 * Joins shard reports of one sweep into one, results ordered by index. Refuses (input/invalid,
 * naming the files and adapters) reports of different sweeps, of different deltascope versions or
 * base model bytes (`checkSameModelAndVersion`), an adapter in two reports, and adapters that no
 * report holds (an adapter that failed on its shard is named with the shard and its error).
 */
export function mergeSweepReports(files: readonly SweepFile[]): SweepReport {
  if (files.length === 0) throw new DeltascopeError('input/invalid', 'merge needs at least one sweep report');
  const first = files[0]!;
  const others = files.filter((f) => f.report.sweep.identity !== first.report.sweep.identity);
  if (others.length > 0)
    throw new DeltascopeError(
      'input/invalid',
      `${others.map((f) => f.source).join(', ')} ${others.length === 1 ? 'is' : 'are'} from another sweep than ${first.source} ` +
        `(sweep identity ${others[0]!.report.sweep.identity.slice(0, 12)} vs ${first.report.sweep.identity.slice(0, 12)}: ` +
        'the base, dtype, seed, suite or adapter list differ); merge the shards of one sweep spec only.',
      { input: others[0]!.source },
    );
  checkSameModelAndVersion(files);
  const adapters = first.report.sweep.adapters;
  const owner = new Map<number, string>();
  const results: SweepResultEntry[] = [];
  for (const f of files) {
    for (const r of f.report.results) {
      const held = owner.get(r.index);
      if (held !== undefined)
        throw new DeltascopeError(
          'input/invalid',
          `adapter "${adapters[r.index]?.label ?? r.index}" (index ${r.index}) is in both ${held} and ${f.source}; ` +
            'pass each shard once (a shard run twice, or shards of different --shard counts?).',
          { input: f.source },
        );
      owner.set(r.index, f.source);
      results.push(r);
    }
  }
  const missing = adapters.filter((a) => !owner.has(a.index));
  if (missing.length > 0) {
    const counts = [...new Set(files.flatMap((f) => f.report.runs.map((r) => r.shard.count)))];
    const where = (i: number) =>
      counts.length === 1 ? `, shard ${shardOf(i, counts[0]!)}/${counts[0]}` : '';
    const failures = new Map<number, { source: string; shard: Shard; failure: SweepFailure }>();
    for (const f of files)
      for (const run of f.report.runs)
        for (const failure of run.failed ?? [])
          failures.set(failure.index, { source: f.source, shard: run.shard, failure });
    const about = (a: { index: number; label: string }) => {
      const failed = failures.get(a.index);
      if (failed === undefined) return `"${a.label}" (index ${a.index}${where(a.index)})`;
      const { shard, source, failure } = failed;
      return (
        `"${a.label}" (index ${a.index}) failed on shard ${shard.index}/${shard.count} (${source}) ` +
        `with ${failure.code}: ${failure.message}`
      );
    };
    const anyFailed = missing.some((a) => failures.has(a.index));
    throw new DeltascopeError(
      'input/invalid',
      `${missing.length} of ${adapters.length} adapters have no result in these reports: ` +
        missing.slice(0, 10).map(about).join(', ') +
        (missing.length > 10 ? ` and ${missing.length - 10} more` : '') +
        (anyFailed
          ? '; fix what failed and rerun its shard, and pass every shard’s report.'
          : '; pass every shard’s report (or run the missing shards).'),
      { input: missing[0]!.label },
    );
  }
  results.sort((a, b) => a.index - b.index);
  return {
    ...first.report,
    runs: files
      .flatMap((f) => f.report.runs)
      .sort((a, b) => a.shard.count - b.shard.count || a.shard.index - b.shard.index),
    results,
  };
}

// ---------------------------------------------------------------------------------------------------
// For other reports

/** A suite result with the label it goes by (a checkpoint, a run). */
export interface LabelledSuiteResult {
  label: string;
  result: SuiteResult;
}

/**
 * A sweep report as labelled suite results, in adapter order: what `compare` and the HTML report
 * take (score per checkpoint). A shard's report gives its own adapters only.
 */
export function sweepToLabelledResults(sweep: SweepReport): LabelledSuiteResult[] {
  return [...sweep.results]
    .sort((a, b) => a.index - b.index)
    .map((r) => ({
      label: r.label,
      result: fromJsonReport(JSON.stringify(r.report), `sweep result "${r.label}"`),
    }));
}
