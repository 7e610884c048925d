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
 */
import { DeltascopeError } from '../core/errors.ts';
import { sha1Hex } from '../core/promptHash.ts';
import { sortedJsonValue } from '../core/sortedJson.ts';
import { ReportFormatError, fromJsonReport, reportToJsonObject } from './reports/json.ts';
import { SweepSpecError, type SweepSpec } from './sweepSpec.ts';
import type { SuiteResult, SuiteSpec } from './types.ts';

export const SWEEP_SCHEMA = 'deltascope.sweep';
export const SWEEP_SCHEMA_VERSION = 1;

/** One adapter of the sweep, resolved. */
export interface SweepAdapter {
  index: number;
  label: string;
  /** As written (a folder relative to the spec, or `<hub id>@<revision>`): what reports name. */
  ref: string;
  /** Where to open it: a folder (absolute path on this machine) or a hub repo. */
  location: { kind: 'dir'; path: string } | { kind: 'hub'; id: string; revision?: string };
}

/** A sweep ready to run: the suite, the base and every adapter, with the sweep's identity. */
export interface SweepPlan {
  specPath: string;
  identity: string;
  base: string;
  baseRevision: string | null;
  dtype: SweepSpec['dtype'];
  seed: number;
  /** The suite with the sweep's seed; its models are set per adapter (`suiteForAdapter`). */
  suite: SuiteSpec;
  /** The suite file as written in the sweep spec; null for an inline suite. */
  suitePath: string | null;
  adapters: SweepAdapter[];
}

/** Which shard of how many (1-based index). */
export interface Shard {
  index: number;
  count: number;
}

// ---------------------------------------------------------------------------------------------------
// Order and globs

const CHUNK = /(\d+)|(\D+)/g;

/**
 * Natural order: digit runs compare as numbers (checkpoint-9 before checkpoint-10), the rest as
 * text; equal up to leading zeros falls back to plain comparison, so the order is total.
 */
export function naturalCompare(a: string, b: string): number {
  const x = a.match(CHUNK) ?? [];
  const y = b.match(CHUNK) ?? [];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i]!;
    const q = y[i]!;
    const pn = /^\d/.test(p);
    const qn = /^\d/.test(q);
    if (pn && qn) {
      const d = BigInt(p) - BigInt(q);
      if (d !== 0n) return d < 0n ? -1 : 1;
    } else if (p !== q) return p < q ? -1 : 1;
  }
  if (x.length !== y.length) return x.length - y.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A glob's last part (`*` any run, `?` one character, nothing else special) as a whole-name RegExp. */
export function globPattern(part: string): RegExp {
  const body = [...part]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'su');
}

/** What glob expansion needs of a file system (Node passes `fs`; tests a table). */
export interface FolderLister {
  /** The folder's entries that are folders; null when the folder does not exist. */
  subfolders(dir: string): string[] | null;
  /** Whether `dir` holds an adapter (`adapter_config.json`). */
  isAdapter(dir: string): boolean;
}

const join = (dir: string, name: string): string =>
  dir === '' ? name : `${dir.replace(/\/+$/, '')}/${name}`;

/**
 * The sweep's adapters in order: entries as written, each glob replaced by the matching folders that
 * hold an adapter, in natural order. Paths stay relative to `specDir` in `ref`; `resolvePath` makes
 * the location. A glob matching nothing and a label used twice are refused, naming the spec line.
 */
export function expandAdapters(
  spec: SweepSpec,
  specPath: string,
  lister: FolderLister,
  resolvePath: (relative: string) => string,
): SweepAdapter[] {
  const out: Omit<SweepAdapter, 'index'>[] = [];
  const lines: number[] = [];
  const problem = (line: number, path: string, message: string): never => {
    throw new SweepSpecError(specPath, [{ path, line, column: 1, message }]);
  };
  spec.adapters.forEach((e, i) => {
    if (e.glob !== undefined) {
      const trimmed = e.glob.replace(/\/+$/, '');
      const cut = trimmed.lastIndexOf('/');
      const dir = cut < 0 ? '' : trimmed.slice(0, cut);
      const pattern = globPattern(trimmed.slice(cut + 1));
      const names = lister.subfolders(resolvePath(dir === '' ? '.' : dir));
      const matches = (names ?? [])
        .filter((n) => pattern.test(n) && lister.isAdapter(resolvePath(join(dir, n))))
        .sort(naturalCompare);
      if (matches.length === 0)
        problem(
          e.line,
          `adapters[${i}].glob`,
          `"${e.glob}" matches no folder holding adapter_config.json` +
            (names === null ? ` (${dir || '.'} does not exist)` : ''),
        );
      for (const n of matches) {
        const ref = join(dir, n);
        out.push({ label: n, ref, location: { kind: 'dir', path: resolvePath(ref) } });
        lines.push(e.line);
      }
    } else if (e.path !== undefined) {
      const label = e.name ?? (e.path.replace(/\/+$/, '').split('/').at(-1) || e.path);
      out.push({ label, ref: e.path, location: { kind: 'dir', path: resolvePath(e.path) } });
      lines.push(e.line);
    } else {
      const id = e.hub!;
      const ref = e.revision !== undefined ? `${id}@${e.revision}` : id;
      out.push({
        label: e.name ?? ref,
        ref,
        location: { kind: 'hub', id, ...(e.revision !== undefined ? { revision: e.revision } : {}) },
      });
      lines.push(e.line);
    }
  });
  const seen = new Map<string, number>();
  out.forEach((a, i) => {
    const first = seen.get(a.label);
    if (first !== undefined)
      problem(
        lines[i]!,
        'adapters',
        `two adapters are labelled "${a.label}" (${out[first]!.ref} and ${a.ref}); labels name results and must be unique — give one a name`,
      );
    seen.set(a.label, i);
  });
  return out.map((a, index) => ({ index, ...a }));
}

