import type { NullStats, ProbeResult } from '../probes/types.ts';

/** What a probe's z-score was measured against: its null statistics and the raw values behind them. */
export interface NullContext {
  /** The key the statistics live under: the probe's kind, or `<kind>@exact` for `method: exact`. */
  key: string;
  stats: NullStats;
  /** The null adapters' raw values (empty when the calibration did not record them). */
  samples: number[];
}

/** Where a result's null statistics live (the runner's key: `<kind>@exact` under `method: exact`). */
export const nullKeyOf = (r: ProbeResult): string =>
  r.evidence.method === 'exact' ? `${r.kind}@exact` : r.kind;

const isStats = (v: unknown): v is NullStats =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as NullStats).mean === 'number' &&
  typeof (v as NullStats).std === 'number' &&
  typeof (v as NullStats).n === 'number';

const isNumbers = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number');

/**
 * For each result of a run, the null calibration its z-score came from (null where it has no
 * z-score, or no calibration preceded it). As the runner does, statistics accumulate in run order
 * from every earlier result that produced `null_stats` (a `null_adapter`), a later one overriding a
 * kind; its raw samples come from the same result's `per_kind_raw_samples`, under the same keys.
 */
export function nullContexts(rows: readonly ProbeResult[]): (NullContext | null)[] {
  const stats = new Map<string, NullStats>();
  const samples = new Map<string, number[]>();
  return rows.map((r) => {
    let out: NullContext | null = null;
    if (r.zScore !== null && r.raw !== null) {
      const key = nullKeyOf(r);
      const s = stats.get(key);
      if (s !== undefined) out = { key, stats: s, samples: samples.get(key) ?? [] };
    }
    const produced = r.evidence.null_stats;
    if (typeof produced === 'object' && produced !== null) {
      const raws = r.evidence.per_kind_raw_samples as Record<string, unknown> | undefined;
      for (const [key, s] of Object.entries(produced as Record<string, unknown>)) {
        if (!isStats(s)) continue;
        stats.set(key, s);
        const xs = raws?.[key];
        if (isNumbers(xs)) samples.set(key, xs);
        else samples.delete(key);
      }
    }
    return out;
  });
}

/** Three significant digits, no trailing zeros: 0.41, 0.0213, 38.2, 1.5e-7. */
export function fmtSig(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? '∞' : x < 0 ? '−∞' : '—';
  return String(Number(x.toPrecision(3)));
}

/** The text a reader gets for the chart: "raw 0.41 vs null 0.02 ± 0.01 (n=3), z = 38.2". */
export function nullSummary(raw: number, ctx: NullContext, z: number): string {
  return `raw ${fmtSig(raw)} vs null ${fmtSig(ctx.stats.mean)} ± ${fmtSig(ctx.stats.std)} (n=${ctx.stats.n}), z = ${fmtSig(z)}`;
}
