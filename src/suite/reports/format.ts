import { pyFixed, type Align } from '../../core/index.ts';
import { CATEGORIES, type Category, type ProbeResult } from '../../probes/types.ts';
import type { SuiteResult } from '../types.ts';

/** What every report shows for a missing value. */
export const MISSING = '—';

const isNum = (x: number | null | undefined): x is number => typeof x === 'number';

/** Python's spelling of non-finite floats, so a broken value reads the same as in sway. */
function nonFinite(x: number): string | null {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return null;
}

export { pyFixed };

/** Python's `,` format option: thousands separators in the integer part of a fixed-point string. */
function groupThousands(fixed: string): string {
  const sign = fixed.startsWith('-') ? '-' : '';
  const body = sign ? fixed.slice(1) : fixed;
  const dot = body.indexOf('.');
  const int = dot === -1 ? body : body.slice(0, dot);
  const frac = dot === -1 ? '' : body.slice(dot);
  return sign + int.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + frac;
}

/** `f"{x:,.{digits}f}"`. */
export function fixedGrouped(x: number, digits: number): string {
  return nonFinite(x) ?? groupThousands(pyFixed(x, digits));
}

/** Score: `.2f`. */
export function fmtScore(x: number | null | undefined): string {
  return isNum(x) ? (nonFinite(x) ?? pyFixed(x, 2)) : MISSING;
}

/** Raw metric: `,.3f`. */
export function fmtRaw(x: number | null | undefined): string {
  return isNum(x) ? fixedGrouped(x, 3) : MISSING;
}

/** z-score: `+,.2f` then σ. */
export function fmtZ(z: number | null | undefined): string {
  if (!isNum(z)) return MISSING;
  const body = fixedGrouped(z, 2);
  return `${body.startsWith('-') || body === 'nan' ? body : `+${body}`}σ`;
}

/** 95% CI: `[lo, hi]` at `.3f`. */
export function fmtCi(ci: readonly [number, number] | null | undefined): string {
  if (ci === null || ci === undefined) return MISSING;
  const f = (v: number) => nonFinite(v) ?? pyFixed(v, 3);
  return `[${f(ci[0])}, ${f(ci[1])}]`;
}

/** Duration in seconds: `.2f` below 10 s, `.1f` below 100 s, else `,.0f`. */
export function fmtDuration(s: number | null | undefined): string {
  if (!isNum(s)) return MISSING;
  const bad = nonFinite(s);
  if (bad !== null) return bad;
  if (s < 10) return `${pyFixed(s, 2)}s`;
  if (s < 100) return `${pyFixed(s, 1)}s`;
  return `${fixedGrouped(s, 0)}s`;
}

/** A 10-character bar for a 0..1 score. */
export function scoreBar(score: number | null | undefined, width = 10): string {
  const filled =
    isNum(score) && Number.isFinite(score) ? Math.round(Math.min(1, Math.max(0, score)) * width) : 0;
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/** sway's footer cache clause: `cache: hits/total = pct%`, then batches only when any were sent. */
export function cacheSummary(stats: SuiteResult['backendStats']): string {
  if (!('cache_hits' in stats)) return 'cache: n/a';
  const total = stats.cache_hits + stats.cache_misses;
  const pct = total === 0 ? 0 : (100 * stats.cache_hits) / total;
  let out = `cache: ${stats.cache_hits}/${total} = ${pyFixed(pct, 0)}%`;
  if (stats.batches_sent > 0)
    out += ` | batches: ${stats.batches_sent} (avg=${pyFixed(stats.avg_batch_size, 1)})`;
  return out;
}

/** sway's probe columns, which both reports start their probe table with. */
export const PROBE_HEADER = ['name', 'kind', 'verdict', 'score', 'raw', 'ci95', 'z'];
export const PROBE_ALIGN: Align[] = ['left', 'left', 'left', 'right', 'right', 'left', 'right'];

/**
 * A suite result's values formatted as sway formats them: what the markdown and terminal reports
 * lay out, each in its own way, so a number reads the same in both.
 */
export interface FormattedReport {
  /** Score and band: `0.61 (healthy)`. */
  overall: string;
  base: string;
  adapter: string;
  wall: string;
  determinism: string;
  cache: string;
  /** Every category, in sway's order. */
  components: { category: Category; score: number; scoreText: string; weight: number; weightText: string }[];
  /** One entry per probe: its `PROBE_HEADER` cells, duration and message. */
  probes: { cells: string[]; duration: string; message: string }[];
}

export function formatReport(r: SuiteResult): FormattedReport {
  const s = r.score;
  return {
    overall: `${fmtScore(s.overall)} (${s.band})`,
    base: r.baseModelId || MISSING,
    adapter: r.adapterId || MISSING,
    wall: fmtDuration(r.wallSeconds),
    determinism: `${r.determinism.class} (seed=${r.determinism.seed})`,
    cache: cacheSummary(r.backendStats),
    components: CATEGORIES.flatMap((category) => {
      const score = s.components[category];
      if (score === undefined) return [];
      const weight = s.weights[category] ?? 0;
      return [{ category, score, scoreText: fmtScore(score), weight, weightText: pyFixed(weight, 2) }];
    }),
    probes: r.probes.map((p: ProbeResult) => ({
      cells: [
        p.name,
        p.kind,
        p.verdict.toUpperCase(),
        fmtScore(p.score),
        fmtRaw(p.raw),
        fmtCi(p.ci95),
        fmtZ(p.zScore),
      ],
      duration: fmtDuration(p.durationS),
      message: p.message,
    })),
  };
}

/** One probe's exact full-vocabulary divergences, as report cells. */
export interface ExactRow {
  name: string;
  kind: string;
  js: string;
  kl: string;
}

const exactCell = (v: unknown): string | null => {
  if (typeof v === 'number') return Number.isFinite(v) ? v.toFixed(4) : v > 0 ? '∞' : MISSING;
  if (Array.isArray(v) && v.length > 0) return v.map((x) => exactCell(x) ?? MISSING).join(' / ');
  return null;
};

/**
 * The exact full-vocabulary divergences the divergence probes put beside sway's raw (`exact_js`,
 * `exact_kl`, or per point of a curve), for the reports' own section after sway's tables.
 */
export function exactRows(r: SuiteResult): ExactRow[] {
  const rows: ExactRow[] = [];
  for (const p of r.probes) {
    const e = p.evidence;
    const js = exactCell(e.exact_js ?? e.exact_js_per_length ?? e.exact_js_per_lambda);
    const kl = exactCell(e.exact_kl ?? e.exact_kl_per_length ?? e.exact_kl_per_lambda);
    if (js !== null || kl !== null)
      rows.push({ name: p.name, kind: p.kind, js: js ?? MISSING, kl: kl ?? MISSING });
  }
  return rows;
}