// ---------------------------------------------------------------------------------------------------
// Plan, identity and shards

/** The suite with the sweep's seed applied (the spec's `seed` over the suite's `defaults.seed`). */
function seeded(suite: SuiteSpec, seed: number | null): SuiteSpec {
  return seed === null ? suite : { ...suite, defaults: { ...suite.defaults, seed } };
}

/** The plan for a parsed spec, its suite (read by the caller when it is a file) and its adapters. */
export function sweepPlan(
  spec: SweepSpec,
  specPath: string,
  suite: SuiteSpec,
  adapters: SweepAdapter[],
): SweepPlan {
  const s = seeded(suite, spec.seed);
  const identity = sha1Hex(
    new TextEncoder().encode(
      JSON.stringify(
        sortedJsonValue({
          base: spec.base,
          base_revision: spec.baseRevision,
          dtype: spec.dtype,
          suite: { defaults: s.defaults, probes: s.suite, hygiene: s.hygiene ?? null, dlm: s.dlm_source },
          adapters: adapters.map((a) => ({ label: a.label, ref: a.ref })),
        }),
      ),
    ),
  );
  return {
    specPath,
    identity,
    base: spec.base,
    baseRevision: spec.baseRevision,
    dtype: spec.dtype,
    seed: s.defaults.seed,
    suite: s,
    suitePath: 'path' in spec.suite ? spec.suite.path : null,
    adapters,
  };
}

/** The suite spec for one adapter: base and ft are the sweep's base, ft with the adapter on it. */
export function suiteForAdapter(plan: SweepPlan, adapter: SweepAdapter): SuiteSpec {
  const model = {
    kind: 'hf' as const,
    base: plan.base,
    adapter: null,
    dtype: plan.dtype,
    device: 'auto',
    trust_remote_code: false,
    entry_point: null,
    endpoint: null,
  };
  return { ...plan.suite, models: { base: model, ft: { ...model, adapter: adapter.ref } } };
}

/** Parses `i/n` (1 ≤ i ≤ n); null when malformed. */
export function parseShard(text: string): Shard | null {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (m === null) return null;
  const index = Number(m[1]);
  const count = Number(m[2]);
  return count >= 1 && index >= 1 && index <= count ? { index, count } : null;
}

/** The indices shard `index`/`count` runs out of `total` adapters: round robin (index ≡ i − 1 mod n). */
export function shardIndices(total: number, shard: Shard): number[] {
  const out: number[] = [];
  for (let i = shard.index - 1; i < total; i += shard.count) out.push(i);
  return out;
}

/** The shard that holds adapter `index` among `count`. */
export const shardOf = (index: number, count: number): number => (index % count) + 1;

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
    /** Every adapter of the sweep (not only this shard's), in order. */
    adapters: { index: number; label: string; ref: string }[];
  };
  runs: SweepRun[];
  /** By index; a shard's holds its adapters only. */
  results: SweepResultEntry[];
}

/** The sweep section of a report for `plan`. */
export function sweepHeader(plan: SweepPlan): SweepReport['sweep'] {
  return {
    spec_path: plan.specPath,
    identity: plan.identity,
    base: plan.base,
    base_revision: plan.baseRevision,
    dtype: plan.dtype,
    seed: plan.seed,
    suite_path: plan.suitePath,
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
  (parsed.results as unknown[]).forEach((r, i) => {
    if (
      !isRecord(r) ||
      typeof r.index !== 'number' ||
      !Number.isInteger(r.index) ||
      r.index < 0 ||
      r.index >= adapters.length ||
      !isRecord(r.report)
    )
      bad(`results[${i}] has no valid index or report`);
  });
  return parsed as unknown as SweepReport;
}

/** A sweep report file to merge: its text and the name errors should use. */
export interface SweepFile {
  source: string;
  report: SweepReport;
}

/**
 * Joins shard reports of one sweep into one, results ordered by index. Refuses (input/invalid,
 * naming the files and adapters) reports of different sweeps, an adapter in two reports, and
 * adapters that no report holds.
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
    throw new DeltascopeError(
      'input/invalid',
      `${missing.length} of ${adapters.length} adapters have no result in these reports: ` +
        missing
          .slice(0, 10)
          .map((a) => `"${a.label}" (index ${a.index}${where(a.index)})`)
          .join(', ') +
        (missing.length > 10 ? ` and ${missing.length - 10} more` : '') +
        '; pass every shard’s report (or run the missing shards).',
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
