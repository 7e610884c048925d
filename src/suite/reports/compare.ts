import type { Verdict } from '../../probes/types.ts';
import type { Band, SuiteResult } from '../types.ts';

/**
 * Comparing runs (sway's `compare`): N ≥ 2 reports folded into one probe × run matrix. The first run
 * is the baseline; every later run is compared with it. This module owns no IO: the CLI reads the
 * files and the workbench imports them (`labelledReportsFromJson`, strict: a file that is not a
 * report is refused, never read as an empty one) or reads its stored runs, and both hand the
 * results here.
 *
 * The rule (what `compare --fail-on-regression` gates on). A probe of a later run REGRESSED against
 * the baseline when any of these holds (the reason each gives in `regression`):
 * - `verdict`: its verdict is worse than the baseline's (pass → warn → fail/error);
 * - `score`: its score is ≥ the threshold (sway's 0.10) below the baseline's;
 * - `missing`: the baseline has the probe and the later run does not (whatever its verdict was);
 * - `skipped`: the baseline ran it (pass, warn, fail or error) and the later run skipped it;
 * - `no-score`: the baseline has a score and the later run, not skipped, has none (null, NaN);
 * - `new-failure`: it fails or errors in the later run and the baseline has no result for it
 *   (absent, or skipped there).
 * A probe CHANGED when it regressed, or it is present in one run only, or its verdict differs, or it
 * has a score (a raw) in one run only, or |Δscore| ≥ the change tolerance (0.005), or its raw moved
 * by more than RAW_CHANGE_RTOL · max(1, |a|, |b|) — a score clamped at 1.00 can hide a raw going
 * 5 → 50. A raw change alone is a change, never a regression.
 */

/** One run to compare: a report and the name its column carries (a file name, a run's label). */
export interface LabelledReport {
  label: string;
  result: SuiteResult;
}

/**
 * A probe regresses when its score drops by at least this much against the baseline — sway's
 * `DEFAULT_REGRESSION_THRESHOLD` (0.10, on the 0..1 score scale).
 */
export const DEFAULT_REGRESSION_THRESHOLD = 0.1;

/**
 * A score moving less than this is "unchanged": half a unit in the second decimal, so a change
 * counts exactly when the two-decimal score column shows it.
 */
export const DEFAULT_CHANGE_TOLERANCE = 0.005;

/**
 * A raw moving by more than this, relative to max(1, |a|, |b|), is a change: raws have no common
 * scale (a KL, a count, a ratio), so only a relative tolerance that ignores float noise fits all.
 */
export const RAW_CHANGE_RTOL = 1e-9;

/** Floating-point slack for the threshold tests, so a drop of exactly 0.10 counts as 0.10. */
const EPS = 1e-9;

export interface CompareOptions {
  /** Score drop (≥, against the baseline) that makes a regression; default 0.10 as in sway. */
  regressionThreshold?: number;
  /** Score move (≥) that makes a change; default 0.005. */
  changeTolerance?: number;
}

/**
 * How bad a verdict is, for "the verdict got worse". `error` ranks with `fail`. `skip` has no rank:
 * a run that skipped a probe the baseline ran regresses as `skipped`, and a fail or error where the
 * baseline skipped it as `new-failure`.
 */
const VERDICT_RANK: Partial<Record<Verdict, number>> = { pass: 0, warn: 1, fail: 2, error: 2 };

/** Why a cell counts as a regression against the baseline (the rule in the module doc). */
export type RegressionReason = 'verdict' | 'score' | 'missing' | 'skipped' | 'no-score' | 'new-failure';

/** One probe in one run. */
export interface CompareCell {
  /** False when the run has no probe of this name (added, renamed or removed between runs). */
  present: boolean;
  verdict: Verdict | null;
  score: number | null;
  raw: number | null;
  /** score − the baseline's score; null in the baseline column or where either is missing. */
  deltaScore: number | null;
  /** raw − the baseline's raw, likewise. */
  deltaRaw: number | null;
  /**
   * Differs from the baseline: present in one run only, another verdict, a score or a raw in one
   * run only, |Δscore| ≥ the change tolerance, a raw moved beyond RAW_CHANGE_RTOL (relative), or a
   * regression (whatever the two thresholds are set to).
   */
  changed: boolean;
  /** Why this cell regressed against the baseline (empty: it did not; always empty in the baseline). */
  regression: RegressionReason[];
}

