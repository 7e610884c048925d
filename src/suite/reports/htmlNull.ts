import type { ProbeResult } from '../../probes/types.ts';
import type { SuiteResult } from '../types.ts';
import { fmtRaw, fmtZ } from './format.ts';
import { esc, figure, jsonNumber, keyed, nullStripSvg, sig, table } from './htmlSvg.ts';

/** The null statistics a probe's z-score was measured against, and the raw samples behind them. */
export interface Calibration {
  key: string;
  mean: number;
  std: number;
  n: number;
  samples: number[];
  /** Where the statistics came from: the null_adapter's index, for `data-key`s. */
  from: number;
}

const isStats = (v: unknown): v is { mean: number; std: number; n: number } =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { mean: unknown }).mean === 'number' &&
  typeof (v as { std: unknown }).std === 'number' &&
  typeof (v as { n: unknown }).n === 'number';

/**
 * For each probe, the null calibration its z-score was measured against (the workbench's rule,
 * ui/nullCalibration.ts): statistics accumulate in run order from each result that produced
 * `null_stats`, keyed by kind (`<kind>@exact` under `method: exact`), with that result's raw samples.
 */
export function calibrations(probes: readonly ProbeResult[]): (Calibration | null)[] {
  const known = new Map<string, Calibration>();
  return probes.map((p, i) => {
    let out: Calibration | null = null;
    if (p.zScore !== null && p.raw !== null) {
      out = known.get(p.evidence.method === 'exact' ? `${p.kind}@exact` : p.kind) ?? null;
    }
    const produced = p.evidence.null_stats;
    if (typeof produced === 'object' && produced !== null) {
      const raws = p.evidence.per_kind_raw_samples as Record<string, unknown> | undefined;
      for (const [key, s] of Object.entries(produced as Record<string, unknown>)) {
        if (!isStats(s)) continue;
        const xs = raws?.[key];
        const samples = Array.isArray(xs) && xs.every((x) => typeof x === 'number') ? (xs as number[]) : [];
        known.set(key, { key, mean: s.mean, std: s.std, n: s.n, samples, from: i });
      }
    }
    return out;
  });
}

export const nullLabel = (raw: number, c: Calibration, z: number): string =>
  `raw ${sig(raw)} vs null ${sig(c.mean)} ± ${sig(c.std)} (n=${c.n}), z = ${sig(z)}`;

export function nullCalibrationHtml(r: SuiteResult, cals: (Calibration | null)[]): string {
  const figures = r.probes
    .map((p, i) => {
      const c = cals[i];
      if (c === null || c === undefined || p.raw === null || p.zScore === null) return '';
      const src = `probes.${c.from}.evidence`;
      const rows = [
        ...c.samples.map((v, j) => [
          `<td>null sample ${j + 1}</td>`,
          keyed(`${src}.per_kind_raw_samples.${c.key}.${j}`, v, jsonNumber(v)),
        ]),
        [`<td>null mean</td>`, keyed(`${src}.null_stats.${c.key}.mean`, c.mean, jsonNumber(c.mean))],
        [`<td>null std</td>`, keyed(`${src}.null_stats.${c.key}.std`, c.std, jsonNumber(c.std))],
        [`<td>null n</td>`, keyed(`${src}.null_stats.${c.key}.n`, c.n, String(c.n))],
        [`<td>${esc(p.name)} raw</td>`, keyed(`probes.${i}.raw`, p.raw, fmtRaw(p.raw))],
        [`<td>${esc(p.name)} z</td>`, keyed(`probes.${i}.z_score`, p.zScore, fmtZ(p.zScore))],
      ];
      return figure(
        `fig-null-${i}`,
        `${p.name}: raw value (red) against the null distribution of ${c.key} (dots: null adapters; band: mean ± std). ${nullLabel(p.raw, c, p.zScore)}.`,
        nullStripSvg(p.raw, c.mean, c.std, c.samples, nullLabel(p.raw, c, p.zScore), 420),
        table(['', 'value'], rows, { cls: 'kv', numeric: [false, true] }),
      );
    })
    .join('');
  const stats = Object.entries(r.nullStats).filter(([, s]) => isStats(s)) as [
    string,
    { mean: number; std: number; n: number },
  ][];
  const statsTable =
    stats.length === 0
      ? ''
      : table(
          ['kind', 'mean', 'std', 'n'],
          stats.map(([kind, s]) => [
            `<td><code>${esc(kind)}</code></td>`,
            keyed(`null_stats.${kind}.mean`, s.mean, jsonNumber(s.mean)),
            keyed(`null_stats.${kind}.std`, s.std, jsonNumber(s.std)),
            keyed(`null_stats.${kind}.n`, s.n, String(s.n)),
          ]),
          {
            caption: 'Null statistics the z-scores were measured against',
            numeric: [false, true, true, true],
          },
        );
  if (figures === '' && statsTable === '') {
    return '<p class="empty">No z-scores: no null calibration ran (null_adapter needs a base + adapter pair; it SKIPs on a merged pair).</p>';
  }
  return statsTable + figures;
}
