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
} from './format.ts';

/** A table cell: pipes escaped and line breaks flattened, so a message cannot break the table. */
export function mdCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function backendLine(stats: SuiteResult['backendStats']): string {
  if (!('forward_passes' in stats)) return cacheSummary(stats);
  return `${cacheSummary(stats)} | forward passes: ${stats.forward_passes} | scoring: ${fmtDuration(stats.scoring_wall_s)}`;
}

const row = (cells: string[]) => `| ${cells.map(mdCell).join(' | ')} |`;

/**
 * sway's markdown report: summary lines (Overall, Base, Adapter, Wall, Determinism, Backend), the
 * Components and Probes tables, Top findings and Skipped probes.
 */
export function toMarkdownReport(r: SuiteResult): string {
  const s = r.score;
  const out: string[] = [
    `# deltascope report${r.swayVersion ? ` (${r.swayVersion})` : ''}`,
    '',
    `- **Overall:** ${fmtScore(s.overall)}${s.band !== null ? ` (${s.band})` : ''}`,
    `- **Base:** \`${r.baseModelId || MISSING}\``,
    `- **Adapter:** \`${r.adapterId || MISSING}\``,
    `- **Wall:** ${fmtDuration(r.wallSeconds)}`,
    `- **Determinism:** ${determinismSummary(r.determinism)}`,
    `- **Backend:** ${backendLine(r.backendStats)}`,
    '',
    '## Components',
    '',
    row(['category', 'score', 'weight']),
    '| --- | ---: | ---: |',
  ];
  for (const cat of CATEGORIES) {
    const score = s.components[cat];
    if (score === undefined) continue;
    out.push(row([cat, fmtScore(score), pyFixed(s.weights[cat] ?? 0, 2)]));
  }
  out.push(
    '',
    '## Probes',
    '',
    row(['name', 'kind', 'verdict', 'score', 'raw', 'ci95', 'z', 'duration', 'note']),
    '| --- | --- | --- | ---: | ---: | --- | ---: | ---: | --- |',
  );
  for (const p of r.probes) {
    out.push(
      row([
        p.name,
        p.kind,
        p.verdict.toUpperCase(),
        fmtScore(p.score),
        fmtRaw(p.raw),
        fmtCi(p.ci95),
        fmtZ(p.zScore),
        fmtDuration(p.durationS),
        p.message,
      ]),
    );
  }
  out.push('', '## Top findings', '');
  if (s.findings.length === 0) out.push('- none');
  for (const f of s.findings) out.push(`- ${f.replace(/\r?\n/g, ' ')}`);
  const skipped = r.probes.filter((p) => p.verdict === 'skip');
  if (skipped.length > 0) {
    out.push('', '## Skipped probes', '');
    for (const p of skipped)
      out.push(`- \`${p.name}\` (${p.kind}): ${p.message.replace(/\r?\n/g, ' ') || MISSING}`);
  }
  return out.join('\n') + '\n';
}