/** One probe across every run. */
export interface CompareRow {
  name: string;
  /** The probe's kind, from the first run that has it. */
  kind: string;
  cells: CompareCell[];
  /** Any later run changed against the baseline. */
  changed: boolean;
  /** Any later run regressed against the baseline. */
  regressed: boolean;
}

/** One run's column header and composite score. */
export interface CompareRun {
  label: string;
  finishedAt: string;
  baseModelId: string;
  adapterId: string;
  overall: number;
  band: Band;
  /** overall − the baseline's overall; null for the baseline itself. */
  deltaOverall: number | null;
}

/** A regression, for the list under the matrix and the CLI's exit code. */
export interface Regression {
  probe: string;
  /** The run's index in `runs` (≥ 1: the baseline never regresses against itself). */
  run: number;
  label: string;
  reasons: RegressionReason[];
  fromVerdict: Verdict | null;
  toVerdict: Verdict | null;
  deltaScore: number | null;
}

export interface CompareMatrix {
  runs: CompareRun[];
  /** The baseline's probes in its order, then probes first seen in later runs, in theirs. */
  rows: CompareRow[];
  regressionThreshold: number;
  changeTolerance: number;
  /** Every regression, run by run, worst score drop first within a run. */
  regressions: Regression[];
}

const finite = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

/** A report's probes by name; a repeated name gets ` (2)`, ` (3)`… so no probe is dropped. */
function probesByName(result: SuiteResult): Map<string, SuiteResult['probes'][number]> {
  const out = new Map<string, SuiteResult['probes'][number]>();
  for (const p of result.probes) {
    let key = p.name;
    for (let n = 2; out.has(key); n++) key = `${p.name} (${n})`;
    out.set(key, p);
  }
  return out;
}

/** A raw change beyond float noise: |a − b| > RAW_CHANGE_RTOL · max(1, |a|, |b|). */
export function rawChanged(a: number, b: number): boolean {
  return Math.abs(a - b) > RAW_CHANGE_RTOL * Math.max(1, Math.abs(a), Math.abs(b));
}

const failed = (v: Verdict | null): boolean => v === 'fail' || v === 'error';

function verdictWorse(from: Verdict | null, to: Verdict | null): boolean {
  if (from === null || to === null) return false;
  const a = VERDICT_RANK[from];
  const b = VERDICT_RANK[to];
  return a !== undefined && b !== undefined && b > a;
}

/**
 * Folds N ≥ 2 labelled reports into the matrix. Column order is input order (runs are not sorted);
 * the first is the baseline. Deltas, changes and regressions are all against the baseline — where
 * sway diffs each run with the one before it, a baseline keeps "what changed since the run we
 * trust" readable across a sweep of checkpoints; with two runs the two are the same.
 */
