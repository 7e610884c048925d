import { CATEGORIES } from '../../probes/types.ts';
import type { SuiteResult } from '../types.ts';
import {
  MISSING,
  pyFixed,
  cacheSummary,
  determinismSummary,
  fmtCi,
  fmtDuration,
  fmtRaw,
  fmtScore,
  fmtZ,
  scoreBar,
} from './format.ts';

/** Columns padded to their widest cell; `right` marks the numeric columns. The last column is not padded. */
function table(header: string[], rows: string[][], right: boolean[], indent = '  '): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    indent +
    cells
      .map((c, i) =>
        i === cells.length - 1 && !right[i] ? c : right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!),
      )
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/**
 * The plain-text report for a terminal (sway's rich report without colour): header, overall score
 * and band, the component table with 10-character bars, one row per probe, findings, and the footer
 * `wall | version | det: class (seed=…) | cache: hits/total = pct%[ | batches: K (avg=X.X)]`.
 */
export function toTerminalReport(r: SuiteResult): string {
  const s = r.score;
  const out: string[] = [
    `deltascope report${r.specPath ? `: ${r.specPath}` : ''}`,
    `base:    ${r.baseModelId || MISSING}`,
    `adapter: ${r.adapterId || MISSING}`,
    '',
    `overall: ${fmtScore(s.overall)}${s.band !== null ? ` (${s.band})` : ''}`,
    '',
  ];
  const compRows: string[][] = [];
  for (const cat of CATEGORIES) {
    const score = s.components[cat];
    if (score === undefined) continue;
    const w = s.weights[cat] ?? 0;
    compRows.push([
      cat,
      fmtScore(score),
      scoreBar(score),
      cat === 'baseline' || w === 0 ? `(informational, weight=${w === 0 ? 0 : w})` : pyFixed(w, 2),
    ]);
  }
  if (compRows.length > 0)
    out.push(...table(['category', 'score', 'bar', 'weight'], compRows, [false, true, false, false]), '');
  const probeRows = r.probes.map((p) => [
    p.name,
    p.kind,
    p.verdict.toUpperCase(),
    fmtScore(p.score),
    fmtRaw(p.raw),
    fmtCi(p.ci95),
    fmtZ(p.zScore),
    p.message.replace(/\r?\n/g, ' '),
  ]);
  out.push(
    ...table(['name', 'kind', 'verdict', 'score', 'raw', 'ci95', 'z', 'note'], probeRows, [
      false,
      false,
      false,
      true,
      true,
      false,
      true,
      false,
    ]),
    '',
  );
  if (s.findings.length > 0) {
    out.push('findings:', ...s.findings.map((f) => `  - ${f.replace(/\r?\n/g, ' ')}`), '');
  }
  out.push(
    [
      `wall ${fmtDuration(r.wallSeconds)}`,
      r.swayVersion || MISSING,
      `det: ${determinismSummary(r.determinism)}`,
      cacheSummary(r.backendStats),
    ].join(' | '),
  );
  return out.join('\n') + '\n';
}