export function buildCompareMatrix(
  reports: readonly LabelledReport[],
  opts: CompareOptions = {},
): CompareMatrix {
  if (reports.length < 2) {
    throw new RangeError(`comparing needs at least two reports, got ${reports.length}`);
  }
  const threshold = opts.regressionThreshold ?? DEFAULT_REGRESSION_THRESHOLD;
  const tolerance = opts.changeTolerance ?? DEFAULT_CHANGE_TOLERANCE;
  const perRun = reports.map((r) => probesByName(r.result));
  const names: string[] = [];
  const seen = new Set<string>();
  for (const run of perRun) {
    for (const name of run.keys()) {
      if (!seen.has(name)) {
        seen.add(name);
        names.push(name);
      }
    }
  }

  const baseOverall = reports[0]!.result.score.overall;
  const runs: CompareRun[] = reports.map((r, i) => ({
    label: r.label,
    finishedAt: r.result.finishedAt,
    baseModelId: r.result.baseModelId,
    adapterId: r.result.adapterId,
    overall: r.result.score.overall,
    band: r.result.score.band,
    deltaOverall: i === 0 ? null : r.result.score.overall - baseOverall,
  }));

  const regressions: Regression[] = [];
  const rows: CompareRow[] = names.map((name) => {
    const probes = perRun.map((run) => run.get(name));
    const base = probes[0];
    const baseScore = finite(base?.score) ? base.score : null;
    const baseRaw = finite(base?.raw) ? base.raw : null;
    const cells = probes.map((p, i): CompareCell => {
      const score = finite(p?.score) ? p.score : null;
      const raw = finite(p?.raw) ? p.raw : null;
      const verdict = p?.verdict ?? null;
      if (i === 0) {
        return {
          present: p !== undefined,
          verdict,
          score,
          raw,
          deltaScore: null,
          deltaRaw: null,
          changed: false,
          regression: [],
        };
      }
      const deltaScore = score !== null && baseScore !== null ? score - baseScore : null;
      const deltaRaw = raw !== null && baseRaw !== null ? raw - baseRaw : null;
      const regression: RegressionReason[] = [];
      const baseVerdict = base?.verdict ?? null;
      if (base !== undefined && p === undefined) {
        regression.push('missing');
      } else if (p !== undefined) {
        if (verdictWorse(baseVerdict, verdict)) regression.push('verdict');
        if (deltaScore !== null && threshold > 0 && deltaScore <= -threshold + EPS) regression.push('score');
        if (base !== undefined && baseVerdict !== 'skip' && verdict === 'skip') regression.push('skipped');
        if (baseScore !== null && score === null && verdict !== 'skip') regression.push('no-score');
        if ((base === undefined || baseVerdict === 'skip') && failed(verdict)) regression.push('new-failure');
      }
      const changed =
        regression.length > 0 ||
        (p !== undefined) !== (base !== undefined) ||
        verdict !== baseVerdict ||
        (score === null) !== (baseScore === null) ||
        (deltaScore !== null && Math.abs(deltaScore) >= tolerance - EPS) ||
        (raw === null) !== (baseRaw === null) ||
        (raw !== null && baseRaw !== null && rawChanged(baseRaw, raw));
      return { present: p !== undefined, verdict, score, raw, deltaScore, deltaRaw, changed, regression };
    });
    return {
      name,
      kind: probes.find((p) => p !== undefined)?.kind ?? '',
      cells,
      changed: cells.some((c) => c.changed),
      regressed: cells.some((c) => c.regression.length > 0),
    };
  });

  for (let i = 1; i < reports.length; i++) {
    const inRun: Regression[] = [];
    for (const row of rows) {
      const c = row.cells[i]!;
      if (c.regression.length === 0) continue;
      inRun.push({
        probe: row.name,
        run: i,
        label: reports[i]!.label,
        reasons: c.regression,
        fromVerdict: row.cells[0]!.verdict,
        toVerdict: c.verdict,
        deltaScore: c.deltaScore,
      });
    }
    inRun.sort((a, b) => (a.deltaScore ?? 0) - (b.deltaScore ?? 0));
    regressions.push(...inRun);
  }

  return { runs, rows, regressionThreshold: threshold, changeTolerance: tolerance, regressions };
}

/** The rows to show: all, or only those that changed against the baseline. */
export function visibleRows(m: CompareMatrix, onlyChanged: boolean): CompareRow[] {
  return onlyChanged ? m.rows.filter((r) => r.changed) : m.rows;
}

/** Labels for the runs' columns, unique: a repeated label gets ` (2)`, ` (3)`… */
export function uniqueLabels(labels: readonly string[]): string[] {
  const used = new Set<string>();
  return labels.map((l) => {
    let out = l === '' ? 'run' : l;
    for (let n = 2; used.has(out); n++) out = `${l || 'run'} (${n})`;
    used.add(out);
    return out;
  });
}

/** The matrix as a plain JSON object (snake_case, as sway's `render_json`). */
export function compareToJsonObject(m: CompareMatrix): Record<string, unknown> {
  return {
    baseline: m.runs[0]!.label,
    regression_threshold: m.regressionThreshold,
    change_tolerance: m.changeTolerance,
    runs: m.runs.map((r) => ({
      label: r.label,
      finished_at: r.finishedAt,
      base_model_id: r.baseModelId,
      adapter_id: r.adapterId,
      overall: r.overall,
      band: r.band,
      delta_overall: r.deltaOverall,
    })),
    probes: m.rows.map((row) => ({
      name: row.name,
      kind: row.kind,
      changed: row.changed,
      regressed: row.regressed,
      cells: row.cells.map((c) => ({
        present: c.present,
        verdict: c.verdict,
        score: c.score,
        raw: c.raw,
        delta_score: c.deltaScore,
        delta_raw: c.deltaRaw,
        changed: c.changed,
        regression: c.regression,
      })),
    })),
    regressions: m.regressions.map((r) => ({
      probe: r.probe,
      run: r.label,
      reasons: r.reasons,
      from_verdict: r.fromVerdict,
      to_verdict: r.toVerdict,
      delta_score: r.deltaScore,
    })),
  };
}
